package cache

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ggufs/ggufs/hip"
)

// benchFile writes n tensors of size bytes each to a file in dir and returns
// them as cache tensors backed by the file (mapped, and named for pread).
func benchFile(b *testing.B, dir string, n int, size int) ([]Tensor, *os.File) {
	b.Helper()
	path := filepath.Join(dir, "model.bin")
	buf := make([]byte, size)
	for i := range buf {
		buf[i] = byte(i * 7)
	}
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	for range n {
		if _, err := f.Write(buf); err != nil {
			b.Fatal(err)
		}
	}
	mem, err := syscall.Mmap(int(f.Fd()), 0, n*size, syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = syscall.Munmap(mem); _ = f.Close() })
	tensors := make([]Tensor, n)
	for i := range tensors {
		off := i * size
		tensors[i] = Tensor{Name: fmt.Sprintf("t%d", i), Size: uint64(size),
			Source: func() (hip.Source, error) { return hip.FileRange(f, int64(off), mem[off:off+size]) }}
	}
	return tensors, f
}

// parallelPread reads n bytes of f into dst with one goroutine per core in
// 4 MiB chunks: the plain way to move the same bytes into memory.
func parallelPread(f *os.File, dst []byte) error {
	const chunk = 4 << 20
	work := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	for range max(2, runtime.NumCPU()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for off := range work {
				end := min(off+chunk, len(dst))
				if _, err := f.ReadAt(dst[off:end], int64(off)); err != nil {
					mu.Lock()
					first = err
					mu.Unlock()
				}
			}
		}()
	}
	for off := 0; off < len(dst); off += chunk {
		work <- off
	}
	close(work)
	wg.Wait()
	return first
}

// BenchmarkLoadHostAgainstParallelPread times a whole Load on the host
// backend (warm page cache) against a parallel pread of the same bytes into
// fresh memory measured in the same run, and reports the ratio of their
// rates.
func BenchmarkLoadHostAgainstParallelPread(b *testing.B) {
	const n, size = 64, 8 << 20 // 512 MiB in tensors of 8 MiB
	tensors, f := benchFile(b, b.TempDir(), n, size)
	total := uint64(n * size)
	dst := make([]byte, total)
	if err := parallelPread(f, dst); err != nil { // warms the page cache
		b.Fatal(err)
	}
	var preadTime, loadTime time.Duration
	for b.Loop() {
		// Into fresh pages, as the load writes into new device memory
		// (the host backend's memfds).
		fresh, err := syscall.Mmap(-1, 0, int(total), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANONYMOUS)
		if err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		if err := parallelPread(f, fresh); err != nil {
			b.Fatal(err)
		}
		preadTime += time.Since(t0)
		_ = syscall.Munmap(fresh)

		h := hip.NewHost(hip.HostOptions{Capacity: 2 * total})
		c, err := New(h, tensors, Options{Budget: 2 * total})
		if err != nil {
			b.Fatal(err)
		}
		t0 = time.Now()
		err = c.LoadAll(context.Background(), nil, nil)
		loadTime += time.Since(t0)
		if err != nil {
			b.Fatal(err)
		}
		_ = c.Close()
		_ = h.Close()
	}
	preadRate := float64(total) * float64(b.N) / preadTime.Seconds() / 1e9
	loadRate := float64(total) * float64(b.N) / loadTime.Seconds() / 1e9
	b.ReportMetric(preadRate, "pread-GB/s")
	b.ReportMetric(loadRate, "load-GB/s")
	b.ReportMetric(loadRate/preadRate, "ratio")
}
