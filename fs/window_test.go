package fs

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// fakeTensor is a tensor's device copy as a readWindow sees it: it records
// every download.
type fakeTensor struct {
	data  []byte
	gone  atomic.Bool // the device copy was evicted
	fail  error       // returned by every download when set
	mu    sync.Mutex
	calls [][2]int64 // [off, len] of each download
	// gate, when set, holds each download until it is closed.
	gate chan struct{}
}

func newFakeTensor(n int) *fakeTensor {
	d := make([]byte, n)
	for i := range d {
		d[i] = byte(i*7 + i/251)
	}
	return &fakeTensor{data: d}
}

func (t *fakeTensor) fetch(p []byte, off int64) error {
	t.mu.Lock()
	t.calls = append(t.calls, [2]int64{off, int64(len(p))})
	t.mu.Unlock()
	if t.gate != nil {
		<-t.gate
	}
	if t.fail != nil {
		return t.fail
	}
	if off < 0 || off+int64(len(p)) > int64(len(t.data)) {
		return fmt.Errorf("download of %d bytes at %d outside %d", len(p), off, len(t.data))
	}
	copy(p, t.data[off:])
	return nil
}

func (t *fakeTensor) downloads() [][2]int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([][2]int64(nil), t.calls...)
}

// unboundedPool is a read pool whose cap is never reached.
func unboundedPool(size int) *readPool { return newReadPool(size, 1<<62) }

// window is a window without read-ahead, whose downloads happen in the
// reads and so in a fixed order.
func (t *fakeTensor) window(limit int) *readWindow {
	return newReadWindow(int64(len(t.data)), limit, unboundedPool(limit), t.fetch, func() bool { return !t.gone.Load() }, nil)
}

// windowAhead is a window that reads ahead in the background, counted in bg.
func (t *fakeTensor) windowAhead(limit int, bg *sync.WaitGroup) *readWindow {
	return newReadWindow(int64(len(t.data)), limit, unboundedPool(limit), t.fetch, func() bool { return !t.gone.Load() }, bg)
}

func readAndCheck(t *testing.T, w *readWindow, ft *fakeTensor, off, n int) {
	t.Helper()
	p := make([]byte, n)
	if err := w.readInto(p, int64(off)); err != nil {
		t.Fatalf("read(%d, %d): %v", off, n, err)
	}
	if !bytes.Equal(p, ft.data[off:off+n]) {
		t.Fatalf("read(%d, %d): wrong bytes", off, n)
	}
}

// A sequential reader costs one download per window, each starting at the
// read that missed and capped at the tensor's end.
func TestWindowSequentialDownloadsOncePerWindow(t *testing.T) {
	ft := newFakeTensor(100)
	w := ft.window(32)
	for off := 0; off < 100; off += 8 {
		readAndCheck(t, w, ft, off, min(8, 100-off))
	}
	want := [][2]int64{{0, 32}, {32, 32}, {64, 32}, {96, 4}}
	if got := ft.downloads(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("downloads %v, want %v", got, want)
	}
}

// A read that does not start where the previous one ended downloads just
// its own bytes, and so does every read of a random reader.
func TestWindowRandomReadsDownloadOnlyWhatTheyAsk(t *testing.T) {
	ft := newFakeTensor(1000)
	w := ft.window(64)
	reads := [][2]int{{500, 10}, {100, 20}, {900, 5}, {0, 1}, {300, 64}}
	for _, r := range reads {
		readAndCheck(t, w, ft, r[0], r[1])
	}
	// None starts where the one before ended (a first read is sequential
	// only at 0).
	got := ft.downloads()
	if len(got) != len(reads) {
		t.Fatalf("downloads %v, want one per read", got)
	}
	for i, r := range reads {
		if got[i] != [2]int64{int64(r[0]), int64(r[1])} {
			t.Errorf("download %d = %v, want exactly read %v", i, got[i], r)
		}
	}
	if w.cur.buf != nil || w.nxt.buf != nil || w.spare != nil {
		t.Error("random reads filled a window")
	}
}

