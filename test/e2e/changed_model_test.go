package e2e

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ggufs/ggufs/synth"
)

// Another model written over the mounted file (dd conv=notrunc) or renamed
// over its path (mv) is noticed: a read that needs an upload fails with EIO
// instead of serving the other model's bytes under this header, and
// user.ggufs.shard stops naming the path as the mounted file.
func TestModelChangedUnderTheMount(t *testing.T) {
	for _, how := range []string{"dd conv=notrunc", "mv"} {
		t.Run(how, func(t *testing.T) {
			needTools(t, "dd")
			mdl := genModel(t, synth.Options{Preset: "tiny", Seed: 61})
			other := genModel(t, synth.Options{Preset: "tiny", Seed: 62})
			// An old mtime, so the change moves it at any timestamp granularity.
			old := time.Now().Add(-time.Hour)
			if err := os.Chtimes(mdl.path, old, old); err != nil {
				t.Fatal(err)
			}
			m := startMount(t, mdl.path)
			name := mdl.tensors[0].Name
			switch how {
			case "dd conv=notrunc":
				mustRun(t, "dd", "if="+other.path, "of="+mdl.path, "conv=notrunc", "status=none")
			case "mv":
				mustRun(t, "mv", other.path, mdl.path)
			}
			if _, err := os.ReadFile(filepath.Join(tensorDir(m.dir, name), "data")); !errors.Is(err, syscall.EIO) {
				t.Errorf("read after %s: %v, want EIO", how, err)
			}
			buf := make([]byte, 4096)
			n, err := unix.Getxattr(tensorDir(m.dir, name), "user.ggufs.shard", buf)
			if err != nil {
				t.Fatal(err)
			}
			if got := string(buf[:n]); got == mdl.path || !strings.Contains(got, "changed since mounted") {
				t.Errorf("user.ggufs.shard after %s: %q", how, got)
			}
			if s, err := os.ReadFile(filepath.Join(tensorDir(m.dir, name), "status")); err != nil || !strings.Contains(string(s), "changed since it was opened") {
				t.Errorf("status after %s: %q, %v; want it to say the model changed", how, s, err)
			}
		})
	}
}
