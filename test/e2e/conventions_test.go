package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ggufs/ggufs/gguf"
	"github.com/ggufs/ggufs/synth"
)

// installed is a `make install` into a temporary PREFIX.
type installed struct {
	prefix string
	bin    string // PREFIX/bin/ggufs
	helper string // PREFIX/sbin/mount.fuse.ggufs
}

// makeInstall runs the README's install into a fresh PREFIX (SBINDIR inside
// it too) with the binary TestMain built.
func makeInstall(t *testing.T) installed {
	t.Helper()
	needTools(t, "make")
	p := t.TempDir()
	goBin := filepath.Join(runtime.GOROOT(), "bin")
	cmd := []string{"-C", "../..", "install", "PREFIX=" + p, "SBINDIR=" + p + "/sbin", "BIN=" + bin,
		"GO=" + filepath.Join(goBin, "go")}
	mustRun(t, "make", cmd...)
	in := installed{prefix: p, bin: filepath.Join(p, "bin", "ggufs"), helper: filepath.Join(p, "sbin", "mount.fuse.ggufs")}
	for _, f := range []string{in.bin, in.helper, filepath.Join(p, "share/bash-completion/completions/ggufs"), filepath.Join(p, "share/zsh/site-functions/_ggufs")} {
		if _, err := os.Stat(f); err != nil {
			t.Fatalf("make install did not install %s: %v", f, err)
		}
	}
	if b, err := os.ReadFile(in.helper); err != nil || !bytes.Contains(b, []byte(filepath.Join(p, "bin"))) {
		t.Fatalf("the helper does not put %s/bin on PATH: %v\n%s", p, err, b)
	}
	return in
}

// systemHelper puts the installed helper where mount(8) looks for it
// (/sbin only) for the test, and removes it afterwards. A helper already
// there (ggufs installed on this machine) is left alone and used.
func systemHelper(t *testing.T, in installed) {
	t.Helper()
	const path = "/sbin/mount.fuse.ggufs"
	if _, err := os.Stat(path); err == nil {
		t.Logf("%s exists; using it", path)
		return
	}
	if os.Geteuid() != 0 {
		unavailable(t, "mount(8) helpers live in /sbin: this test needs root")
	}
	b, err := os.ReadFile(in.helper)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(path) })
}

// waitUnmounted waits for a background mount to go after umount.
func waitUnmounted(t *testing.T, dir string) {
	t.Helper()
	for deadline := time.Now().Add(waitLimit); isMounted(t, dir); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			syscall.Unmount(dir, syscall.MNT_DETACH)
			t.Fatalf("%s still mounted", dir)
		}
	}
}

// unmountAtEnd makes sure a background mount does not outlive the test.
func unmountAtEnd(t *testing.T, dir string) {
	t.Cleanup(func() {
		if isMounted(t, dir) {
			syscall.Unmount(dir, 0)
			waitUnmounted(t, dir)
		}
	})
}

