package gguf

// CONTRACT: the exported API that cache/, fs/ and cmd/ build on. The gguf
// owner replaces the stub bodies (marked TODO) with the real implementation,
// may add to this API, and must not change these signatures without telling
// the others.

import (
	"encoding/binary"
	"errors"
	"io"
)

// TensorInfo describes one tensor. Immutable once parsed.
type TensorInfo struct {
	Index  int      // position in the file's tensor table
	Name   string   // full GGUF name, e.g. "blk.0.attn_q.weight"
	Dims   []uint64 // ggml order, ne0 first; empty for a scalar
	Type   Type
	Offset uint64 // relative to the data section, as stored
	// FileOffset is the absolute byte offset of the data in its shard's file.
	FileOffset uint64
	// Size is the data's byte length. For a type without a known layout it
	// is taken from the file's layout (up to the next tensor or end of data).
	Size uint64
	// Shard is the index of the file holding the data in a split model (0 otherwise).
	Shard int
}

// Uploadable reports why the tensor's bytes cannot be used (an unknown or
// removed type), or nil.
func (t *TensorInfo) Uploadable() error {
	if !t.Type.Known() {
		return errors.New("gguf: tensor " + t.Name + ": type " + t.Type.String() + " has no known layout")
	}
	return nil
}

// File is one parsed, validated GGUF file. Immutable and safe for concurrent use.
type File struct {
	Path       string
	Version    uint32
	ByteOrder  binary.ByteOrder
	Alignment  uint64
	DataOffset uint64 // absolute start of the data section
	Size       int64  // file size in bytes
	Metadata   *Metadata
	Tensors    []*TensorInfo // file order
}

// NewReader parses and validates the GGUF file read through r, size bytes long.
func NewReader(r io.ReaderAt, size int64) (*File, error) {
	return nil, errors.New("gguf: TODO")
}

// Open maps the file read-only (falling back to pread) and parses it.
func Open(path string) (*File, error) {
	return nil, errors.New("gguf: TODO")
}

// Tensor looks a tensor up by name.
func (f *File) Tensor(name string) (*TensorInfo, bool) { return nil, false }

// TensorBytes returns t's bytes: a zero-copy slice of the mapping when the
// file is mapped, else a fresh buffer read with pread. It fails rather than
// fault when the file has shrunk under the mapping.
func (f *File) TensorBytes(t *TensorInfo) ([]byte, error) { return nil, errors.New("gguf: TODO") }

// Mapped reports whether the file's bytes are served from an mmap.
func (f *File) Mapped() bool { return false }

// Close unmaps and closes the file.
func (f *File) Close() error { return nil }

// Model is a whole model: one file, or every shard of a split model, seen as
// one tensor set. Metadata is the first shard's.
type Model struct {
	Shards   []*File
	Metadata *Metadata
	Tensors  []*TensorInfo // shard order, then file order
}

// OpenModel opens path; when it is one shard of a split model
// (NAME-00001-of-00005.gguf with split.count > 1) it opens every sibling.
func OpenModel(path string) (*Model, error) { return nil, errors.New("gguf: TODO") }

// Tensor looks a tensor up by name across all shards.
func (m *Model) Tensor(name string) (*TensorInfo, bool) { return nil, false }

// TensorBytes returns t's bytes from its shard, as File.TensorBytes.
func (m *Model) TensorBytes(t *TensorInfo) ([]byte, error) {
	return nil, errors.New("gguf: TODO")
}

// Close closes every shard.
func (m *Model) Close() error { return nil }
