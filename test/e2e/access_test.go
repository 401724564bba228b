package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ggufs/ggufs/synth"
)

// nobody is the user other processes run as in these tests.
const nobody = "65534"

// asNobody runs a command as user and group 65534.
func asNobody(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	return run(t, "setpriv", append([]string{"--reuid", nobody, "--regid", nobody, "--clear-groups", "--"}, args...)...)
}

// openUp lets other users reach dir (t.TempDir makes its folders 0700).
func openUp(t *testing.T, dir string) {
	t.Helper()
	for d := filepath.Dir(dir); d != os.TempDir() && d != "/" && d != "."; d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

// Only the mounting user gets in, unless --allow-other; then others may read
// but not run the load and evict commands.
func TestOtherUsers(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("switching users needs root")
	}
	needTools(t, "setpriv", "cat", "setfattr")
	mdl := genModel(t, synth.Options{Preset: "tiny"})

	private := startMount(t, mdl.path)
	openUp(t, private.dir)
	data := filepath.Join(tensorDir(private.dir, "output.weight"), "data")
	if _, e, code := asNobody(t, "cat", data); code == 0 || !strings.Contains(e, "Permission denied") {
		t.Errorf("another user read a private mount: exit %d, %q", code, e)
	}

	shared := startMount(t, mdl.path, "--allow-other")
	openUp(t, shared.dir)
	dir := tensorDir(shared.dir, "output.weight")
	if out, e, code := asNobody(t, "cat", filepath.Join(dir, "data")); code != 0 || out != string(mdl.data(mdl.tensor(t, "output.weight"))) {
		t.Errorf("another user reading with --allow-other: exit %d, %q", code, e)
	}
	for _, cmd := range []string{"user.ggufs.evict", "user.ggufs.load"} {
		if _, e, code := asNobody(t, "setfattr", "-n", cmd, "-v", "1", dir); code == 0 || !strings.Contains(e, "Operation not permitted") {
			t.Errorf("another user set %s: exit %d, %q; want EPERM", cmd, code, e)
		}
	}
	if s, _ := os.ReadFile(filepath.Join(dir, "status")); string(s) != "resident\n" {
		t.Errorf("status after refused commands: %q", s)
	}
}

// ggufs load and ggufs evict by a user who did not mount say they were
// refused and who may send them, rather than counting failed tensors.
func TestOtherUsersControlCommandsSayRefused(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("switching users needs root")
	}
	needTools(t, "setpriv")
	mdl := genModel(t, synth.Options{Preset: "tiny"})
	shared := startMount(t, mdl.path, "--allow-other")
	openUp(t, shared.dir)
	if err := os.Chmod(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{bin, "load", shared.dir},
		{bin, "load", shared.dir, "output.weight"},
		{bin, "evict", shared.dir, "output.weight"},
	} {
		_, e, code := asNobody(t, args...)
		if code != 1 || !strings.Contains(e, "refused") || !strings.Contains(e, "only the user who mounted") || strings.Contains(e, "tensors failed") {
			t.Errorf("%v as another user: exit %d, %q; want exit 1 saying it was refused and why", args[1:], code, e)
		}
	}
}

// ggufs status reports what load and evict did.
func TestStatusFollowsLoadAndEvict(t *testing.T) {
	mdl := genModel(t, synth.Options{Preset: "tiny"})
	m := startMount(t, mdl.path)
	mustRun(t, bin, "load", m.dir, "output.weight")
	out := mustRun(t, bin, "status", m.dir)
	if !strings.Contains(out, "1 of 21 tensors resident") || !strings.Contains(out, "output.weight") {
		t.Errorf("status after loading one tensor:\n%s", out)
	}
	if !strings.Contains(out, "uploads: 1 (") || !strings.Contains(out, "evictions: 0; failures: 0") {
		t.Errorf("status after loading one tensor does not count one upload, no eviction, no failure:\n%s", out)
	}
	mustRun(t, bin, "evict", m.dir)
	out = mustRun(t, bin, "status", "--json", "--all", m.dir)
	var rep struct {
		Stats struct {
			Cache struct {
				ResidentTensors int `json:"resident_tensors"`
			}
		}
		Tensors []struct{ Name, Status string }
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("status --json: %v\n%s", err, out)
	}
	if len(rep.Tensors) != 21 || rep.Stats.Cache.ResidentTensors != 0 {
		t.Fatalf("status --json --all after evicting everything: %d tensors, %d resident", len(rep.Tensors), rep.Stats.Cache.ResidentTensors)
	}
	for _, ts := range rep.Tensors {
		want := "unloaded"
		if ts.Name == "output.weight" {
			want = "evicted"
		}
		if ts.Status != want {
			t.Errorf("%s after ggufs evict: %q, want %q", ts.Name, ts.Status, want)
		}
	}
}

// ggufs status --watch prints the status again at each interval and ends on
// SIGINT with exit 0.
func TestStatusWatchRepeatsUntilInterrupted(t *testing.T) {
	mdl := genModel(t, synth.Options{Preset: "tiny"})
	m := startMount(t, mdl.path)
	// A file as stdout: the child writes it directly, the test reads it.
	outFile, err := os.Create(filepath.Join(t.TempDir(), "watch.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer outFile.Close()
	read := func() string { b, _ := os.ReadFile(outFile.Name()); return string(b) }
	cmd := exec.Command(bin, "status", "--watch", "20ms", m.dir)
	cmd.Stdout = outFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(read(), "tensors resident") < 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("status --watch after SIGINT: %v (want exit 0)\n%s", err, read())
	}
	if n := strings.Count(read(), "tensors resident"); n < 3 {
		t.Fatalf("status --watch printed %d reports, want at least 3:\n%s", n, read())
	}
}
