package gguf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
)

// Writer produces a GGUF file: NewWriter lays the file out and writes the
// header (metadata and tensor infos), then the caller streams each tensor's
// data in declaration order (WriteTensor, WriteTensorBytes) or leaves it as
// a hole (SkipTensor), and Close writes the final padding.
//
// The layout is the one ggml requires and gguf-py writes: the data section
// starts at the end of the header rounded up to the alignment, each tensor
// starts at the previous tensor's end rounded up to the alignment, and the
// data section is padded after the last tensor too (so a file with no
// tensors still ends on an alignment boundary).
//
// Tensor data is copied through one fixed buffer and never held whole, so a
// file of any size can be written. On a seekable destination (an *os.File),
// padding of 1 MiB or more (alignments that large are legal) is left as a
// hole rather than written; it reads as the same zeros. The bytes are written as given: the
// caller supplies them in the file's byte order.
//
// Alignment: WriterOptions.Alignment, or else the metadata's
// general.alignment (which must then be a uint32 power of two), or else 32.
// When the alignment is not 32 and the metadata lacks general.alignment,
// the Writer appends general.alignment (uint32) as the last key, so the file
// always says what it uses; if both are given they must agree.
type Writer struct {
	dst      io.Writer
	order    binary.ByteOrder
	align    uint64
	version  uint32
	dataOff  uint64       // absolute start of the data section
	tensors  []TensorInfo // the layout; Offset relative, FileOffset absolute
	next     int          // index of the next tensor to write
	pos      uint64       // bytes of the file accounted for (written or skipped)
	written  uint64       // bytes actually written; pos > written means a hole is pending
	base     int64        // dst's seek position of the file's byte 0, once known
	haveBase bool
	buf      []byte // copy buffer, allocated on first use
	err      error  // sticky: once a write fails the Writer is unusable
	closed   bool
}

// WriterOptions chooses the file's format. The zero value writes a
// little-endian version 3 file with the alignment the metadata gives (32 by
// default).
type WriterOptions struct {
	Version   uint32           // 1, 2 or 3; 0 means 3
	ByteOrder binary.ByteOrder // binary.LittleEndian or binary.BigEndian; nil means little-endian
	Alignment uint64           // a power of two up to 2^31; 0 means general.alignment or 32
}

// TensorSpec declares one tensor to write.
type TensorSpec struct {
	Name string
	Type Type
	Dims []uint64 // ggml order, ne0 first; empty for a scalar
	// Size is the data's byte length. It is computed with ByteSize for a
	// type with a known layout (a non-zero Size must then agree) and must
	// be given for a type without one.
	Size uint64
}

// DefaultAlignment is the data alignment when general.alignment is absent.
const DefaultAlignment = 32

// maxNameBytes is the longest tensor name the spec allows (GGML_MAX_NAME is 64 with the NUL).
const maxNameBytes = 64

// maxDims is GGML_MAX_DIMS.
const maxDims = 4

// copyBufSize is the Writer's copy buffer: large enough that a multi-GB
// tensor costs few system calls, small enough to not matter in memory.
const copyBufSize = 4 << 20

// Sentinels for misuse of a Writer; test with errors.Is. Invalid input to
// NewWriter wraps the file-format sentinels instead (ErrBadName,
// ErrDuplicate, ErrDims, ErrAlignment, ErrVersion, ErrBadValue, ErrOverflow).
var (
	ErrWriteOrder      = errors.New("gguf: writer: tensor written out of order")
	ErrWriteSize       = errors.New("gguf: writer: tensor data of the wrong size")
	ErrWriteIncomplete = errors.New("gguf: writer: not every tensor was written")
	ErrWriteClosed     = errors.New("gguf: writer: already closed or failed")
	ErrWriteNoSeek     = errors.New("gguf: writer: destination cannot seek, so cannot leave holes")
)

