package gguf

import (
	"encoding/binary"
	"errors"
	"io"
	"math"
)

// cursor reads the header sequentially through a bounded window over an
// io.ReaderAt, so parsing costs one read call per readChunk bytes and reads
// at most readChunk bytes past the header's end (none through a mapping).
type cursor struct {
	r     io.ReaderAt
	size  int64 // file size
	limit int64 // the header must end by here: min(size, maxHeaderBytes)
	order binary.ByteOrder
	v1    bool // GGUF v1: 32-bit counts and lengths

	// borrow, set when buf maps the file, makes copyOut return the bytes
	// in the mapping (Options.BorrowArrays); the parser lists the arrays
	// that hold them in borrowed.
	borrow   bool
	borrowed []borrowedArray

	off    int64  // absolute offset of the next unread byte
	buf    []byte // file bytes [bufOff, bufOff+len(buf))
	bufOff int64
}

func newCursor(r io.ReaderAt, size int64) *cursor {
	limit := size
	if limit > maxHeaderBytes {
		limit = maxHeaderBytes
	}
	return &cursor{r: r, size: size, limit: limit, order: binary.LittleEndian}
}

// newCursorBytes is a cursor over bytes already in memory (a mapping of the
// file): its window is the whole header, so it never reads through r.
// Values must copy what they keep, as they do from any window, unless
// they borrow (Options.BorrowArrays).
func newCursorBytes(b []byte, r io.ReaderAt, size int64) *cursor {
	c := newCursor(r, size)
	c.buf = b[:c.limit:c.limit]
	return c
}

// left is how many header bytes remain after the cursor.
func (c *cursor) left() int64 { return c.limit - c.off }

// shortErr explains why n bytes are not there at the cursor: the file ends,
// or the header would outgrow maxHeaderBytes.
func (c *cursor) shortErr(n int64, what string) error {
	if c.off+n > c.size || c.off+n < c.off {
		return &FormatError{Offset: c.off, TensorIndex: -1,
			Err: detail(ErrTruncated, "%s: needs %d bytes, file has %d left", what, n, c.size-c.off)}
	}
	return &FormatError{Offset: c.off, TensorIndex: -1,
		Err: detail(ErrTooLarge, "%s: header would exceed %d bytes", what, int64(maxHeaderBytes))}
}

// next returns the next n bytes and advances past them. The slice is valid
// until the next call. n must already be known to be at most c.left().
func (c *cursor) next(n int) ([]byte, error) {
	start := int(c.off - c.bufOff)
	if start+n <= len(c.buf) {
		c.off += int64(n)
		return c.buf[start : start+n], nil
	}
	if err := c.fill(n); err != nil {
		return nil, err
	}
	c.off += int64(n)
	return c.buf[:n], nil
}

// fill makes the window start at the cursor and hold at least n bytes.
func (c *cursor) fill(n int) error {
	if int64(n) > c.left() {
		return c.shortErr(int64(n), "read")
	}
	want := n
	if want < readChunk {
		want = readChunk
	}
	if int64(want) > c.limit-c.off {
		want = int(c.limit - c.off)
	}
	if cap(c.buf) < want {
		c.buf = make([]byte, want)
	}
	c.buf = c.buf[:want]
	got, err := c.r.ReadAt(c.buf, c.off)
	if got < n {
		if err == nil || errors.Is(err, io.EOF) {
			return c.shortErr(int64(n), "read")
		}
		return &FormatError{Offset: c.off, TensorIndex: -1, Err: err}
	}
	c.buf = c.buf[:got]
	c.bufOff = c.off
	return nil
}

// ensure makes the window hold at least n bytes at the cursor.
func (c *cursor) ensure(n int, what string) error {
	if len(c.window()) >= n {
		return nil
	}
	if int64(n) > c.left() {
		return c.shortErr(int64(n), what)
	}
	return c.fill(n)
}

// readInto copies the next len(dst) bytes into dst and advances: what the
// window holds by copy, the rest straight from the file in one call.
func (c *cursor) readInto(dst []byte, what string) error {
	if int64(len(dst)) > c.left() {
		return c.shortErr(int64(len(dst)), what)
	}
	k := copy(dst, c.window())
	c.skip(k)
	if k == len(dst) {
		return nil
	}
	if err := c.readAt(dst[k:], c.off); err != nil {
		return err
	}
	c.off += int64(len(dst) - k)
	c.buf, c.bufOff = c.buf[:0], c.off // the window is behind the cursor now
	return nil
}

