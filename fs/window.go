package fs

import (
	"errors"
	"fmt"
	"sync"
)

// readWindowBytes is the size of each span an open data file downloads for a
// sequential reader. Every device download costs a fixed overhead (bind the
// device, queue the copy, wait for its event: ~150 µs on an H200) on top of
// its bytes; the kernel asks for at most 1 MiB per read, so a span of 4
// reads pays that overhead once per 4 MiB (one of the GPU backend's 4 MiB
// staging buffers), and the read-ahead moves it off the reader's path. Larger
// spans do not pay: the kernel copies each reply out of the span, and an open
// file's two spans should stay in the CPU's cache (8 MiB spans cost the host
// backend 0.72 of bare go-fuse on O_DIRECT reads against 0.85 for 2 or 4 MiB).
const readWindowBytes = 4 << 20

// windowBuf is a window's memory. Replies may point into it after the read
// that made them returned (windowReply), so it is written again only once
// none does. Its fields are guarded by the readWindow's mutex.
type windowBuf struct {
	b    []byte
	refs int  // replies not yet sent that point into b
	dead bool // no longer a window: recycle b when refs reaches 0
}

// span is tensor bytes [start, start+len(buf.b)) held in memory.
type span struct {
	buf   *windowBuf // nil when empty
	start int64
}

func (s span) end() int64 { return s.start + int64(len(s.buf.b)) }

func (s span) holds(off, end int64) bool {
	return s.buf != nil && s.start <= off && end <= s.end()
}

// readWindow is an open data file's download-ahead buffer. It holds a span
// of one tensor's bytes, downloaded in one call, and, for a sequential
// reader, the span that follows it, downloaded in the background while the
// reader is served from the first. A read inside the window is served from
// memory; a read that starts where the previous one ended (a sequential
// reader) and falls outside refills the window from the read's offset; any
// other read downloads just what it asks for.
//
// The tensor never changes and the open file pins it, so the window cannot
// go stale; still, when valid reports that the device copy is gone, the
// window is dropped, so that reads go back to the cache (which uploads
// again and keeps the tensor's status true).
//
// Reads of one open file may run concurrently. The mutex guards the window,
// never a download: readers that need bytes a download in flight will bring
// wait for it instead of downloading them again.
type readWindow struct {
	size  int64                           // the tensor's length
	limit int                             // the largest span
	fetch func(p []byte, off int64) error // the tensor's bytes [off, off+len(p)) from its device copy
	valid func() bool                     // false once the device copy is gone
	pool  *readPool
	ahead bool            // download the next span in the background
	bg    *sync.WaitGroup // background downloads, awaited at unmount

	mu     sync.Mutex
	cur    span        // the span being read
	nxt    span        // the span after cur, read ahead
	spare  []byte      // memory no reply points into, for the next download
	next   int64       // where the latest read ended: a read starting here is sequential
	fill   *windowFill // the download in flight, nil when none
	closed bool
}

// windowFill is a download of [start, end) in flight; done closes when it ends.
type windowFill struct {
	start, end int64
	ahead      bool // a background read-ahead, which becomes nxt
	done       chan struct{}
	err        error
}

// newReadWindow makes the window of an open file of a tensor of size bytes.
// With bg set, a sequential reader's next span downloads in the
// background, counted in bg.
func newReadWindow(size int64, limit int, pool *readPool, fetch func([]byte, int64) error, valid func() bool, bg *sync.WaitGroup) *readWindow {
	return &readWindow{size: size, limit: limit, pool: pool, fetch: fetch, valid: valid, ahead: bg != nil, bg: bg}
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
		if (w.cur.buf != nil || w.nxt.buf != nil) && !w.valid() {
			w.dropLocked()
		}
		if data, ref, ok := w.serveLocked(p, off, end); ok {
			w.mu.Unlock()
			return data, ref, nil
		}
		// Bytes from off on that the window lacks.
		from := off
		if w.cur.holds(off, off) && w.cur.end() > off {
			from = w.cur.end()
		}
		f := w.fill
		if f == nil || from < f.start || end > f.end {
			break
		}
		// The download in flight will bring these bytes: wait for it. If
		// it fails, this read tries on its own (and reports its own error).
		w.mu.Unlock()
		<-f.done
		w.mu.Lock()
	}

	sequential := off == w.next
	w.next = end
	fillEnd := min(w.size, off+int64(w.limit))
	if !sequential || w.closed || w.fill != nil || fillEnd <= end {
		// A random read, a read after release, a second stream while a
		// download is in flight, or a read that would leave nothing ahead
		// in the window: download just what it asks for.
		if end == w.size {
			w.releaseLocked() // the reader is done with the window
		}
		w.mu.Unlock()
		return p, nil, w.fetch(p, off)
	}

	w.dropLocked() // the reader has left it: let the refill reuse its memory
	f, buf := w.startFillLocked(off, fillEnd, false)
	w.mu.Unlock()
	if f == nil {
		// The read pool is spent: read without a window.
		return p, nil, w.fetch(p, off)
	}

	err = w.fetch(buf, off)

	w.mu.Lock()
	defer w.mu.Unlock()
	if err == nil && w.closed {
		copy(p, buf)
	}
	w.finishFillLocked(f, buf, err)
	if err != nil || !w.cur.holds(off, end) {
		return p, nil, err
	}
	w.cur.buf.refs++
	return buf[:len(p)], w.cur.buf, nil
}

