package fs

import (
	"log"
	"os"
	"path/filepath"
	"testing"

	"github.com/ggufs/ggufs/cache"
	"github.com/ggufs/ggufs/gguf"
	"github.com/ggufs/ggufs/hip"
	"github.com/ggufs/ggufs/synth"
)

// fixture is a synthetic model mounted in this process on the host backend.
// Everywhere else mounts are assembled by mount.Open; this package's tests
// cannot import it (mount imports fs), so the fixture wires the same pieces,
// the cache's evictions to the kernel cache included.
type fixture struct {
	dir   string // the mountpoint
	path  string // the model file
	file  []byte // the model file's bytes, to compare reads with
	model *gguf.Model
	dev   *hip.Host
	cache *cache.Cache
	root  *Root
}

// requireFuse skips a test that needs FUSE where there is none, except when
// GGUFS_REQUIRE_FUSE=1 (CI), where it fails.
func requireFuse(t *testing.T, why error) {
	t.Helper()
	if os.Getenv("GGUFS_REQUIRE_FUSE") == "1" {
		t.Fatalf("FUSE required (GGUFS_REQUIRE_FUSE=1): %v", why)
	}
	t.Skipf("no FUSE here: %v", why)
}

// testMount generates a model with opts, mounts it on a fresh directory with
// a cache of budget bytes (0: plenty) and unmounts it when the test ends,
// failing the test if that fails.
func testMount(t *testing.T, opts synth.Options, budget uint64) *fixture {
	t.Helper()
	return testMountTuned(t, opts, budget, nil)
}

// testMountTuned is testMount with tune applied to the root before mounting.
func testMountTuned(t *testing.T, opts synth.Options, budget uint64, tune func(*Root)) *fixture {
	t.Helper()
	if _, err := os.Stat("/dev/fuse"); err != nil {
		requireFuse(t, err)
	}
	path := filepath.Join(t.TempDir(), "model.gguf")
	if _, err := synth.GenerateFile(path, opts); err != nil {
		t.Fatal(err)
	}
	return testMountFile(t, path, budget, tune)
}

// testMountFile mounts the GGUF file at path as testMountTuned does.
func testMountFile(t *testing.T, path string, budget uint64, tune func(*Root)) *fixture {
	t.Helper()
	f := &fixture{dir: t.TempDir(), path: path}
	var err error
	if f.file, err = os.ReadFile(f.path); err != nil {
		t.Fatal(err)
	}
	if f.model, err = gguf.OpenModel(f.path); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.model.Close() })
	f.dev = hip.NewHost(hip.HostOptions{Capacity: 1 << 30})
	t.Cleanup(func() { f.dev.Close() })
	if budget == 0 {
		budget = 256 << 20
	}
	var root *Root // the eviction callback needs the root, the root the cache
	f.cache, err = cache.New(f.dev, cache.TensorsFromModel(f.model), cache.Options{
		Budget:  budget,
		OnEvict: func(name string) { root.OnEvict(name) },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.cache.Close() })
	root, err = New(Config{Model: f.model, Cache: f.cache, Device: f.dev.String(),
		Logger: log.New(testWriter{t}, "", 0)})
	if err != nil {
		t.Fatal(err)
	}
	f.root = root
	if tune != nil {
		tune(root)
	}
	server, err := Mount(f.dir, root, MountOptions{})
	if err != nil {
		requireFuse(t, err)
	}
	t.Cleanup(func() {
		if err := server.Unmount(); err != nil {
			t.Errorf("unmount: %v", err)
		}
		root.Wait()
	})
	return f
}

// testWriter sends the tree's log to the test's log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

// tensorBytes is what the file holds for t.
func (f *fixture) tensorBytes(t *gguf.TensorInfo) []byte {
	return f.file[t.FileOffset : t.FileOffset+t.Size]
}

// tensorPath is tensors/<name>/<file> on the mount.
func (f *fixture) tensorPath(name, file string) string {
	return filepath.Join(f.dir, "tensors", name, file)
}

func (f *fixture) tensor(t *testing.T, name string) *gguf.TensorInfo {
	t.Helper()
	info, ok := f.model.Tensor(name)
	if !ok {
		t.Fatalf("no tensor %q in the model", name)
	}
	return info
}
