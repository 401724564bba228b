package fs

import "github.com/hanwen/go-fuse/v2/fuse"

// windowReply answers a read with bytes of an open file's window, without
// copying them into the request's buffer: go-fuse writes the slice to the
// kernel with writev (the scatter-gather path of fuse.ReadResultVector) and
// calls Done after sending it, which lets the window reuse its memory.
//
// Where go-fuse takes another path, it asks Bytes for a flat buffer and may
// call Done before writing it: Bytes therefore copies into the buffer it is
// given, never returning the window's memory.
type windowReply struct {
	w    *readWindow
	ref  *windowBuf
	data []byte
	done bool
}

var _ fuse.ReadResult = (*windowReply)(nil)

func (r *windowReply) Size() int { return len(r.data) }

// Slices is go-fuse's (unexported) scatter-gather interface: the bytes stay
// in the window until Done.
func (r *windowReply) Slices() ([][]byte, fuse.Status) { return [][]byte{r.data}, fuse.OK }

func (r *windowReply) Bytes(buf []byte) ([]byte, fuse.Status) {
	if cap(buf) < len(r.data) {
		buf = make([]byte, len(r.data))
	}
	return buf[:copy(buf[:len(r.data)], r.data)], fuse.OK
}

// Done releases the window's memory; go-fuse calls it once per reply.
func (r *windowReply) Done() {
	if !r.done {
		r.done = true
		r.w.unref(r.ref)
	}
}
