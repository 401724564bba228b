package e2e

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// hangGuard bounds a command that must not block: a regression fails the
// test instead of stalling the suite. Not a timing assertion: any correct
// run ends in milliseconds.
const hangGuard = 2 * time.Minute

// runGuarded is run with a kill after hangGuard.
func runGuarded(t *testing.T, args ...string) (stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var e strings.Builder
	cmd.Stderr = &e
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("ggufs %s blocked (killed after %v)", strings.Join(args, " "), hangGuard)
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("ggufs %s: %v", strings.Join(args, " "), err)
	}
	if ee != nil {
		code = ee.ExitCode()
	}
	return e.String(), code
}

// A FIFO as the model, or in place of a split model's shard, is refused at
// once by inspect and mount (both used to wait forever for a writer).
func TestFIFOIsRefusedNotWaitedOn(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "model.gguf")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	shards := filepath.Join(dir, "split")
	mustRun(t, bin, "gen", "--preset", "tiny", "--split", "3", "-o", shards+".gguf")
	second := shards + "-00002-of-00003.gguf"
	if err := os.Remove(second); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(second, 0o644); err != nil {
		t.Fatal(err)
	}
	mnt := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"inspect", fifo}, fifo + ": not a regular file (a FIFO)"},
		{[]string{"inspect", "--json", fifo}, "not a regular file (a FIFO)"},
		{[]string{"inspect", shards + "-00001-of-00003.gguf"}, second + ": not a regular file (a FIFO)"},
		{[]string{"mount", "--backend", "host", fifo, mnt}, "not a regular file"},
		{[]string{"mount", "--backend", "host", shards + "-00001-of-00003.gguf", mnt}, second + ": not a regular file (a FIFO)"},
	} {
		stderr, code := runGuarded(t, c.args...)
		if code != 1 || !strings.Contains(stderr, c.want) {
			t.Errorf("ggufs %s: exit %d, stderr %q; want exit 1 and %q", strings.Join(c.args, " "), code, stderr, c.want)
		}
	}
	if isMounted(t, mnt) {
		t.Errorf("%s mounted", mnt)
	}
}
