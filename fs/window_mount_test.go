package fs

import (
	"bytes"
	"math/rand/v2"
	"os"
	"syscall"
	"testing"

	"github.com/ggufs/ggufs/gguf"
	"github.com/ggufs/ggufs/synth"
)

// Sequential O_DIRECT reads (each one a request to the server) of data and
// data.npy are served from one download of the tensor, not one per read,
// and return the tensor's bytes after the npy header.
func TestSequentialReadsShareOneDownload(t *testing.T) {
	f := testMount(t, synth.Options{Preset: "tiny", DType: "f32", Seed: 5}, 0)
	var ti *gguf.TensorInfo
	for _, c := range f.model.Tensors {
		if _, ok := npyKind(c.Type); ok && c.Size > 64<<10 && (ti == nil || c.Size > ti.Size) {
			ti = c
		}
	}
	if ti == nil {
		t.Fatal("the tiny f32 model has no tensor over 64 KiB")
	}
	const chunk = 4096
	// O_DIRECT wants an aligned buffer: mmap gives a page-aligned one.
	buf, err := syscall.Mmap(-1, 0, chunk, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANONYMOUS)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Munmap(buf)

	for _, name := range []string{"data", "data.npy"} {
		gets := func() int64 { s := f.cache.Stats(); return s.Hits + s.Misses }
		before := gets()
		got := readDirect(t, f.tensorPath(ti.Name, name), buf)
		if name == "data.npy" {
			got = got[len(f.root.mustTensor(t, ti.Name).npy):]
		}
		if !bytes.Equal(got, f.tensorBytes(ti)) {
			t.Errorf("%s: %d bytes read differ from the tensor's %d", name, len(got), ti.Size)
		}
		// The first read downloads the whole tensor (it is below the
		// window's size); every later read is a copy.
		if n := gets() - before; n != 1 {
			t.Errorf("%s: %d reads of %d bytes went to the cache %d times, want once",
				name, (ti.Size+chunk-1)/chunk, chunk, n)
		}
	}
}

// With a window smaller than the tensor, reads through the mount (O_DIRECT
// in small and odd steps, the page cache, random offsets, data and data.npy)
// cross many windows and read-aheads and always return the tensor's bytes,
// each window downloaded once for a sequential reader.
func TestReadAheadThroughTheMount(t *testing.T) {
	const limit = 64 << 10
	f := testMountTuned(t, synth.Options{Preset: "tiny", DType: "f32", Seed: 6}, 0,
		func(r *Root) { r.windows = unboundedPool(limit) })
	var ti *gguf.TensorInfo
	for _, c := range f.model.Tensors {
		if _, ok := npyKind(c.Type); ok && (ti == nil || c.Size > ti.Size) {
			ti = c
		}
	}
	if ti.Size < 8*limit {
		t.Fatalf("largest tensor %d bytes, want at least 8 windows", ti.Size)
	}
	want := f.tensorBytes(ti)
	buf, err := syscall.Mmap(-1, 0, 3*4096, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANONYMOUS)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Munmap(buf)

	for _, name := range []string{"data", "data.npy"} {
		header := 0
		if name == "data.npy" {
			header = len(f.root.mustTensor(t, ti.Name).npy)
		}
		for _, step := range []int{4096, 3 * 4096} {
			gets := func() int64 { s := f.cache.Stats(); return s.Hits + s.Misses }
			before := gets()
			got := readDirect(t, f.tensorPath(ti.Name, name), buf[:step])
			if !bytes.Equal(got[header:], want) {
				t.Errorf("%s in steps of %d: bytes differ from the tensor", name, step)
			}
			// One download per window: a reader that reaches a read-ahead
			// still in flight waits for it.
			windows := (int64(ti.Size) + limit - 1) / limit
			if n := gets() - before; n != windows {
				t.Errorf("%s in steps of %d: %d downloads for %d windows", name, step, n, windows)
			}
		}
		if got, err := os.ReadFile(f.tensorPath(ti.Name, name)); err != nil || !bytes.Equal(got[header:], want) {
			t.Errorf("%s through the page cache: %v", name, err)
		}
	}

	file, err := os.Open(f.tensorPath(ti.Name, "data"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	rng := rand.New(rand.NewPCG(6, 6))
	for range 200 {
		off := rng.IntN(len(want))
		n := min(1+rng.IntN(3*limit), len(want)-off)
		p := make([]byte, n)
		if _, err := file.ReadAt(p, int64(off)); err != nil || !bytes.Equal(p, want[off:off+n]) {
			t.Fatalf("ReadAt(%d, %d): %v, or bytes differ", off, n, err)
		}
	}
}

// readDirect reads the whole file at path with O_DIRECT, len(buf) bytes a
// read, so that every read reaches the server.
func readDirect(t *testing.T, path string, buf []byte) []byte {
	t.Helper()
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_DIRECT, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	var got []byte
	for {
		n, err := syscall.Read(fd, buf)
		if err != nil {
			t.Fatalf("%s: read at %d: %v", path, len(got), err)
		}
		if n == 0 {
			return got
		}
		got = append(got, buf[:n]...)
	}
}