func budgetOf(t *testing.T, dir string) uint64 {
	t.Helper()
	var s struct {
		Cache struct {
			Budget uint64 `json:"budget_bytes"`
		} `json:"cache"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "stats.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("stats.json: %v\n%s", err, b)
	}
	return s.Cache.Budget
}

// `make install`, then `mount -t fuse.ggufs ... -o ...` and an fstab line
// mount through the installed helper (mount.fuse3 runs ggufs in the
// background), and umount unmounts.
func TestMountHelperAndFstab(t *testing.T) {
	needFuse(t)
	needTools(t, "mount", "umount", "findmnt", "mount.fuse3")
	in := makeInstall(t)
	systemHelper(t, in)
	mdl := genModel(t, synth.Options{Preset: "tiny", Seed: 12})
	logs := t.TempDir()

	dir := t.TempDir()
	unmountAtEnd(t, dir)
	mustRun(t, "mount", "-t", "fuse.ggufs", mdl.path, dir,
		"-o", "cache_size=64MiB,allow_other,backend=host,log_file="+filepath.Join(logs, "a.log"))
	if !isMounted(t, dir) {
		t.Fatalf("mount -t fuse.ggufs returned but %s is not mounted", dir)
	}
	if got := budgetOf(t, dir); got != 64<<20 {
		t.Errorf("-o cache_size=64MiB: budget %d", got)
	}
	ti := mdl.tensors[0]
	if b, err := os.ReadFile(filepath.Join(tensorDir(dir, ti.Name), "data")); err != nil || !bytes.Equal(b, mdl.data(ti)) {
		t.Errorf("reading %s through the helper's mount: %v", ti.Name, err)
	}
	if info := mustRun(t, "findmnt", "-n", "-o", "OPTIONS", dir); !strings.Contains(info, "allow_other") {
		t.Errorf("-o allow_other: mount options %q", info)
	}
	mustRun(t, "umount", dir)
	waitUnmounted(t, dir)

	// fstab: mount(8) -T reads another table, so /etc/fstab stays untouched.
	dir2 := t.TempDir()
	unmountAtEnd(t, dir2)
	fstab := filepath.Join(t.TempDir(), "fstab")
	line := mdl.path + " " + dir2 + " fuse.ggufs noauto,nofail,cache_size=32MiB,backend=host,log_file=" + filepath.Join(logs, "b.log") + " 0 0\n"
	if err := os.WriteFile(fstab, []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "mount", "-T", fstab, dir2)
	if !isMounted(t, dir2) {
		t.Fatalf("mount -T fstab %s: not mounted", dir2)
	}
	if got := budgetOf(t, dir2); got != 32<<20 {
		t.Errorf("fstab cache_size=32MiB: budget %d", got)
	}
	mustRun(t, "umount", dir2)
	waitUnmounted(t, dir2)
}

// --daemon returns once the mount is ready, says where it logs, and a
// failure before mounting comes back with the log's lines.
func TestDaemonMode(t *testing.T) {
	needFuse(t)
	mdl := genModel(t, synth.Options{Preset: "tiny", Seed: 13})
	dir := t.TempDir()
	unmountAtEnd(t, dir)
	logFile := filepath.Join(t.TempDir(), "ggufs.log")
	// Flags after the arguments, as other mount tools take them.
	out := mustRun(t, bin, "mount", mdl.path, dir, "--daemon", "--backend", "host", "--log-file", logFile)
	if !isMounted(t, dir) {
		t.Fatalf("mount --daemon returned before the mount was ready: %s", out)
	}
	if !strings.Contains(out, "log: "+logFile) {
		t.Errorf("mount --daemon says %q, not where it logs", out)
	}
	if _, err := os.Stat(filepath.Join(dir, "stats.json")); err != nil {
		t.Error(err)
	}
	mustRun(t, bin, "unmount", dir)
	waitUnmounted(t, dir)
	if b, _ := os.ReadFile(logFile); !bytes.Contains(b, []byte("mounted ")) {
		t.Errorf("the log lacks the mount's summary:\n%s", b)
	}

	bad := filepath.Join(t.TempDir(), "bad.gguf")
	if err := os.WriteFile(bad, []byte("not a model"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := run(t, bin, "mount", "--daemon", "--backend", "host", "--log-file", logFile, bad, dir)
	if code != 1 || !strings.Contains(stderr, "before mounting") || !strings.Contains(stderr, "bad.gguf") {
		t.Errorf("a failing background mount: exit %d, stderr %q", code, stderr)
	}
	if isMounted(t, dir) {
		t.Errorf("%s mounted after a failure", dir)
	}
}

// Options that cannot work are refused before anything is mounted, each
// with one line that says why.
func TestRefusedMountOptions(t *testing.T) {
	needFuse(t)
	mdl := genModel(t, synth.Options{Preset: "tiny", Seed: 14})
	dir := t.TempDir()
	checkFailure(t, 2, `unknown -o option "cache_sise=1GiB"`, "mount", mdl.path, dir, "-o", "cache_sise=1GiB")
	checkFailure(t, 1, "host: device 3 does not exist", "mount", mdl.path, dir, "--backend", "host", "--device", "3")
	checkFailure(t, 1, "smaller than the largest tensor", "mount", mdl.path, dir, "--backend", "host", "--cache-size", "1")
	full := t.TempDir()
	if err := os.WriteFile(filepath.Join(full, "keep.txt"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	checkFailure(t, 1, "--nonempty", "mount", "--backend", "host", mdl.path, full)
	if isMounted(t, dir) || isMounted(t, full) {
		t.Fatal("a refused mount left a mount")
	}
	m := startMount(t, mdl.path, "--nonempty")
	_ = m // mounted on its own empty directory: --nonempty is accepted
}

// Flags go before or after arguments on every command; "--" ends them.
func TestFlagsAfterArguments(t *testing.T) {
	mdl := genModel(t, synth.Options{Preset: "tiny", Seed: 15})
	var doc map[string]any
	if err := json.Unmarshal([]byte(mustRun(t, bin, "inspect", mdl.path, "--json")), &doc); err != nil {
		t.Errorf("inspect FILE --json: %v", err)
	}
	_, stderr, code := run(t, bin, "inspect", "--", "--json")
	if code == 0 || !strings.Contains(stderr, "--json") {
		t.Errorf("after --, --json is a file name: exit %d, %q", code, stderr)
	}
	out := mustRun(t, bin, "devices", "--json")
	if !strings.Contains(out, "host memory") {
		t.Errorf("devices --json does not report host memory: %s", out)
	}
}

// The conventions of the top level: usage and exit 2 with no command,
// --version, help [command], completion.
func TestTopLevelConventions(t *testing.T) {
	stdout, stderr, code := run(t, bin)
	if code != 2 || !strings.Contains(stdout+stderr, "USAGE") {
		t.Errorf("ggufs with no arguments: exit %d, want 2 and the usage", code)
	}
	if v := mustRun(t, bin, "--version"); !strings.Contains(v, runtime.Version()) || !strings.Contains(v, "commit ") {
		t.Errorf("--version = %q, want the commit and %s", v, runtime.Version())
	}
	if h := mustRun(t, bin, "help", "mount"); !strings.Contains(h, "ggufs mount") || !strings.Contains(h, "--cache-size") {
		t.Errorf("help mount:\n%s", h)
	}
	needTools(t, "bash")
	script := mustRun(t, bin, "completion", "bash")
	check := script + "\nCOMP_WORDS=(" + bin + " mo); COMP_CWORD=1; _ggufs; echo \"${COMPREPLY[*]}\"\n" +
		"COMP_WORDS=(" + bin + " mount --cache); COMP_CWORD=2; _ggufs; echo \"${COMPREPLY[*]}\"\n"
	out := mustRun(t, "bash", "-c", check)
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 2 || lines[0] != "mount" || !strings.Contains(lines[1], "--cache-size") {
		t.Errorf("bash completion of 'mo' and 'mount --cache': %q", out)
	}
}

// A valid GGUF whose tensor names hold '/' mounts: the directory is the
// escaped name, user.ggufs.name and inspect give the original.
func TestNamesWithSlashes(t *testing.T) {
	needTools(t, "getfattr")
	path := filepath.Join(t.TempDir(), "slash.gguf")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	specs := []gguf.TensorSpec{{Name: "slash/in/name", Type: gguf.TypeF32, Dims: []uint64{8}}, {Name: "..", Type: gguf.TypeF32, Dims: []uint64{8}}}
	w, err := gguf.NewWriter(f, nil, specs, gguf.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range w.Tensors() {
		if err := w.WriteTensorBytes(s.Name, make([]byte, s.Size)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if out := mustRun(t, bin, "inspect", path); !strings.Contains(out, "slash/in/name") {
		t.Errorf("inspect does not show the original name:\n%s", out)
	}
	m := startMount(t, path)
	entries, err := os.ReadDir(filepath.Join(m.dir, "tensors"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if got := strings.Join(names, " "); got != "%2E%2E slash%2Fin%2Fname" {
		t.Errorf("tensors/ lists %q", got)
	}
	out := mustRun(t, "getfattr", "--only-values", "-n", "user.ggufs.name", filepath.Join(m.dir, "tensors", "slash%2Fin%2Fname"))
	if out != "slash/in/name" {
		t.Errorf("user.ggufs.name = %q", out)
	}
}

// Ctrl-C during gen removes the unfinished temporary file.
func TestGenInterruptedLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(bin, "gen", "-o", filepath.Join(dir, "big.gguf"), "--preset", "llama-7b")
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Interrupt once the temporary file is being written.
	for deadline := time.Now().Add(waitLimit); ; time.Sleep(5 * time.Millisecond) {
		tmps, _ := filepath.Glob(filepath.Join(dir, ".big.gguf.tmp-*"))
		if len(tmps) == 1 {
			if st, err := os.Stat(tmps[0]); err == nil && st.Size() > 0 {
				break
			}
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("gen wrote no temporary file; stderr: %s", stderr.String())
		}
	}
	cmd.Process.Signal(os.Interrupt)
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Errorf("interrupted gen: %v, want exit 130; stderr: %s", err, stderr.String())
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("interrupted gen left %v", left)
	}
}

// Another user's `ggufs unmount` of this mount says, in one line, whose it is.
func TestUnmountOfAnotherUsersMount(t *testing.T) {
	if os.Geteuid() != 0 {
		unavailable(t, "switching users needs root")
	}
	needTools(t, "setpriv")
	mdl := genModel(t, synth.Options{Preset: "tiny", Seed: 16})
	m := startMount(t, mdl.path)
	openUp(t, m.dir)
	_, stderr, code := asNobody(t, bin, "unmount", m.dir)
	if code != 1 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "is mounted by root (uid 0)") {
		t.Errorf("nobody's unmount: exit %d, stderr %q; want one line naming root", code, stderr)
	}
	if !isMounted(t, m.dir) {
		t.Error("the mount is gone")
	}
}
