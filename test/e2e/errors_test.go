package e2e

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/ggufs/ggufs/synth"
)

// checkFailure runs ggufs with args and checks the exit code and that stderr
// is one line containing want.
func checkFailure(t *testing.T, wantCode int, want string, args ...string) {
	t.Helper()
	_, stderr, code := run(t, bin, args...)
	lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
	if code != wantCode || len(lines) != 1 || !strings.Contains(stderr, want) {
		t.Errorf("ggufs %s: exit %d, stderr %q; want exit %d and one line containing %q",
			strings.Join(args, " "), code, stderr, wantCode, want)
	}
}

// Bad inputs get one clear line on stderr and exit 1 (2 for usage errors),
// and leave nothing mounted.
func TestMountRejectsBadInputs(t *testing.T) {
	needFuse(t)
	mdl := genModel(t, synth.Options{Preset: "tiny"})
	tmp := t.TempDir()
	notGGUF := filepath.Join(tmp, "not.gguf")
	if err := os.WriteFile(notGGUF, []byte("this is not a model at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()

	checkFailure(t, 2, "FILE and MOUNTPOINT", "mount")
	checkFailure(t, 2, "FILE and MOUNTPOINT", "mount", mdl.path)
	checkFailure(t, 2, "--cache-size", "mount", "--cache-size", "lots", mdl.path, dir)
	checkFailure(t, 2, "--backend", "mount", "--backend", "tpu", mdl.path, dir)
	checkFailure(t, 1, "no such file", "mount", "--backend", "host", filepath.Join(tmp, "missing.gguf"), dir)
	checkFailure(t, 1, "GGUF", "mount", "--backend", "host", notGGUF, dir)
	checkFailure(t, 1, "not a directory", "mount", "--backend", "host", mdl.path, notGGUF)
	checkFailure(t, 1, "does not exist", "mount", "--backend", "host", mdl.path, filepath.Join(tmp, "nodir"))
	checkFailure(t, 2, "MOUNTPOINT", "unmount")
	checkFailure(t, 1, "not a mount point", "unmount", dir)
	checkFailure(t, 1, "not a ggufs mount", "load", dir)
	if isMounted(t, dir) {
		t.Errorf("%s mounted after failures", dir)
	}
}

// A second mount on a busy mountpoint is refused; after the first server dies
// the mountpoint is stale, mount says so, and ggufs unmount clears it.
func TestBusyAndStaleMountpoint(t *testing.T) {
	mdl := genModel(t, synth.Options{Preset: "tiny"})
	m := startMount(t, mdl.path)
	checkFailure(t, 1, "busy", "mount", "--backend", "host", mdl.path, m.dir)

	m.cmd.Process.Kill()
	m.wait(t)
	var st syscall.Statfs_t
	if err := syscall.Statfs(m.dir, &st); !errorsIs(err, syscall.ENOTCONN) {
		t.Fatalf("after killing the server, statfs = %v; want ENOTCONN (a stale mount)", err)
	}
	checkFailure(t, 1, "stale mount: run ggufs unmount", "mount", "--backend", "host", mdl.path, m.dir)
	mustRun(t, bin, "unmount", m.dir)
	if isMounted(t, m.dir) {
		t.Errorf("still mounted after ggufs unmount of a stale mount")
	}
	if _, err := os.ReadDir(m.dir); err != nil {
		t.Errorf("mountpoint after unmount: %v", err)
	}
}

// Without /dev/fuse (hidden in a private mount namespace) mount says so.
func TestMissingFuseDevice(t *testing.T) {
	needFuse(t)
	if os.Geteuid() != 0 {
		t.Skip("hiding /dev/fuse needs root")
	}
	needTools(t, "unshare", "sh")
	mdl := genModel(t, synth.Options{Preset: "tiny"})
	script := `mount -t tmpfs none /dev && exec "$0" mount --backend host "$1" "$2"`
	cmd := exec.Command("unshare", "-m", "--propagation", "private", "sh", "-c", script, bin, mdl.path, t.TempDir())
	out, err := cmd.CombinedOutput()
	var code int
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	}
	if code != 1 || !strings.Contains(string(out), "/dev/fuse is missing") {
		t.Errorf("mount without /dev/fuse: exit %d, %q; want exit 1 and a line about /dev/fuse", code, out)
	}
}

func errorsIs(err, target error) bool { return errors.Is(err, target) }
