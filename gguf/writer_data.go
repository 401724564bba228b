package gguf

import (
	"fmt"
	"io"
)

// padHoleMin is the padding from which a seekable destination gets a hole
// instead of written zeros.
const padHoleMin = 1 << 20

// Streaming tensor data: each tensor in declaration order, written from a
// reader or bytes, or skipped as a hole; padding between tensors and after
// the last.

// begin checks that name is the next tensor and moves to its start.
func (w *Writer) begin(name string) (*TensorInfo, error) {
	if w.err != nil || w.closed {
		return nil, ErrWriteClosed
	}
	if w.next >= len(w.tensors) {
		return nil, fmt.Errorf("%w: %q after the last tensor", ErrWriteOrder, name)
	}
	t := &w.tensors[w.next]
	if t.Name != name {
		return nil, fmt.Errorf("%w: got %q, expected tensor %d %q", ErrWriteOrder, name, w.next, t.Name)
	}
	if err := w.pad(t.FileOffset); err != nil {
		return nil, err
	}
	return t, nil
}

// WriteTensor copies the next tensor's data from r, which must hold exactly
// the tensor's Size bytes. name must be the next tensor in declaration order.
// A reader that implements io.WriterTo (a generator, a bytes.Reader) writes
// its chunks straight to the destination; others are copied through the
// Writer's buffer.
func (w *Writer) WriteTensor(name string, r io.Reader) error {
	t, err := w.begin(name)
	if err != nil {
		return err
	}
	if err := w.flushHole(); err != nil {
		return w.fail(err)
	}
	if wt, ok := r.(io.WriterTo); ok {
		sink := &tensorSink{w: w, left: t.Size}
		_, err := wt.WriteTo(sink)
		switch {
		case sink.err != nil:
			return w.fail(fmt.Errorf("gguf: writer: tensor %q: %w", name, sink.err))
		case err != nil:
			return w.fail(fmt.Errorf("gguf: writer: tensor %q: %w", name, err))
		case sink.left > 0:
			return w.fail(fmt.Errorf("gguf: writer: tensor %q: %w: reader ended after %d of %d bytes", name, ErrWriteSize, t.Size-sink.left, t.Size))
		}
		w.next++
		return nil
	}
	if w.buf == nil {
		w.buf = make([]byte, copyBufSize)
	}
	left := t.Size
	for left > 0 {
		chunk := w.buf[:min(left, uint64(len(w.buf)))]
		n, rerr := io.ReadFull(r, chunk)
		if n > 0 {
			if _, err := w.dst.Write(chunk[:n]); err != nil {
				return w.fail(fmt.Errorf("gguf: writer: tensor %q: %w", name, err))
			}
			left -= uint64(n)
			w.pos += uint64(n)
			w.written = w.pos
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			return w.fail(fmt.Errorf("gguf: writer: tensor %q: %w: reader ended after %d of %d bytes", name, ErrWriteSize, t.Size-left, t.Size))
		}
		if rerr != nil {
			return w.fail(fmt.Errorf("gguf: writer: tensor %q: %w", name, rerr))
		}
	}
	// The reader must end here: more data means the caller's idea of the
	// tensor's size differs from the file's.
	var probe [1]byte
	if n, _ := io.ReadFull(r, probe[:]); n > 0 {
		return w.fail(fmt.Errorf("gguf: writer: tensor %q: %w: reader has more than %d bytes", name, ErrWriteSize, t.Size))
	}
	w.next++
	return nil
}

// tensorSink receives one tensor's bytes from an io.WriterTo, refusing any
// beyond the tensor's size.
type tensorSink struct {
	w    *Writer
	left uint64
	err  error // the first failure, kept: WriteTo may not report it
}

func (s *tensorSink) Write(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	if uint64(len(p)) > s.left {
		s.err = fmt.Errorf("%w: reader has more than the tensor's bytes", ErrWriteSize)
		return 0, s.err
	}
	n, err := s.w.dst.Write(p)
	s.left -= uint64(n)
	s.w.pos += uint64(n)
	s.w.written = s.w.pos
	if err != nil {
		s.err = err
	}
	return n, err
}

