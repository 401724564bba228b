package fs

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/ggufs/ggufs/cache"
	"github.com/ggufs/ggufs/gguf"
	"github.com/ggufs/ggufs/hip"
)

// benchViewElems is each benchmark tensor's element count: 32 MiB of float32.
const benchViewElems = 8 << 20

// benchViewModel writes a model of one f32 tensor and one tensor of each of
// a few quantized types, all of benchViewElems elements, of random bytes.
func benchViewModel(b *testing.B, types []gguf.Type) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "views.gguf")
	out, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer out.Close()
	var specs []gguf.TensorSpec
	for _, typ := range types {
		specs = append(specs, gguf.TensorSpec{Name: "w." + typ.String(), Type: typ, Dims: []uint64{4096, benchViewElems / 4096}})
	}
	w, err := gguf.NewWriter(out, nil, specs, gguf.WriterOptions{})
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(7, 8))
	for _, t := range w.Tensors() {
		data := make([]byte, t.Size)
		for i := range data {
			data[i] = byte(r.Uint32())
		}
		if err := w.WriteTensorBytes(t.Name, data); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	return path
}

// benchMount mounts path in this process on the host backend.
func benchMount(b *testing.B, path string) string {
	b.Helper()
	model, err := gguf.OpenModel(path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { model.Close() })
	dev := hip.NewHost(hip.HostOptions{Capacity: 1 << 30})
	b.Cleanup(func() { dev.Close() })
	var root *Root
	c, err := cache.New(dev, cache.TensorsFromModel(model), cache.Options{
		Budget: 512 << 20, OnEvict: func(name string) { root.OnEvict(name) }})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	if root, err = New(Config{Model: model, Cache: c, Device: dev.String()}); err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	server, err := Mount(dir, root, MountOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := server.Unmount(); err != nil {
			b.Errorf("unmount: %v", err)
		}
		root.Wait()
	})
	return dir
}

// readAllDirect reads path to its end with O_DIRECT, so every read reaches
// the filesystem rather than the page cache, and returns the bytes read.
func readAllDirect(b *testing.B, path string, buf []byte) int64 {
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_DIRECT, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer syscall.Close(fd)
	var total int64
	for {
		n, err := syscall.Read(fd, buf)
		if err != nil {
			b.Fatalf("%s: read at %d: %v", path, total, err)
		}
		if n == 0 {
			return total
		}
		total += int64(n)
	}
}

// BenchmarkFloatViews reads tensors/<name>/f32 of quantized tensors through
// the mount in 1 MiB O_DIRECT reads, against reading data.npy of an f32
// tensor of the same output size in the same run (vs-npy: 1 is as fast).
func BenchmarkFloatViews(b *testing.B) {
	types := []gguf.Type{gguf.TypeF32, gguf.TypeQ4_K, gguf.TypeQ8_0, gguf.TypeQ6_K, gguf.TypeQ4_0, gguf.TypeIQ2_XXS}
	dir := benchMount(b, benchViewModel(b, types))
	buf := make([]byte, 1<<20)
	npyPath := filepath.Join(dir, "tensors", "w.f32", "data.npy")
	readAllDirect(b, npyPath, buf) // upload once: the baseline serves from the device copy
	for _, typ := range types {
		path := filepath.Join(dir, "tensors", "w."+typ.String(), "f32")
		b.Run(typ.String(), func(b *testing.B) {
			var viewNs, npyNs int64
			var size int64
			for i := 0; i < b.N; i++ {
				b.StartTimer()
				start := b.Elapsed()
				size = readAllDirect(b, path, buf)
				viewNs += int64(b.Elapsed() - start)
				start = b.Elapsed()
				readAllDirect(b, npyPath, buf)
				npyNs += int64(b.Elapsed() - start)
			}
			b.SetBytes(size)
			b.ReportMetric(float64(size)*float64(b.N)/float64(viewNs), "f32-GB/s")
			b.ReportMetric(float64(size)*float64(b.N)/float64(npyNs), "npy-GB/s")
			b.ReportMetric(float64(npyNs)/float64(viewNs), "vs-npy")
		})
	}
}
