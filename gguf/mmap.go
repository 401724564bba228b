package gguf

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/edsrzf/mmap-go"
)

// Open maps the file read-only (falling back to pread when mapping fails,
// see MapError) and parses it. The header is parsed through the mapping
// when there is one (a file truncated meanwhile gives an error, not a
// crash), else read with pread.
func Open(path string) (*File, error) { return open(path, mapFile, Options{}) }

// mapper maps a file's size bytes, or says why not.
type mapper func(osf *os.File, size int64) (mmap.MMap, error)

func open(path string, mapFn mapper, o Options) (*File, error) {
	osf, id, err := openRegular(path)
	if err != nil {
		return nil, err
	}
	m, mapErr := mapFn(osf, id.size)
	var f *File
	switch {
	case m != nil:
		var c *cursor
		f, c, err = parseMapped(m, osf, id.size, o.BorrowArrays)
		if err == nil && len(c.borrowed) > 0 {
			lendHeader(osf, f.HeaderSize, c.borrowed)
		}
	default:
		f, err = parse(osf, id.size)
	}
	if err != nil {
		if m != nil {
			m.Unmap()
		}
		osf.Close()
		var fe *FormatError
		if errors.As(err, &fe) {
			fe.Path = path
		}
		return nil, err
	}
	f.Path = path
	f.ra = osf
	f.osFile = osf
	f.identity = id
	f.mapping, f.mapErr = m, mapErr
	return f, nil
}

// mapFile maps size bytes of osf read-only, or says why not.
func mapFile(osf *os.File, size int64) (mmap.MMap, error) {
	switch {
	case size == 0:
		return nil, errors.New("empty file: nothing to map")
	case size != int64(int(size)):
		return nil, fmt.Errorf("file of %d bytes exceeds the address space", size)
	}
	m, err := mmap.MapRegion(osf, int(size), mmap.RDONLY, 0, 0)
	if err != nil {
		return nil, fmt.Errorf("mmap: %w", err)
	}
	return m, nil
}

// Mapped reports whether the file's bytes are served from an mmap.
func (f *File) Mapped() bool { return f.mapping != nil }

// MapError says why a file opened with Open is not mapped (nil when it is,
// and for a File from NewReader, which never maps).
func (f *File) MapError() error { return f.mapErr }

// OSFile is the open file behind f (nil for a File made by NewReader), for
// callers that read tensor bytes with pread rather than through the mapping.
// It stays owned by f: do not close it.
func (f *File) OSFile() *os.File { return f.osFile }

// TensorBytes returns t's bytes: a zero-copy, read-only slice of the mapping
// when the file is mapped, else a fresh buffer read with pread. It fails
// with an error wrapping ErrTruncated, rather than faulting, when the file
// has shrunk below the tensor's end, and with one wrapping ErrChanged when
// the file was rewritten or replaced since Open (CheckUnchanged). (A file shrinking after this check,
// while the caller reads the slice, still faults: callers that must survive
// that read under runtime/debug.SetPanicOnFault.) The slice is invalid
// after Close.
func (f *File) TensorBytes(t *TensorInfo) ([]byte, error) {
	start, end, err := f.bounds(t)
	if err != nil {
		return nil, err
	}
	if f.mapping != nil {
		if err := f.checkSize(t, end); err != nil {
			return nil, err
		}
		if err := f.CheckUnchanged(); err != nil {
			return nil, fmt.Errorf("gguf: tensor %q: %w", t.Name, err)
		}
		return f.mapping[start:end:end], nil
	}
	buf := make([]byte, end-start)
	if _, err := f.ra.ReadAt(buf, int64(start)); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("gguf: tensor %q: %w: file ends before byte %d", t.Name, ErrTruncated, end)
		}
		return nil, fmt.Errorf("gguf: tensor %q: %w", t.Name, err)
	}
	// Checked after the read, so a change while reading is caught too.
	if err := f.CheckUnchanged(); err != nil {
		return nil, fmt.Errorf("gguf: tensor %q: %w", t.Name, err)
	}
	return buf, nil
}

// TensorReader returns a reader of t's bytes through pread, for streaming
// large tensors without holding them.
func (f *File) TensorReader(t *TensorInfo) (*io.SectionReader, error) {
	start, end, err := f.bounds(t)
	if err != nil {
		return nil, err
	}
	return io.NewSectionReader(f.ra, int64(start), int64(end-start)), nil
}

// bounds checks that t belongs to f and f is open, and returns its range.
func (f *File) bounds(t *TensorInfo) (start, end uint64, err error) {
	if f.closed.Load() {
		return 0, 0, fmt.Errorf("gguf: tensor %q: %w", t.Name, ErrClosed)
	}
	if t.Index < 0 || t.Index >= len(f.Tensors) || f.Tensors[t.Index] != t {
		return 0, 0, fmt.Errorf("gguf: tensor %q is not from %s", t.Name, f.describe())
	}
	if !t.Type.Known() && !t.SizeFromLayout {
		return 0, 0, t.Uploadable()
	}
	return t.FileOffset, t.FileOffset + t.Size, nil
}

// checkSize fails when the file no longer reaches end.
func (f *File) checkSize(t *TensorInfo, end uint64) error {
	if f.osFile == nil {
		return nil
	}
	st, err := f.osFile.Stat()
	if err != nil {
		return fmt.Errorf("gguf: tensor %q: %w", t.Name, err)
	}
	if uint64(st.Size()) < end {
		return fmt.Errorf("gguf: tensor %q: %w: data ends at byte %d but the file is now %d bytes",
			t.Name, ErrTruncated, end, st.Size())
	}
	return nil
}

func (f *File) describe() string {
	if f.Path != "" {
		return f.Path
	}
	return "this file"
}

// Close unmaps and closes the file (a File from NewReader leaves its
// reader open). Later byte accesses fail with ErrClosed.
func (f *File) Close() error {
	f.closeOnce.Do(func() {
		f.closed.Store(true)
		if f.mapping != nil {
			f.closeErr = f.mapping.Unmap()
		}
		if f.osFile != nil {
			if err := f.osFile.Close(); f.closeErr == nil {
				f.closeErr = err
			}
		}
	})
	return f.closeErr
}
