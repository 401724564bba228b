package mount

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/ggufs/ggufs/cache"
	"github.com/ggufs/ggufs/hip"
	"github.com/ggufs/ggufs/mount/ctl"
	"github.com/ggufs/ggufs/synth"
)

// requireFuse skips a test that needs FUSE where there is none, except when
// GGUFS_REQUIRE_FUSE=1 (CI), where it fails.
func requireFuse(t *testing.T) {
	t.Helper()
	if err := CheckFuseDevice(); err != nil {
		if os.Getenv("GGUFS_REQUIRE_FUSE") == "1" {
			t.Fatalf("FUSE required (GGUFS_REQUIRE_FUSE=1): %v", err)
		}
		t.Skipf("no FUSE here: %v", err)
	}
}

// namedHost is the host backend under another device's name, to tell the
// device's name from the host backend's default.
type namedHost struct {
	*hip.Host
	name string
}

func (d namedHost) String() string { return d.name }

// testOpen mounts a synthetic model with o and closes it when the test
// ends, failing the test if closing fails.
func testOpen(t *testing.T, opts synth.Options, o Options) *Mount {
	t.Helper()
	requireFuse(t)
	path := filepath.Join(t.TempDir(), "model.gguf")
	if _, err := synth.GenerateFile(path, opts); err != nil {
		t.Fatal(err)
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.OpenDevice == nil {
		o.OpenDevice = func(context.Context, uint64) (hip.Backend, error) {
			return hip.NewHost(hip.HostOptions{Capacity: 1 << 30}), nil
		}
	}
	m, err := Open(path, t.TempDir(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return m
}

func TestOpenMountsAndCloseUnmounts(t *testing.T) {
	m := testOpen(t, synth.Options{Preset: "tiny"}, Options{})
	if _, ok, err := Find(m.Dir); err != nil || !ok {
		t.Fatalf("%s not in the mount table: %v", m.Dir, err)
	}
	if _, err := Open(m.File, m.Dir, Options{Log: io.Discard}); !errors.Is(err, ErrBusyMount) {
		t.Errorf("second mount on %s: %v, want ErrBusyMount", m.Dir, err)
	}
	if err := m.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if _, ok, _ := Find(m.Dir); ok {
		t.Errorf("%s still mounted after Close", m.Dir)
	}
	if err := m.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
}

// The device's own name reaches user.ggufs.device and stats.json.
func TestDeviceNameReachesTheTree(t *testing.T) {
	m := testOpen(t, synth.Options{Preset: "tiny"}, Options{OpenDevice: func(context.Context, uint64) (hip.Backend, error) {
		return namedHost{hip.NewHost(hip.HostOptions{}), "cuda:7"}, nil
	}})
	if _, err := m.DeviceReady(context.Background()); err != nil {
		t.Fatal(err)
	}
	c, err := ctl.Dial(m.Dir)
	if err != nil {
		t.Fatal(err)
	}
	ts, err := c.Tensor(m.Model.Tensors[0].Name)
	if err != nil || ts.Device != "cuda:7" {
		t.Errorf("user.ggufs.device = %q, %v; want cuda:7", ts.Device, err)
	}
	if s, err := c.Stats(); err != nil || s.Device != "cuda:7" {
		t.Errorf("stats.json device = %q, %v; want cuda:7", s.Device, err)
	}
}

// A tensor the cache evicts to make room under its budget loses its pages
// in the kernel's cache too: reading it again uploads it again rather than
// serving the kernel's copy of a device copy that is gone.
func TestBudgetEvictionDropsKernelPages(t *testing.T) {
	m := testOpen(t, synth.Options{Preset: "tiny", Seed: 9}, Options{CacheSize: CacheSize{Bytes: 256 << 10}})
	var first string
	read := func(name string) []byte {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(m.Dir, "tensors", name, "data"))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, ti := range m.Model.Tensors {
		if ti.Size >= 16<<10 && ti.Size <= 128<<10 {
			first = ti.Name
			break
		}
	}
	if first == "" {
		t.Fatal("the model has no tensor of 16-128 KiB")
	}
	want := read(first)
	for _, ti := range m.Model.Tensors {
		if m.Cache.Status(first).State == cache.Evicted {
			break
		}
		if ti.Name != first && ti.Size <= 128<<10 {
			read(ti.Name)
		}
	}
	if s := m.Cache.Status(first); s.State != cache.Evicted {
		t.Fatalf("%s is %s after reading the others, want evicted", first, s)
	}
	m.Root.Wait() // the invalidations run on their own goroutines
	before := m.Cache.Stats().Uploads
	if got := read(first); !bytes.Equal(got, want) {
		t.Fatalf("%s read back differs", first)
	}
	if after := m.Cache.Stats().Uploads; after != before+1 {
		t.Errorf("re-reading an evicted tensor made %d uploads, want 1 (the kernel served its stale pages)", after-before)
	}
}

// A control command sent to a node that is no tensor says so.
func TestControlOnOtherNodesIsNotSupported(t *testing.T) {
	m := testOpen(t, synth.Options{Preset: "tiny"}, Options{})
	name := m.Model.Tensors[0].Name
	for _, rel := range []string{"metadata.json", "stats.json", "tensors", "metadata", "tensors/" + name + "/shape", "tensors/" + name + "/status"} {
		path := filepath.Join(m.Dir, rel)
		for _, attr := range []string{ctl.XattrLoad, ctl.XattrEvict} {
			if err := syscall.Setxattr(path, attr, []byte("1"), 0); !errors.Is(err, syscall.ENOTSUP) {
				t.Errorf("setfattr %s on %s: %v, want ENOTSUP", attr, rel, err)
			}
		}
	}
}

// failingClose is a device whose Close fails.
type failingClose struct{ *hip.Host }

var errDeviceClose = errors.New("device close failed")

func (d failingClose) Close() error { d.Host.Close(); return errDeviceClose }

// Close releases everything even when a step fails, and returns the error.
func TestCloseReturnsEveryError(t *testing.T) {
	requireFuse(t)
	path := filepath.Join(t.TempDir(), "model.gguf")
	if _, err := synth.GenerateFile(path, synth.Options{Preset: "tiny"}); err != nil {
		t.Fatal(err)
	}
	m, err := Open(path, t.TempDir(), Options{Log: io.Discard, OpenDevice: func(context.Context, uint64) (hip.Backend, error) {
		return failingClose{hip.NewHost(hip.HostOptions{})}, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); !errors.Is(err, errDeviceClose) {
		t.Errorf("close: %v, want the device's error", err)
	}
	if _, ok, _ := Find(m.Dir); ok {
		t.Errorf("%s still mounted after a failing Close", m.Dir)
	}
}
