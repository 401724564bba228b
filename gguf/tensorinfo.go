package gguf

import "fmt"

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
	// SizeFromLayout is set when Size was inferred from the layout rather
	// than computed from Type and Dims; it may then include padding.
	SizeFromLayout bool
	// Shard is the index of the file holding the data in a split model (0 otherwise).
	Shard int

	offsetAt int64 // file offset of the stored Offset field, for errors
}

// Uploadable reports why the tensor's bytes cannot be used (an unknown or
// removed type), or nil.
func (t *TensorInfo) Uploadable() error {
	if !t.Type.Known() {
		return fmt.Errorf("gguf: tensor %q: type %s has no known layout: %w", t.Name, t.Type, ErrUnknownType)
	}
	return nil
}

// Elements is the element count (1 for a scalar).
func (t *TensorInfo) Elements() uint64 {
	n := uint64(1)
	for _, d := range t.Dims {
		n *= d // cannot overflow: checked at parse
	}
	return n
}