// Window edges: a read crossing the window's end refills from its offset;
// a read that would leave nothing ahead (the tensor's tail, or a tensor no
// bigger than the read) downloads directly; out-of-range reads fail.
func TestWindowBoundaries(t *testing.T) {
	ft := newFakeTensor(50)
	w := ft.window(16)
	readAndCheck(t, w, ft, 0, 10)  // fills [0, 16)
	readAndCheck(t, w, ft, 10, 10) // crosses 16: refills [10, 26)
	readAndCheck(t, w, ft, 20, 6)  // inside
	readAndCheck(t, w, ft, 26, 24) // to the end, nothing left to read ahead: direct
	want := [][2]int64{{0, 16}, {10, 16}, {26, 24}}
	if got := ft.downloads(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("downloads %v, want %v", got, want)
	}
	if w.cur.buf != nil || w.nxt.buf != nil || w.spare != nil {
		t.Error("the window kept its memory after the reader reached the end")
	}

	small := newFakeTensor(5)
	sw := small.window(16)
	readAndCheck(t, sw, small, 0, 5)
	if got := small.downloads(); fmt.Sprint(got) != fmt.Sprint([][2]int64{{0, 5}}) || sw.cur.buf != nil {
		t.Errorf("a whole small tensor in one read: downloads %v, window kept %v; want one direct download and no window", got, sw.cur.buf != nil)
	}

	for _, r := range [][2]int64{{-1, 2}, {49, 2}, {60, 1}} {
		if err := w.readInto(make([]byte, r[1]), r[0]); err == nil {
			t.Errorf("read(%d, %d) outside 50 bytes succeeded", r[0], r[1])
		}
	}
	if err := w.readInto(nil, 50); err != nil {
		t.Errorf("empty read at the end: %v", err)
	}
}

// A tensor smaller than the window gets a window of its own size, not a
// full one.
func TestWindowCappedAtTensorSize(t *testing.T) {
	ft := newFakeTensor(40)
	w := ft.window(1 << 20)
	readAndCheck(t, w, ft, 0, 4)
	if cap(w.cur.buf.b) != 40 {
		t.Errorf("window of %d bytes for a 40-byte tensor", cap(w.cur.buf.b))
	}
}

// When the device copy is gone the window is dropped: the next read goes
// back to the device (the cache) instead of being served from memory.
func TestWindowDroppedWhenEvicted(t *testing.T) {
	ft := newFakeTensor(100)
	w := ft.window(64)
	readAndCheck(t, w, ft, 0, 8)
	readAndCheck(t, w, ft, 8, 8) // from the window
	ft.gone.Store(true)
	readAndCheck(t, w, ft, 16, 8)
	want := [][2]int64{{0, 64}, {16, 64}}
	if got := ft.downloads(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("downloads %v, want %v (a refill after eviction)", got, want)
	}
}

// A failed download is reported and leaves no window; the next read tries
// the device again.
func TestWindowDownloadErrorKeepsNothing(t *testing.T) {
	ft := newFakeTensor(100)
	boom := errors.New("boom")
	ft.fail = boom
	w := ft.window(64)
	if err := w.readInto(make([]byte, 8), 0); !errors.Is(err, boom) {
		t.Fatalf("read = %v, want the download's error", err)
	}
	if w.cur.buf != nil {
		t.Fatal("a failed refill left a window")
	}
	ft.fail = nil
	readAndCheck(t, w, ft, 8, 8)
	if n := len(ft.downloads()); n != 2 {
		t.Errorf("%d downloads, want 2 (the failure and a retry)", n)
	}
}

// After release the window's memory is back in the pool and later reads
// (the kernel may still send some) download directly.
func TestWindowClose(t *testing.T) {
	ft := newFakeTensor(100)
	w := ft.window(64)
	readAndCheck(t, w, ft, 0, 8)
	w.close()
	if w.cur.buf != nil || w.nxt.buf != nil || w.spare != nil {
		t.Fatal("close kept the window's memory")
	}
	readAndCheck(t, w, ft, 8, 8)
	if got := ft.downloads(); len(got) != 2 || got[1] != [2]int64{8, 8} {
		t.Errorf("downloads %v, want a direct one after close", got)
	}
	if w.cur.buf != nil {
		t.Error("a read after close filled a window")
	}
}

