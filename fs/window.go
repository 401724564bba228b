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

// windowBuf is a window's memory. Replies may point into it after the read
// that made them returned (windowReply), so it is written again only once
// none does. Its fields are guarded by the readWindow's mutex.
type windowBuf struct {
	b    []byte
	refs int  // replies not yet sent that point into b
	dead bool // no longer the window: recycle b when refs reaches 0
}

// readWindow is an open data file's download-ahead buffer. It holds bytes
// [start, start+len(cur.b)) of one tensor, downloaded in one call. A read
// inside the window is served from it; a read that starts where the previous
// one ended (a sequential reader) and falls outside refills the window from
// the read's offset; any other read downloads just what it asks for.
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
	cur    *windowBuf // bytes [start, start+len(cur.b)); nil when empty
	start  int64
	spare  []byte      // memory no reply points into, for the next refill
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

// read returns the tensor's bytes [off, off+len(p)), which must lie within
// the tensor: either in p (ref is nil), or as a slice of the window that
// stays valid until the caller passes ref to unref.
func (w *readWindow) read(p []byte, off int64) (data []byte, ref *windowBuf, err error) {
	end := off + int64(len(p))
	if off < 0 || end < off || end > w.size {
		return nil, nil, fmt.Errorf("fs: read of %d bytes at %d outside a tensor of %d bytes", len(p), off, w.size)
	}
	if len(p) == 0 {
		return p, nil, nil
	}
	w.mu.Lock()
	for {
		if w.cur != nil && !w.valid() {
			w.dropLocked()
		}
		if c := w.cur; c != nil && w.start <= off && end <= w.start+int64(len(c.b)) {
			c.refs++
			data := c.b[off-w.start : end-w.start]
			w.servedLocked(end)
			w.mu.Unlock()
			return data, c, nil
		}
		f := w.fill
		if f == nil || off < f.start || end > f.end {
			break
		}
		// The refill in flight will bring these bytes: wait for it.
		w.mu.Unlock()
		<-f.done
		if f.err != nil {
			return nil, nil, f.err
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
		return p, nil, w.fetch(p, off)
	}

	f := &windowFill{start: off, end: fillEnd, done: make(chan struct{})}
	w.fill = f
	w.dropLocked()
	buf := w.takeSpareLocked(int(fillEnd - off))
	w.mu.Unlock()

	err = w.fetch(buf, off)

	w.mu.Lock()
	defer w.mu.Unlock()
	w.fill = nil
	f.err = err
	close(f.done)
	if err != nil || w.closed {
		if err == nil {
			copy(p, buf)
		}
		w.pool.put(buf)
		return p, nil, err
	}
	w.cur, w.start = &windowBuf{b: buf, refs: 1}, off
	return buf[:len(p)], w.cur, nil
}

// unref says a reply pointing into ref's memory has been sent.
func (w *readWindow) unref(ref *windowBuf) {
	w.mu.Lock()
	defer w.mu.Unlock()
	ref.refs--
	if ref.refs == 0 && ref.dead {
		w.recycleLocked(ref.b)
	}
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

// dropLocked empties the window; its memory is reused once no reply points
// into it.
func (w *readWindow) dropLocked() {
	c := w.cur
	if c == nil {
		return
	}
	w.cur = nil
	c.dead = true
	if c.refs == 0 {
		w.recycleLocked(c.b)
	}
}

// recycleLocked keeps b for the next refill, or gives it to the pool when
// one is kept already or the file is released.
func (w *readWindow) recycleLocked(b []byte) {
	if w.spare == nil && !w.closed {
		w.spare = b
	} else {
		w.pool.put(b)
	}
}

// takeSpareLocked returns n bytes for a refill.
func (w *readWindow) takeSpareLocked(n int) []byte {
	if cap(w.spare) >= n {
		b := w.spare[:n]
		w.spare = nil
		return b
	}
	w.releaseSpareLocked()
	return w.pool.get(n)
}

// releaseLocked empties the window and gives its memory back to the pool.
func (w *readWindow) releaseLocked() {
	w.dropLocked()
	w.releaseSpareLocked()
}

func (w *readWindow) releaseSpareLocked() {
	if w.spare != nil {
		w.pool.put(w.spare)
		w.spare = nil
	}
}

// readInto fills p with the tensor's bytes at off, copying out of the window.
func (w *readWindow) readInto(p []byte, off int64) error {
	data, ref, err := w.read(p, off)
	if ref != nil {
		copy(p, data)
		w.unref(ref)
	}
	return err
}

// close gives the window's memory back; a refill in flight, or replies not
// yet sent, give back theirs when they end. Later reads download just what
// they ask for.
func (w *readWindow) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	w.releaseLocked()
}