// WriteTensorBytes writes the next tensor's data from b, which must be
// exactly the tensor's Size bytes long.
func (w *Writer) WriteTensorBytes(name string, b []byte) error {
	if w.next < len(w.tensors) && w.tensors[w.next].Name == name && uint64(len(b)) != w.tensors[w.next].Size {
		return fmt.Errorf("gguf: writer: tensor %q: %w: %d bytes given, %d expected", name, ErrWriteSize, len(b), w.tensors[w.next].Size)
	}
	t, err := w.begin(name)
	if err != nil {
		return err
	}
	if err := w.flushHole(); err != nil {
		return w.fail(err)
	}
	if _, err := w.dst.Write(b); err != nil {
		return w.fail(fmt.Errorf("gguf: writer: tensor %q: %w", name, err))
	}
	w.pos += t.Size
	w.written = w.pos
	w.next++
	return nil
}

// SkipTensor leaves the next tensor's data as a hole: nothing is written,
// and on a file system with sparse files its blocks are never allocated (it
// reads as zeros). The destination must implement io.Seeker.
func (w *Writer) SkipTensor(name string) error {
	if _, ok := w.dst.(io.Seeker); !ok {
		return ErrWriteNoSeek
	}
	t, err := w.begin(name)
	if err != nil {
		return err
	}
	w.pos += t.Size
	w.next++
	return nil
}

// Close checks that every tensor was written or skipped and writes the
// padding after the last one. When the file ends in a hole it is extended
// with Truncate if dst has it (as *os.File does), else by writing its last
// byte. Close does not close dst.
func (w *Writer) Close() error {
	if w.err != nil || w.closed {
		return ErrWriteClosed
	}
	if w.next < len(w.tensors) {
		return fmt.Errorf("%w: %d of %d written, next is %q", ErrWriteIncomplete, w.next, len(w.tensors), w.tensors[w.next].Name)
	}
	w.closed = true
	end := w.Size()
	if err := w.pad(end); err != nil { // zeros, or part of a hole
		return err
	}
	if w.pos == w.written {
		return nil
	}
	if t, ok := w.dst.(interface{ Truncate(int64) error }); ok {
		if err := w.seekBase(); err != nil {
			return w.fail(err)
		}
		if err := t.Truncate(w.base + int64(end)); err != nil {
			return w.fail(fmt.Errorf("gguf: writer: extending the file over its hole: %w", err))
		}
		return nil
	}
	w.pos = end - 1
	if err := w.flushHole(); err != nil {
		return w.fail(err)
	}
	if _, err := w.dst.Write([]byte{0}); err != nil {
		return w.fail(fmt.Errorf("gguf: writer: last byte: %w", err))
	}
	w.pos, w.written = end, end
	return nil
}

// pad writes zeros (or extends a pending hole) up to absolute offset to.
func (w *Writer) pad(to uint64) error {
	if to <= w.pos {
		return nil
	}
	if w.pos > w.written { // inside a hole: the padding joins it
		w.pos = to
		return nil
	}
	if _, ok := w.dst.(io.Seeker); ok && to-w.pos >= padHoleMin {
		// Large alignments (up to 2 GiB) would write gigabytes of zeros;
		// a hole reads the same and costs nothing.
		w.pos = to
		return nil
	}
	var zeros [4096]byte
	for w.pos < to {
		n := min(to-w.pos, uint64(len(zeros)))
		if _, err := w.dst.Write(zeros[:n]); err != nil {
			return w.fail(fmt.Errorf("gguf: writer: padding: %w", err))
		}
		w.pos += n
		w.written = w.pos
	}
	return nil
}

// seekBase learns where the file's byte 0 is in dst's seek positions.
func (w *Writer) seekBase() error {
	if w.haveBase {
		return nil
	}
	s, ok := w.dst.(io.Seeker)
	if !ok {
		return ErrWriteNoSeek
	}
	cur, err := s.Seek(0, io.SeekCurrent)
	if err != nil {
		return fmt.Errorf("gguf: writer: seek: %w", err)
	}
	w.base, w.haveBase = cur-int64(w.written), true
	return nil
}

// flushHole moves dst past a pending hole so that the next write lands at pos.
func (w *Writer) flushHole() error {
	if w.pos == w.written {
		return nil
	}
	if err := w.seekBase(); err != nil {
		return err
	}
	if _, err := w.dst.(io.Seeker).Seek(w.base+int64(w.pos), io.SeekStart); err != nil {
		return fmt.Errorf("gguf: writer: seek past hole: %w", err)
	}
	w.written = w.pos
	return nil
}

// fail records err as the Writer's sticky error.
func (w *Writer) fail(err error) error {
	if err != nil && w.err == nil {
		w.err = err
	}
	return err
}