// copyOut returns a fresh copy of the n header bytes at off (already known
// to be in the file): cloned from the window when it holds them (no
// zeroing of the new slice), else read. When arrays borrow (c.borrow), it
// returns the bytes in the mapping instead.
func (c *cursor) copyOut(off int64, n int) ([]byte, error) {
	if off >= c.bufOff && off+int64(n) <= c.bufOff+int64(len(c.buf)) {
		if c.borrow {
			lo, hi := off-c.bufOff, off-c.bufOff+int64(n)
			return c.buf[lo:hi:hi], nil
		}
		return append([]byte(nil), c.buf[off-c.bufOff:off-c.bufOff+int64(n)]...), nil
	}
	dst := make([]byte, n)
	if err := c.readAt(dst, off); err != nil {
		return nil, err
	}
	return dst, nil
}

// readAt reads exactly len(dst) header bytes at off, which the parse has
// already seen (or knows to be within the header), without moving the cursor.
func (c *cursor) readAt(dst []byte, off int64) error {
	if off >= c.bufOff && off+int64(len(dst)) <= c.bufOff+int64(len(c.buf)) {
		copy(dst, c.buf[off-c.bufOff:])
		return nil
	}
	got, err := c.r.ReadAt(dst, off)
	if got == len(dst) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		return &FormatError{Offset: off + int64(got), TensorIndex: -1,
			Err: detail(ErrTruncated, "file ended during read (changed while parsing?)")}
	}
	return &FormatError{Offset: off, TensorIndex: -1, Err: err}
}

// window returns the buffered bytes after the cursor without advancing.
func (c *cursor) window() []byte { return c.buf[c.off-c.bufOff:] }

// skip advances past n bytes of the window (n <= len(c.window())).
func (c *cursor) skip(n int) { c.off += int64(n) }

func (c *cursor) u32(what string) (uint32, error) {
	b, err := c.need(4, what)
	if err != nil {
		return 0, err
	}
	return c.order.Uint32(b), nil
}

func (c *cursor) u64(what string) (uint64, error) {
	b, err := c.need(8, what)
	if err != nil {
		return 0, err
	}
	return c.order.Uint64(b), nil
}

// count reads a count or length: 32 bits in v1, 64 bits after.
func (c *cursor) count(what string) (uint64, error) {
	if c.v1 {
		x, err := c.u32(what)
		return uint64(x), err
	}
	return c.u64(what)
}

// countSize is the encoded size of a count or length.
func (c *cursor) countSize() int64 {
	if c.v1 {
		return 4
	}
	return 8
}

// need is next with the field named for the error.
func (c *cursor) need(n int, what string) ([]byte, error) {
	if int64(n) > c.left() {
		return nil, c.shortErr(int64(n), what)
	}
	return c.next(n)
}

// checkCount fails unless n items of at least each bytes apiece fit in the
// bytes left (ErrCount, which is also ErrTruncated; or ErrTooLarge).
func (c *cursor) checkCount(n uint64, each int64, what string, at int64) error {
	if each > 0 && n <= uint64(c.size-c.off)/uint64(each) {
		if n <= uint64(c.left())/uint64(each) {
			return nil
		}
		return &FormatError{Offset: at, TensorIndex: -1,
			Err: detail(ErrTooLarge, "%s %d: header would exceed %d bytes", what, n, int64(maxHeaderBytes))}
	}
	left := c.size - c.off
	if each == 1 {
		return &FormatError{Offset: at, TensorIndex: -1,
			Err: detail(ErrCount, "%s %d needs %d bytes; the file has %d left", what, n, n, left)}
	}
	return &FormatError{Offset: at, TensorIndex: -1,
		Err: detail(ErrCount, "%s %d needs at least %d bytes apiece; the file has %d left", what, n, each, left)}
}

// str reads a length-prefixed string; whatLen names its length field
// ("key length": a constant, so that no error text is built per string).
func (c *cursor) str(whatLen string) (string, error) {
	return c.strUpTo(whatLen, math.MaxUint64)
}

// strUpTo is str for a string the format limits to limit bytes (a tensor
// name, a key): a longer length is an error before anything is read.
func (c *cursor) strUpTo(whatLen string, limit uint64) (string, error) {
	at := c.off
	n, err := c.count(whatLen)
	if err != nil {
		return "", err
	}
	if err := c.checkCount(n, 1, whatLen, at); err != nil {
		return "", err
	}
	if n > limit {
		return "", &FormatError{Offset: at, TensorIndex: -1,
			Err: detail(ErrBadName, "%s %d is over the limit of %d bytes", whatLen, n, limit)}
	}
	b, err := c.next(int(n))
	if err != nil {
		return "", err
	}
	return string(b), nil
}
