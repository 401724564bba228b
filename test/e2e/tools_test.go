package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ggufs/ggufs/synth"
)

// A user's session with ls, stat, cat, dd, getfattr and setfattr.
func TestShellTools(t *testing.T) {
	needTools(t, "ls", "stat", "cat", "dd", "getfattr", "setfattr")
	mdl := genModel(t, synth.Options{Preset: "tiny", Seed: 11})
	m := startMount(t, mdl.path)

	if lines := strings.Split(strings.TrimSpace(m.stdout.String()), "\n"); len(lines) != 1 || !strings.Contains(lines[0], "host") {
		t.Errorf("mount printed %q, want one line naming the device", m.stdout.String())
	}
	var want []string
	for _, ti := range mdl.tensors {
		want = append(want, ti.Name)
	}
	slices.Sort(want)
	if got := strings.Fields(mustRun(t, "ls", filepath.Join(m.dir, "tensors"))); !slices.Equal(got, want) {
		t.Errorf("ls tensors = %v, want %v", got, want)
	}

	ti := mdl.tensor(t, "output.weight")
	dir := tensorDir(m.dir, ti.Name)
	data := filepath.Join(dir, "data")
	if got := strings.TrimSpace(mustRun(t, "stat", "-c", "%s %a %F", data)); got != strconv.FormatUint(ti.Size, 10)+" 444 regular file" {
		t.Errorf("stat data = %q", got)
	}
	if got := strings.TrimSpace(mustRun(t, "stat", "-c", "%a %F", dir)); got != "555 directory" {
		t.Errorf("stat dir = %q", got)
	}
	status := func() string { return strings.TrimSpace(mustRun(t, "cat", filepath.Join(dir, "status"))) }
	if s := status(); s != "unloaded" {
		t.Errorf("status before reading = %q", s)
	}
	copyPath := filepath.Join(t.TempDir(), "copy")
	mustRun(t, "dd", "if="+data, "of="+copyPath, "bs=1M", "status=none")
	if got, _ := os.ReadFile(copyPath); !bytes.Equal(got, mdl.data(ti)) {
		t.Errorf("dd of data differs from the file's bytes")
	}
	if s := status(); s != "resident" {
		t.Errorf("status after dd = %q, want resident", s)
	}

	dump := mustRun(t, "getfattr", "-d", "--absolute-names", dir)
	for _, line := range []string{
		`user.ggufs.dtype="q8_0"`, `user.ggufs.status="resident"`, `user.ggufs.device="host"`,
		`user.ggufs.shape="` + strings.Join(dims(ti.Dims), ",") + `"`,
		`user.ggufs.nbytes="` + strconv.FormatUint(ti.Size, 10) + `"`,
		`user.ggufs.offset="` + strconv.FormatUint(ti.FileOffset, 10) + `"`,
	} {
		if !strings.Contains(dump, line) {
			t.Errorf("getfattr -d lacks %s:\n%s", line, dump)
		}
	}
	if v := mustRun(t, "getfattr", "--only-values", "-n", "user.ggufs.dtype", data); v != "q8_0" {
		t.Errorf("getfattr -n user.ggufs.dtype data = %q", v)
	}
	if _, e, code := run(t, "getfattr", "-n", "user.ggufs.nope", dir); code == 0 || !strings.Contains(e, "No such attribute") {
		t.Errorf("unknown attribute: exit %d, %q", code, e)
	}
	if _, e, code := run(t, "setfattr", "-n", "user.ggufs.dtype", "-v", "f32", dir); code == 0 || !strings.Contains(e, "Operation not permitted") {
		t.Errorf("setting dtype: exit %d, %q", code, e)
	}
	if _, e, code := run(t, "setfattr", "-n", "user.ggufs.load", "-v", "yes", dir); code == 0 || !strings.Contains(e, "Invalid argument") {
		t.Errorf("load=yes: exit %d, %q", code, e)
	}

	mustRun(t, "setfattr", "-n", "user.ggufs.evict", "-v", "1", dir)
	if s := status(); s != "evicted" {
		t.Errorf("status after evict = %q", s)
	}
	if got := mustRun(t, "cat", data); got != string(mdl.data(ti)) {
		t.Errorf("cat after evict differs from the file")
	}
	if s := status(); s != "resident" {
		t.Errorf("status after reading an evicted tensor = %q, want resident", s)
	}

	other := tensorDir(m.dir, "token_embd.weight")
	mustRun(t, "setfattr", "-n", "user.ggufs.load", "-v", "1", other)
	if v := mustRun(t, "getfattr", "--only-values", "-n", "user.ggufs.status", other); v != "resident" {
		t.Errorf("status after setfattr load = %q", v)
	}

	out := mustRun(t, bin, "load", m.dir)
	if !strings.HasPrefix(out, "loaded "+strconv.Itoa(len(mdl.tensors))+" tensors") {
		t.Errorf("ggufs load printed %q", out)
	}
	for _, ti := range mdl.tensors {
		if s := mustRun(t, "cat", filepath.Join(tensorDir(m.dir, ti.Name), "status")); s != "resident\n" {
			t.Errorf("%s after ggufs load: %q", ti.Name, s)
		}
	}
	var stats struct {
		Cache struct {
			ResidentTensors int    `json:"resident_tensors"`
			ResidentBytes   uint64 `json:"resident_bytes"`
			Evictions       int    `json:"evictions"`
		} `json:"cache"`
	}
	if err := json.Unmarshal([]byte(mustRun(t, "cat", filepath.Join(m.dir, "stats.json"))), &stats); err != nil {
		t.Fatal(err)
	}
	if stats.Cache.ResidentTensors != len(mdl.tensors) || stats.Cache.Evictions != 1 {
		t.Errorf("stats.json: %+v, want %d resident and 1 eviction", stats.Cache, len(mdl.tensors))
	}
	if v := mustRun(t, "cat", filepath.Join(m.dir, "metadata", "general.architecture")); v != "llama\n" {
		t.Errorf("metadata/general.architecture = %q", v)
	}
	var md map[string]any
	if err := json.Unmarshal([]byte(mustRun(t, "cat", filepath.Join(m.dir, "metadata.json"))), &md); err != nil || md["general.architecture"] != "llama" {
		t.Errorf("metadata.json: %v, %v", err, md["general.architecture"])
	}
	if _, _, code := run(t, bin, "load", m.dir, "no.such.tensor"); code != 1 {
		t.Errorf("ggufs load of an unknown tensor: exit %d, want 1", code)
	}

	m.cmd.Process.Signal(os.Interrupt)
	if code := m.wait(t); code != 0 {
		t.Errorf("ggufs mount exit %d after SIGINT; stderr: %s", code, m.stderr.String())
	}
}

func dims(d []uint64) []string {
	s := make([]string, len(d))
	for i, x := range d {
		s[i] = strconv.FormatUint(x, 10)
	}
	return s
}
