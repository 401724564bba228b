package fs

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

// After another model is written over the mounted file in place (dd
// conv=notrunc) or renamed over its path (mv), a read that needs an upload
// fails with EIO instead of serving the other model's bytes under this
// header, and user.ggufs.shard no longer names the path as the mounted file.
func TestChangedModelFileIsRefused(t *testing.T) {
	for _, how := range []string{"dd conv=notrunc", "mv"} {
		t.Run(how, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "model.gguf")
			if _, err := synth.GenerateFile(path, synth.Options{Preset: "tiny", Seed: 1}); err != nil {
				t.Fatal(err)
			}
			other := filepath.Join(dir, "other.gguf")
			if _, err := synth.GenerateFile(other, synth.Options{Preset: "tiny", Seed: 2}); err != nil {
				t.Fatal(err)
			}
			// An old mtime, so that the change moves it whatever the
			// file system's timestamp granularity.
			old := time.Now().Add(-time.Hour)
			for _, p := range []string{path, other} {
				if err := os.Chtimes(p, old, old); err != nil {
					t.Fatal(err)
				}
			}
			f := testMountFile(t, path, 0, nil)
			name := f.model.Tensors[0].Name
			if got := shardXattr(t, f, name); got != path {
				t.Fatalf("user.ggufs.shard %q before the change, want %q", got, path)
			}

			switch how {
			case "dd conv=notrunc":
				b, err := os.ReadFile(other)
				if err != nil {
					t.Fatal(err)
				}
				w, err := os.OpenFile(path, os.O_WRONLY, 0)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := w.WriteAt(b, 0); err != nil {
					t.Fatal(err)
				}
				w.Close()
			case "mv":
				if err := os.Rename(other, path); err != nil {
					t.Fatal(err)
				}
			}

			_, err := os.ReadFile(f.tensorPath(name, "data"))
			if !errors.Is(err, syscall.EIO) {
				t.Fatalf("read after %s: %v, want EIO", how, err)
			}
			if got := shardXattr(t, f, name); got == path || !strings.Contains(got, "changed since mounted") {
				t.Fatalf("user.ggufs.shard %q after %s names the path as the mounted file", got, how)
			}
		})
	}
}

func shardXattr(t *testing.T, f *fixture, name string) string {
	t.Helper()
	buf := make([]byte, 4096)
	n, err := unix.Getxattr(filepath.Join(f.dir, "tensors", name), xattrShard, buf)
	if err != nil {
		t.Fatalf("getxattr %s: %v", xattrShard, err)
	}
	return string(buf[:n])
}