// Readers that need bytes a refill in flight will bring wait for it instead
// of downloading them again.
func TestWindowReadersShareARefillInFlight(t *testing.T) {
	ft := newFakeTensor(100)
	ft.gate = make(chan struct{})
	w := ft.window(64)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		readAndCheck(t, w, ft, 0, 8)
	}()
	for len(ft.downloads()) == 0 { // the refill of [0, 64) has started
		runtime.Gosched()
	}
	errs := make(chan error, 4)
	for i := 1; i <= 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := make([]byte, 8)
			if err := w.readInto(p, int64(i*8)); err != nil || !bytes.Equal(p, ft.data[i*8:i*8+8]) {
				errs <- fmt.Errorf("read at %d: %v", i*8, err)
			}
		}()
	}
	close(ft.gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// The four waiters may or may not have queued before the refill ended;
	// either way they read from the window.
	if got := ft.downloads(); len(got) != 1 {
		t.Errorf("downloads %v, want the one refill", got)
	}
}

// Concurrent readers of one open file, sequential and random, copying out or
// holding replies, always get the tensor's bytes (run with -race).
func TestWindowConcurrentReaders(t *testing.T) {
	ft := newFakeTensor(1 << 16)
	var bg sync.WaitGroup
	w := ft.windowAhead(4096, &bg)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 1))
			off := 0
			for range 200 {
				n := 1 + rng.IntN(1500)
				if g%2 == 1 || off+n > len(ft.data) {
					off = rng.IntN(len(ft.data) - 1)
				}
				n = min(n, len(ft.data)-off)
				p := make([]byte, n)
				var err error
				if g%4 < 2 {
					err = w.readInto(p, int64(off))
				} else {
					// A reply that others' refills must not overwrite
					// before it is sent.
					var ref *windowBuf
					p, ref, err = w.read(p, int64(off))
					runtime.Gosched()
					if ref != nil {
						defer w.unref(ref)
					}
				}
				if err != nil || !bytes.Equal(p, ft.data[off:off+n]) {
					errs <- fmt.Errorf("reader %d: read(%d, %d): %v", g, off, n, err)
					return
				}
				off += n
			}
		}()
	}
	wg.Wait()
	w.close()
	bg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// A reply pointing into the window keeps its memory from being refilled
// until it is sent (unref); then the next refill reuses that memory.
func TestWindowReplyKeepsItsBytesUntilSent(t *testing.T) {
	ft := newFakeTensor(100)
	w := ft.window(32)
	data, ref, err := w.read(make([]byte, 8), 0) // fills [0, 32)
	if err != nil || ref == nil {
		t.Fatalf("read = %v, %v; want a reply from the window", ref, err)
	}
	first := &ref.b[0]
	readAndCheck(t, w, ft, 8, 24) // the rest of the window
	readAndCheck(t, w, ft, 32, 8) // refills [32, 64) while the reply is unsent
	if !bytes.Equal(data, ft.data[0:8]) {
		t.Fatal("a refill overwrote bytes a reply still points to")
	}
	if &w.cur.buf.b[0] == first {
		t.Fatal("the refill reused memory a reply still points to")
	}
	w.unref(ref)
	readAndCheck(t, w, ft, 64, 8) // refills [64, 96): the sent reply's memory is free again
	if &w.cur.buf.b[0] != first && (w.spare == nil || &w.spare[0] != first) {
		t.Error("memory of a sent reply was not kept for reuse")
	}
}