// NewWriter validates md and tensors, computes the layout and writes the
// header to dst (which should be at the file's first byte). md is written
// in order; it must not contain duplicate keys.
func NewWriter(dst io.Writer, md []KV, tensors []TensorSpec, opts WriterOptions) (*Writer, error) {
	w := &Writer{dst: dst, order: opts.ByteOrder, version: opts.Version}
	if w.version == 0 {
		w.version = 3
	}
	if w.version < 1 || w.version > 3 {
		return nil, fmt.Errorf("gguf: writer: %w: %d (want 1, 2 or 3)", ErrVersion, w.version)
	}
	if w.order == nil {
		w.order = binary.LittleEndian
	}
	if w.order != binary.LittleEndian && w.order != binary.BigEndian {
		return nil, fmt.Errorf("gguf: writer: byte order %v: want binary.LittleEndian or binary.BigEndian", w.order)
	}
	md, align, err := writerAlignment(md, opts.Alignment)
	if err != nil {
		return nil, err
	}
	w.align = align
	if err := writerCheckKeys(md); err != nil {
		return nil, err
	}
	if err := w.layout(tensors); err != nil {
		return nil, err
	}
	if err := w.writeHeader(md); err != nil {
		return nil, err
	}
	return w, nil
}

// writerAlignment settles the alignment (see Writer) and returns the
// metadata to write, with general.alignment appended when needed.
func writerAlignment(md []KV, opt uint64) ([]KV, uint64, error) {
	const key = "general.alignment"
	fromMD, found := uint64(0), false
	for _, kv := range md {
		if kv.Key != key {
			continue
		}
		a, err := kv.Value.Uint()
		if kv.Value.Type() != ValueUint32 || err != nil {
			return nil, 0, fmt.Errorf("gguf: writer: key %q: %w: is %s, must be uint32", key, ErrAlignment, kv.Value.Type())
		}
		fromMD, found = a, true
		break
	}
	align := opt
	switch {
	case found && opt != 0 && opt != fromMD:
		return nil, 0, fmt.Errorf("gguf: writer: %w: option says %d, metadata %q says %d", ErrAlignment, opt, key, fromMD)
	case found:
		align = fromMD
	case align == 0:
		align = DefaultAlignment
	}
	if align == 0 || align&(align-1) != 0 || align > math.MaxUint32 {
		return nil, 0, fmt.Errorf("gguf: writer: %w: %d is not a power of two that fits uint32", ErrAlignment, align)
	}
	if !found && align != DefaultAlignment {
		md = append(md[:len(md):len(md)], KV{Key: key, Value: NewUint32(uint32(align))})
	}
	return md, align, nil
}

func writerCheckKeys(md []KV) error {
	seen := make(map[string]struct{}, len(md))
	for i, kv := range md {
		if _, dup := seen[kv.Key]; dup {
			return fmt.Errorf("gguf: writer: metadata entry %d: %w: key %q appears twice", i, ErrDuplicate, kv.Key)
		}
		seen[kv.Key] = struct{}{}
		if err := checkKey(kv.Key); err != nil {
			return fmt.Errorf("gguf: writer: metadata entry %d: %w", i, err)
		}
		if err := writerCheckValue(kv.Value, 0); err != nil {
			return fmt.Errorf("gguf: writer: key %q: %w", kv.Key, err)
		}
	}
	return nil
}

// writerCheckValue rejects values that cannot be encoded: unknown types,
// and arrays nested deeper than the reader accepts (maxArrayDepth levels).
func writerCheckValue(v Value, depth int) error {
	if !v.Type().Valid() {
		return fmt.Errorf("%w: %s", ErrValueType, v.Type())
	}
	if v.Type() != ValueArray {
		return nil
	}
	if depth >= maxArrayDepth {
		return fmt.Errorf("%w: more than %d levels", ErrNesting, maxArrayDepth)
	}
	if !v.ElemType().Valid() {
		return fmt.Errorf("%w: array of %s", ErrValueType, v.ElemType())
	}
	if v.ElemType() != ValueArray {
		return nil
	}
	for i := 0; i < v.Len(); i++ {
		e, err := v.Index(i)
		if err != nil {
			return err
		}
		if err := writerCheckValue(e, depth+1); err != nil {
			return fmt.Errorf("element %d: %w", i, err)
		}
	}
	return nil
}