// serveLocked answers a read from memory when the window holds its bytes:
// a slice of one span (with a reference), or a copy into p of a read that
// straddles the two spans.
func (w *readWindow) serveLocked(p []byte, off, end int64) ([]byte, *windowBuf, bool) {
	sequential := off == w.next
	var data []byte
	var ref *windowBuf
	switch {
	case w.cur.holds(off, end):
		ref = w.cur.buf
		data = ref.b[off-w.cur.start : end-w.cur.start]
		ref.refs++
	case w.nxt.holds(off, end):
		w.promoteLocked()
		ref = w.cur.buf
		data = ref.b[off-w.cur.start : end-w.cur.start]
		ref.refs++
	case w.cur.holds(off, off) && w.cur.end() > off && w.nxt.buf != nil && w.nxt.start == w.cur.end() && end <= w.nxt.end():
		// Across the spans' border (an npy file's reads are offset by
		// its header): copy both parts.
		n := copy(p, w.cur.buf.b[off-w.cur.start:])
		copy(p[n:], w.nxt.buf.b)
		w.promoteLocked()
		data = p
	default:
		return nil, nil, false
	}
	w.next = end
	if end == w.size {
		w.releaseLocked() // the reader is done with the window
	} else if sequential {
		w.prefetchLocked(end)
	}
	return data, ref, true
}

// promoteLocked makes the read-ahead span the current one: the reader has
// moved on to it.
func (w *readWindow) promoteLocked() {
	old := w.cur
	w.cur, w.nxt = w.nxt, span{}
	w.retireLocked(old.buf)
}

// startFillLocked marks a download of [start, end) in flight and returns the
// memory to download it into; finishFillLocked must follow. It returns nil
// when the read pool has no memory for it: nothing is then in flight.
func (w *readWindow) startFillLocked(start, end int64, ahead bool) (*windowFill, []byte) {
	buf := w.takeSpareLocked(int(end - start))
	if buf == nil {
		return nil, nil
	}
	f := &windowFill{start: start, end: end, ahead: ahead, done: make(chan struct{})}
	w.fill = f
	return f, buf
}

// finishFillLocked ends a download: its bytes join the window, unless it
// failed, the file was released, or (for a read-ahead) the reader has
// moved elsewhere meanwhile.
func (w *readWindow) finishFillLocked(f *windowFill, buf []byte, err error) {
	w.fill = nil
	f.err = err
	close(f.done)
	s := span{buf: &windowBuf{b: buf}, start: f.start}
	switch {
	case err != nil || w.closed:
		w.recycleLocked(buf)
	case !f.ahead:
		w.dropLocked()
		w.cur = s
	case w.cur.buf != nil && w.cur.end() == f.start:
		w.retireLocked(w.nxt.buf)
		w.nxt = s
	default:
		// The reader left the span this one follows: nobody will read it.
		w.recycleLocked(buf)
	}
}

// prefetchLocked starts downloading the span that follows the current one
// once a sequential reader is past the current one's middle, so that the
// download overlaps the reads still served from memory and the reader's
// next reads find their bytes there.
func (w *readWindow) prefetchLocked(readEnd int64) {
	c := w.cur
	if !w.ahead || c.buf == nil || w.nxt.buf != nil || w.fill != nil || w.closed {
		return
	}
	if c.end() >= w.size || 2*(readEnd-c.start) < int64(len(c.buf.b)) {
		return
	}
	f, buf := w.startFillLocked(c.end(), min(w.size, c.end()+int64(w.limit)), true)
	if f == nil {
		return // the read pool is spent: no read-ahead
	}
	w.bg.Add(1)
	go func() {
		defer w.bg.Done()
		var err error
		if w.valid() { // never upload a tensor again just to read ahead
			err = w.fetch(buf, f.start)
		} else {
			err = errReadAheadGone
		}
		w.mu.Lock()
		w.finishFillLocked(f, buf, err)
		w.mu.Unlock()
	}()
}

// errReadAheadGone ends a read-ahead whose tensor left the device.
var errReadAheadGone = errors.New("fs: tensor no longer resident; not read ahead")

// unref says a reply pointing into ref's memory has been sent.
func (w *readWindow) unref(ref *windowBuf) {
	w.mu.Lock()
	defer w.mu.Unlock()
	ref.refs--
	if ref.refs == 0 && ref.dead {
		w.recycleLocked(ref.b)
	}
}

// dropLocked empties the window; its memory is reused once no reply points
// into it.
func (w *readWindow) dropLocked() {
	w.retireLocked(w.cur.buf)
	w.retireLocked(w.nxt.buf)
	w.cur, w.nxt = span{}, span{}
}

// retireLocked takes b out of the window: its memory is reused once no
// reply points into it.
func (w *readWindow) retireLocked(b *windowBuf) {
	if b == nil {
		return
	}
	b.dead = true
	if b.refs == 0 {
		w.recycleLocked(b.b)
	}
}

// recycleLocked keeps b for the next download, or gives it to the pool when
// one is kept already, the file is released, or its reader has reached the
// tensor's end.
func (w *readWindow) recycleLocked(b []byte) {
	if w.spare == nil && !w.closed && w.next < w.size {
		w.spare = b
	} else {
		w.pool.put(b)
	}
}

// takeSpareLocked returns n bytes for a download, nil when the read pool
// has none to give.
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

// close gives the window's memory back; a download in flight, or replies
// not yet sent, give back theirs when they end. Later reads download just
// what they ask for.
func (w *readWindow) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	w.releaseLocked()
}
