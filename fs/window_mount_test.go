package fs

import (
	"bytes"
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
		fd, err := syscall.Open(f.tensorPath(ti.Name, name), syscall.O_RDONLY|syscall.O_DIRECT, 0)
		if err != nil {
			t.Fatal(err)
		}
		var got []byte
		for {
			n, err := syscall.Read(fd, buf)
			if err != nil {
				t.Fatalf("%s: read at %d: %v", name, len(got), err)
			}
			if n == 0 {
				break
			}
			got = append(got, buf[:n]...)
		}
		syscall.Close(fd)
		if name == "data.npy" {
			got = got[len(f.root.byName[ti.Name].npy):]
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