// layout validates the tensor specs and assigns offsets and sizes.
func (w *Writer) layout(specs []TensorSpec) error {
	w.tensors = make([]TensorInfo, len(specs))
	seen := make(map[string]struct{}, len(specs))
	var off uint64
	for i, s := range specs {
		if err := checkName(s.Name); err != nil { // the reader's rules, so what is written can be read
			return fmt.Errorf("gguf: writer: tensor %d: %w", i, err)
		}
		if _, dup := seen[s.Name]; dup {
			return fmt.Errorf("gguf: writer: tensor %d %q: %w: name appears twice", i, s.Name, ErrDuplicate)
		}
		seen[s.Name] = struct{}{}
		size, err := writerTensorSize(s)
		if err != nil {
			return fmt.Errorf("gguf: writer: tensor %d %q: %w", i, s.Name, err)
		}
		if w.version == 1 {
			for d, n := range s.Dims {
				if n > math.MaxUint32 {
					return fmt.Errorf("gguf: writer: tensor %d %q: %w: dim %d (%d) does not fit version 1's uint32", i, s.Name, ErrDims, d, n)
				}
			}
		}
		w.tensors[i] = TensorInfo{Index: i, Name: s.Name, Dims: append([]uint64(nil), s.Dims...), Type: s.Type, Offset: off, Size: size}
		end, ok := addU64(off, size)
		if ok {
			end, ok = alignUp(end, w.align)
		}
		if !ok || end > math.MaxInt64 {
			return fmt.Errorf("gguf: writer: tensor %d %q: %w: data section exceeds 2^63 bytes", i, s.Name, ErrOverflow)
		}
		off = end
	}
	return nil
}

func writerTensorSize(s TensorSpec) (uint64, error) {
	if len(s.Dims) > maxDims {
		return 0, fmt.Errorf("%w: %d dims (at most %d)", ErrDims, len(s.Dims), maxDims)
	}
	if !s.Type.Known() {
		if s.Size == 0 {
			return 0, fmt.Errorf("%w: type %s has no known layout, so Size must be given", ErrDims, s.Type)
		}
		for d, n := range s.Dims {
			if n == 0 || n > math.MaxInt64 {
				return 0, fmt.Errorf("%w: dim %d is %d", ErrDims, d, n)
			}
		}
		// The reader rejects an element count that overflows int64, known
		// layout or not: never write what it would refuse.
		if err := checkElements(s.Dims); err != nil {
			return 0, err
		}
		return s.Size, nil
	}
	size, err := ByteSize(s.Type, s.Dims)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrDims, err)
	}
	if s.Size != 0 && s.Size != size {
		return 0, fmt.Errorf("%w: Size %d, but %s %v takes %d bytes", ErrWriteSize, s.Size, s.Type, s.Dims, size)
	}
	return size, nil
}

func addU64(a, b uint64) (uint64, bool) {
	s, carry := bits.Add64(a, b, 0)
	return s, carry == 0
}

// alignUp rounds x up to a multiple of the power of two a.
func alignUp(x, a uint64) (uint64, bool) {
	return addU64(x, (a-x%a)%a)
}

// DataOffset is the absolute offset of the data section.
func (w *Writer) DataOffset() uint64 { return w.dataOff }

// Size is the length of the finished file.
func (w *Writer) Size() uint64 { return w.dataOff + w.dataSize() }

// Tensors returns the layout: each tensor's name, type, dims, offsets and size.
func (w *Writer) Tensors() []TensorInfo {
	out := make([]TensorInfo, len(w.tensors))
	for i, t := range w.tensors {
		out[i] = t
		out[i].Dims = append([]uint64(nil), t.Dims...)
	}
	return out
}
