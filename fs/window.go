package fs

import (
	"fmt"
	"sync"
)

// readWindowBytes is the most an open data file downloads ahead of a
// sequential reader. Every device download costs a fixed overhead (bind the
// device, queue the copy, wait for its event: ~150 µs on an H200) on top of
// its bytes; the kernel asks for at most 1 MiB per read, so a window of 8
// reads pays that overhead once per 8 MiB while holding little memory per
// open file.
const readWindowBytes = 8 << 20

// windowPool recycles full-size window buffers between open files, so a
// model read tensor after tensor does not allocate 8 MiB per open.
type windowPool struct {
	size int
	p    sync.Pool // of *[]byte with cap == size
}

func newWindowPool(size int) *windowPool { return &windowPool{size: size} }

// get returns a buffer of n ≤ size bytes; only full-size ones are pooled, so
// a small tensor gets a buffer of its own size.
func (wp *windowPool) get(n int) []byte {
	if n == wp.size {
		if b, ok := wp.p.Get().(*[]byte); ok {
			return (*b)[:n]
		}
	}
	return make([]byte, n)
}

func (wp *windowPool) put(b []byte) {
	if cap(b) == wp.size {
		b = b[:cap(b)]
		wp.p.Put(&b)
	}
}

// readWindow is an open data file's download-ahead buffer. It holds bytes
// [start, start+len(buf)) of one tensor, downloaded in one call. A read
// inside the window is a copy; a read that starts where the previous one
// ended (a sequential reader) and falls outside refills the window from the
// read's offset; any other read downloads just what it asks for.
//
// The tensor never changes and the open file pins it, so the window cannot
// go stale; still, when valid reports that the device copy is gone, the
// window is dropped, so that reads go back to the cache (which uploads
// again and keeps the tensor's status true).
//
// Reads of one open file may run concurrently. The mutex guards the window,
// never a download: readers that need bytes a refill in flight will bring
// wait for it instead of downloading them again.
type readWindow struct {
	size  int64                           // the tensor's length
	limit int                             // the largest window
	fetch func(p []byte, off int64) error // the tensor's bytes [off, off+len(p)) from its device copy
	valid func() bool                     // false once the device copy is gone
	pool  *windowPool

	mu     sync.Mutex
	buf    []byte // bytes [start, start+len(buf)); nil when empty
	spare  []byte // memory of a dropped window, reused by the next fill
	start  int64
	next   int64       // where the latest read ended: a read starting here is sequential
	fill   *windowFill // the refill in flight, nil when none
	closed bool
}

// windowFill is a refill of [start, end) in flight; done closes when it ends.
type windowFill struct {
	start, end int64
	done       chan struct{}
	err        error
}

func newReadWindow(size int64, limit int, pool *windowPool, fetch func([]byte, int64) error, valid func() bool) *readWindow {
	return &readWindow{size: size, limit: limit, pool: pool, fetch: fetch, valid: valid}
}

// read fills p with the tensor's bytes at off; off+len(p) must not pass the
// tensor's end.
func (w *readWindow) read(p []byte, off int64) error {
	end := off + int64(len(p))
	if off < 0 || end < off || end > w.size {
		return fmt.Errorf("fs: read of %d bytes at %d outside a tensor of %d bytes", len(p), off, w.size)
	}
	if len(p) == 0 {
		return nil
	}
	w.mu.Lock()
	for {
		if w.buf != nil && !w.valid() {
			w.dropLocked()
		}
		if w.buf != nil && w.start <= off && end <= w.start+int64(len(w.buf)) {
			copy(p, w.buf[off-w.start:])
			w.servedLocked(end)
			w.mu.Unlock()
			return nil
		}
		f := w.fill
		if f == nil || off < f.start || end > f.end {
			break
		}
		// The refill in flight will bring these bytes: wait for it.
		w.mu.Unlock()
		<-f.done
		if f.err != nil {
			return f.err
		}
		w.mu.Lock()
	}

	sequential := off == w.next
	w.next = end
	fillEnd := min(w.size, off+int64(w.limit))
	if !sequential || w.closed || w.fill != nil || fillEnd <= end {
		// A random read, a read after release, a second stream while a
		// refill is in flight, or a read that would leave nothing ahead in
		// the window: download just what it asks for.
		if end == w.size {
			w.releaseLocked() // the reader is done with the window
		}
		w.mu.Unlock()
		return w.fetch(p, off)
	}

	f := &windowFill{start: off, end: fillEnd, done: make(chan struct{})}
	w.fill = f
	buf := w.takeBufLocked(int(fillEnd - off))
	w.mu.Unlock()

	err := w.fetch(buf, off)

	w.mu.Lock()
	w.fill = nil
	f.err = err
	close(f.done)
	if err == nil {
		copy(p, buf)
	}
	if err != nil || w.closed {
		w.pool.put(buf)
	} else {
		w.buf, w.start = buf, off
	}
	w.mu.Unlock()
	return err
}

// servedLocked records a read from the window that ended at end. A reader
// that has reached the tensor's end is done with the window: its memory
// goes back to the pool rather than waiting for the file's release.
func (w *readWindow) servedLocked(end int64) {
	w.next = end
	if end == w.size {
		w.releaseLocked()
	}
}

// releaseLocked empties the window and gives its memory back to the pool.
func (w *readWindow) releaseLocked() {
	w.dropLocked()
	w.releaseSpareLocked()
}

// takeBufLocked returns n bytes for a refill, reusing the window's memory
// (no reader touches it outside the lock, and the window is emptied here).
func (w *readWindow) takeBufLocked(n int) []byte {
	w.dropLocked()
	if cap(w.spare) >= n {
		b := w.spare[:n]
		w.spare = nil
		return b
	}
	w.releaseSpareLocked()
	return w.pool.get(n)
}

// dropLocked empties the window, keeping its memory for the next refill.
func (w *readWindow) dropLocked() {
	if w.buf == nil {
		return
	}
	if w.spare == nil {
		w.spare = w.buf
	} else {
		w.pool.put(w.buf)
	}
	w.buf = nil
}

func (w *readWindow) releaseSpareLocked() {
	if w.spare != nil {
		w.pool.put(w.spare)
		w.spare = nil
	}
}

// close gives the window's memory back; a refill in flight gives back its
// own when it ends. Later reads download just what they ask for.
func (w *readWindow) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	w.releaseLocked()
}