// windowReply hands go-fuse the window's bytes for writev and, when asked
// for a flat buffer instead, copies: the bytes it returns never alias the
// window, which may be refilled once Done is called.
func TestWindowReply(t *testing.T) {
	ft := newFakeTensor(100)
	w := ft.window(32)
	data, ref, err := w.read(make([]byte, 8), 0)
	if err != nil || ref == nil {
		t.Fatalf("read = %v, %v", ref, err)
	}
	r := &windowReply{w: w, ref: ref, data: data}
	if r.Size() != 8 {
		t.Errorf("Size = %d, want 8", r.Size())
	}
	if s, st := r.Slices(); !st.Ok() || len(s) != 1 || &s[0][0] != &data[0] {
		t.Errorf("Slices = %v, %v; want the window's bytes", s, st)
	}
	for _, buf := range [][]byte{make([]byte, 0, 16), nil} {
		b, st := r.Bytes(buf)
		if !st.Ok() || !bytes.Equal(b, ft.data[:8]) || &b[0] == &data[0] {
			t.Errorf("Bytes(cap %d) = %v, %v; want a copy of the bytes", cap(buf), b, st)
		}
	}
	r.Done()
	r.Done() // a second call must not release the memory twice
	if ref.refs != 0 {
		t.Errorf("refs after Done = %d, want 0", ref.refs)
	}
}

// A sequential reader past the middle of the window starts the download of
// the next span in the background; reads of it then come from memory, and
// each byte is downloaded once whether or not the read-ahead has finished
// when the reader gets there.
func TestWindowReadsAheadInTheBackground(t *testing.T) {
	for _, waitEach := range []bool{true, false} {
		ft := newFakeTensor(128)
		var bg sync.WaitGroup
		w := ft.windowAhead(32, &bg)
		readAndCheck(t, w, ft, 0, 8)
		readAndCheck(t, w, ft, 8, 8) // the middle: [32, 64) starts downloading
		bg.Wait()
		if got := ft.downloads(); fmt.Sprint(got) != fmt.Sprint([][2]int64{{0, 32}, {32, 32}}) {
			t.Fatalf("downloads %v, want [0, 32) then [32, 64) read ahead", got)
		}
		for off := 16; off < 128; off += 8 {
			readAndCheck(t, w, ft, off, 8)
			if waitEach {
				bg.Wait()
			}
		}
		bg.Wait()
		want := [][2]int64{{0, 32}, {32, 32}, {64, 32}, {96, 32}}
		if got := ft.downloads(); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("waiting for each read-ahead %v: downloads %v, want %v", waitEach, got, want)
		}
		if w.cur.buf != nil || w.nxt.buf != nil || w.spare != nil {
			t.Errorf("the window kept memory after the reader reached the end")
		}
	}
}

// An npy file's reads are offset by its header, so one read in each span
// straddles the border between the window and the read-ahead: it is served
// from both without another download.
func TestWindowReadAcrossSpans(t *testing.T) {
	ft := newFakeTensor(100)
	var bg sync.WaitGroup
	w := ft.windowAhead(32, &bg)
	readAndCheck(t, w, ft, 0, 5)
	for off := 5; off < 100; off += 8 {
		bg.Wait() // the read-ahead is there: the straddling read is served from memory
		readAndCheck(t, w, ft, off, min(8, 100-off))
	}
	bg.Wait()
	want := [][2]int64{{0, 32}, {32, 32}, {64, 32}, {96, 4}}
	if got := ft.downloads(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("downloads %v, want %v", got, want)
	}
}

// Releasing the file while a read-ahead is in flight gives its memory back
// when it ends, and a read-ahead of a tensor no longer resident downloads
// nothing (it would upload the tensor again).
func TestWindowReadAheadAfterCloseOrEviction(t *testing.T) {
	ft := newFakeTensor(100)
	var bg sync.WaitGroup
	w := ft.windowAhead(32, &bg)
	readAndCheck(t, w, ft, 0, 8)
	ft.gate = make(chan struct{}) // hold the read-ahead
	readAndCheck(t, w, ft, 8, 8)
	w.close()
	close(ft.gate)
	bg.Wait()
	if w.cur.buf != nil || w.nxt.buf != nil || w.spare != nil {
		t.Error("a read-ahead that ended after release kept its memory")
	}

	ft2 := newFakeTensor(100)
	w2 := ft2.windowAhead(32, &bg)
	readAndCheck(t, w2, ft2, 0, 8)
	ft2.gone.Store(true)
	w2.mu.Lock()
	w2.prefetchLocked(16) // as a read at the middle does, after eviction
	w2.mu.Unlock()
	bg.Wait()
	if got := ft2.downloads(); len(got) != 1 {
		t.Errorf("downloads %v: a read-ahead after eviction downloaded", got)
	}
}
