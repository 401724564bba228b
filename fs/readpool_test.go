package fs

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"

	"github.com/ggufs/ggufs/gguf"
	"github.com/ggufs/ggufs/mount/ctl"
	"github.com/ggufs/ggufs/synth"
)

// The pool never hands out or keeps more than its cap, refuses past it,
// and keeps at most readPoolKeepIdle full windows once nobody uses them.
func TestReadPoolCap(t *testing.T) {
	p := newReadPool(100, 350)
	var got [][]byte
	for range 3 {
		b := p.get(100)
		if len(b) != 100 {
			t.Fatalf("get(100) under the cap: %d bytes", len(b))
		}
		got = append(got, b)
	}
	if b := p.get(100); b != nil {
		t.Fatal("get past the cap returned memory")
	}
	small := p.get(50)
	if len(small) != 50 {
		t.Fatalf("get(50) within the cap: %d bytes", len(small))
	}
	if b := p.get(1); b != nil {
		t.Fatal("get past the cap returned memory")
	}
	s := p.snapshot()
	if s.InUseBytes != 350 || s.Refusals != 2 || s.Grants != 4 || s.PeakBytes != 350 {
		t.Fatalf("stats %+v", s)
	}
	for _, b := range got {
		p.put(b)
	}
	p.put(small)
	s = p.snapshot()
	if s.InUseBytes != 0 || s.IdleBytes != readPoolKeepIdle*100 {
		t.Fatalf("after every put: %+v, want nothing in use and %d windows idle", s, readPoolKeepIdle)
	}
	// An idle window is reused; a smaller buffer may drop idle ones to fit.
	if b := p.get(100); len(b) != 100 || p.snapshot().IdleBytes != (readPoolKeepIdle-1)*100 {
		t.Fatalf("reuse: %+v", p.snapshot())
	}
	if b := p.get(250); len(b) != 250 {
		t.Fatalf("get(250) after dropping idle windows: %d bytes (%+v)", len(b), p.snapshot())
	}
	if s := p.snapshot(); s.InUseBytes+s.IdleBytes > s.CapBytes {
		t.Fatalf("over the cap: %+v", s)
	}
}

func TestDefaultReadPoolBytes(t *testing.T) {
	for _, c := range []struct {
		budget uint64
		want   int64
	}{
		{0, minReadPoolBytes},
		{64 << 20, minReadPoolBytes},
		{1 << 30, 64 << 20},
		{1 << 40, maxReadPoolBytes},
	} {
		if got := DefaultReadPoolBytes(c.budget); got != c.want {
			t.Errorf("DefaultReadPoolBytes(%d) = %d, want %d", c.budget, got, c.want)
		}
	}
}

// 150 open files reading sequentially with read-ahead, full-size windows,
// stay within the pool's cap: the pool's accounting and the bytes the Go
// heap allocated both say so (without the cap, 150 × two 4 MiB windows were
// 1.2 GB). Every read still returns the tensor's bytes.
func TestManyOpenReadersStayWithinTheReadPool(t *testing.T) {
	const (
		readers  = 150
		capBytes = 4 * readWindowBytes
		readLen  = 1 << 20
	)
	ft := newFakeTensor(3 * readWindowBytes)
	pool := newReadPool(readWindowBytes, capBytes)
	var bg sync.WaitGroup
	p := make([]byte, readLen)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	windows := make([]*readWindow, readers)
	for i := range windows {
		windows[i] = newReadWindow(int64(len(ft.data)), readWindowBytes, pool, ft.fetch, func() bool { return true }, &bg)
	}
	// Every reader reads the first 3 MiB of its tensor (past the middle of
	// its first window, so it asks for a read-ahead) and keeps the file open.
	for off := 0; off < 3*readLen; off += readLen {
		for _, w := range windows {
			if err := w.readInto(p, int64(off)); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(p, ft.data[off:off+readLen]) {
				t.Fatalf("read at %d: wrong bytes", off)
			}
		}
	}
	bg.Wait()
	runtime.ReadMemStats(&after)
	s := pool.snapshot()
	if s.PeakBytes > capBytes || s.InUseBytes+s.IdleBytes > capBytes {
		t.Fatalf("pool over its cap of %d: %+v", capBytes, s)
	}
	if s.Refusals == 0 {
		t.Fatalf("150 readers never reached a cap of 4 windows: %+v", s)
	}
	// The heap grew by at most the cap plus a little per reader (each
	// window's bookkeeping), not by a window per reader.
	if grew := after.TotalAlloc - before.TotalAlloc; grew > capBytes+readers*4096 {
		t.Fatalf("150 readers allocated %d bytes; cap %d", grew, capBytes)
	}
	for _, w := range windows {
		w.close()
	}
	if s := pool.snapshot(); s.InUseBytes != 0 || s.IdleBytes > readPoolKeepIdle*readWindowBytes {
		t.Fatalf("after every file closed: %+v", s)
	}
}

// Through the mount: 150 open data files read with O_DIRECT stay within the
// read pool's cap and read the right bytes; the files that got no window
// read without one.
func TestManyOpenFilesThroughTheMountStayWithinTheReadPool(t *testing.T) {
	const (
		limit    = 64 << 10
		capBytes = 4 * limit
		readers  = 150
	)
	var pool *readPool
	f := testMountTuned(t, synth.Options{Preset: "tiny", DType: "f32", Seed: 6}, 0,
		func(r *Root) { pool = newReadPool(limit, capBytes); r.windows = pool })
	var ti *gguf.TensorInfo
	for _, c := range f.model.Tensors {
		if ti == nil || c.Size > ti.Size {
			ti = c
		}
	}
	if ti.Size < 4*limit {
		t.Fatalf("largest tensor %d bytes, want at least 4 windows", ti.Size)
	}
	want := f.tensorBytes(ti)
	buf, err := syscall.Mmap(-1, 0, 4096, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANONYMOUS)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Munmap(buf)
	fds := make([]int, readers)
	for i := range fds {
		if fds[i], err = syscall.Open(f.tensorPath(ti.Name, "data"), syscall.O_RDONLY|syscall.O_DIRECT, 0); err != nil {
			t.Fatal(err)
		}
		defer syscall.Close(fds[i])
	}
	for off := 0; off < 2*limit; off += len(buf) {
		for _, fd := range fds {
			n, err := syscall.Pread(fd, buf, int64(off))
			if err != nil || n != len(buf) || !bytes.Equal(buf, want[off:off+n]) {
				t.Fatalf("pread at %d: %d, %v, or wrong bytes", off, n, err)
			}
		}
	}
	f.root.readAhead.Wait()
	s := f.root.ReadPoolStats()
	if s.PeakBytes > capBytes || s.Refusals == 0 {
		t.Fatalf("read pool %+v: peak over the cap of %d, or 150 readers never reached it", s, capBytes)
	}
	// stats.json reports the pool.
	var st ctl.Stats
	if err := json.Unmarshal([]byte(readText(t, filepath.Join(f.dir, "stats.json"))), &st); err != nil {
		t.Fatal(err)
	}
	if p := st.ReadPool; p.CapBytes != capBytes || p.PeakBytes != s.PeakBytes || p.Refusals != s.Refusals || p.Grants == 0 {
		t.Errorf("stats.json read_pool %+v, want the pool's %+v", p, s)
	}
}
