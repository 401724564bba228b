package gguf

import (
	"encoding/binary"
	"io"
	"os"
	"sync"
	"sync/atomic"

	"github.com/edsrzf/mmap-go"
)

// File is one parsed, validated GGUF file. Immutable and safe for concurrent
// use; Close must not race with the byte accessors.
type File struct {
	Path       string
	Version    uint32
	ByteOrder  binary.ByteOrder
	Alignment  uint64
	DataOffset uint64 // absolute start of the data section
	Size       int64  // file size in bytes
	Metadata   *Metadata
	Tensors    []*TensorInfo // file order

	// HeaderSize is where the tensor infos end (DataOffset before padding).
	HeaderSize uint64

	byName nameIndex // Tensors by name

	// Byte access: ra always; mapping when Open mapped the file.
	ra        io.ReaderAt
	osFile    *os.File     // set by Open; used to fstat before handing out mapped bytes
	mapping   mmap.MMap    // nil unless mapped
	mapErr    error        // why the file is not mapped (Open only)
	identity  fileIdentity // the file Open parsed, to notice it changing
	closeOnce sync.Once
	closeErr  error
	closed    atomic.Bool
}

// Tensor looks a tensor up by name, in O(log n).
func (f *File) Tensor(name string) (*TensorInfo, bool) {
	i, ok := f.byName.find(name, func(i int) string { return f.Tensors[i].Name })
	if !ok {
		return nil, false
	}
	return f.Tensors[i], true
}

// BigEndian reports whether the file's fields are big-endian.
func (f *File) BigEndian() bool { return f.ByteOrder == binary.BigEndian }

// NewReader parses and validates the GGUF file read through r, size bytes
// long. It reads only the header, never the data section. The File reads
// tensor bytes through r (TensorBytes), so r must stay usable while the
// File is; Close does not close r.
func NewReader(r io.ReaderAt, size int64) (*File, error) {
	f, err := parse(r, size)
	if err != nil {
		return nil, err
	}
	f.ra = r
	return f, nil
}
