package gguf

import (
	"fmt"
	"math/bits"
)

// Type is a ggml tensor type number as stored in a tensor info record.
type Type uint32

// The ggml type numbers (ggml/include/ggml.h, enum ggml_type).
const (
	TypeF32     Type = 0
	TypeF16     Type = 1
	TypeQ4_0    Type = 2
	TypeQ4_1    Type = 3
	TypeQ5_0    Type = 6
	TypeQ5_1    Type = 7
	TypeQ8_0    Type = 8
	TypeQ8_1    Type = 9
	TypeQ2_K    Type = 10
	TypeQ3_K    Type = 11
	TypeQ4_K    Type = 12
	TypeQ5_K    Type = 13
	TypeQ6_K    Type = 14
	TypeQ8_K    Type = 15
	TypeIQ2_XXS Type = 16
	TypeIQ2_XS  Type = 17
	TypeIQ3_XXS Type = 18
	TypeIQ1_S   Type = 19
	TypeIQ4_NL  Type = 20
	TypeIQ3_S   Type = 21
	TypeIQ2_S   Type = 22
	TypeIQ4_XS  Type = 23
	TypeI8      Type = 24
	TypeI16     Type = 25
	TypeI32     Type = 26
	TypeI64     Type = 27
	TypeF64     Type = 28
	TypeIQ1_M   Type = 29
	TypeBF16    Type = 30
	TypeTQ1_0   Type = 34
	TypeTQ2_0   Type = 35
	TypeMXFP4   Type = 39
	TypeNVFP4   Type = 40
	TypeQ1_0    Type = 41
	TypeQ2_0    Type = 42

	// TypeCount is GGML_TYPE_COUNT: numbers at or above it are unknown to ggml.
	TypeCount Type = 43
)

// TypeTraits describes how a type lays out its data: BlockSize elements are
// stored in BlockBytes bytes. Removed types keep their old name but have no
// layout, so a tensor of such a type cannot be sized or uploaded.
type TypeTraits struct {
	Type       Type   `json:"id"`
	Name       string `json:"name"`
	BlockSize  uint64 `json:"block_size"`
	BlockBytes uint64 `json:"block_bytes"`
	Removed    bool   `json:"removed,omitempty"`
}

// typeTable is ggml's type_traits table (ggml/src/ggml.c), indexed by number.
var typeTable = [TypeCount]TypeTraits{
	{Type: 0, Name: "f32", BlockSize: 1, BlockBytes: 4},
	{Type: 1, Name: "f16", BlockSize: 1, BlockBytes: 2},
	{Type: 2, Name: "q4_0", BlockSize: 32, BlockBytes: 18},
	{Type: 3, Name: "q4_1", BlockSize: 32, BlockBytes: 20},
	{Type: 4, Name: "q4_2", Removed: true},
	{Type: 5, Name: "q4_3", Removed: true},
	{Type: 6, Name: "q5_0", BlockSize: 32, BlockBytes: 22},
	{Type: 7, Name: "q5_1", BlockSize: 32, BlockBytes: 24},
	{Type: 8, Name: "q8_0", BlockSize: 32, BlockBytes: 34},
	{Type: 9, Name: "q8_1", BlockSize: 32, BlockBytes: 36}, // ggml's block_q8_1: 2×f16 + 32 bytes
	{Type: 10, Name: "q2_K", BlockSize: 256, BlockBytes: 84},
	{Type: 11, Name: "q3_K", BlockSize: 256, BlockBytes: 110},
	{Type: 12, Name: "q4_K", BlockSize: 256, BlockBytes: 144},
	{Type: 13, Name: "q5_K", BlockSize: 256, BlockBytes: 176},
	{Type: 14, Name: "q6_K", BlockSize: 256, BlockBytes: 210},
	{Type: 15, Name: "q8_K", BlockSize: 256, BlockBytes: 292},
	{Type: 16, Name: "iq2_xxs", BlockSize: 256, BlockBytes: 66},
	{Type: 17, Name: "iq2_xs", BlockSize: 256, BlockBytes: 74},
	{Type: 18, Name: "iq3_xxs", BlockSize: 256, BlockBytes: 98},
	{Type: 19, Name: "iq1_s", BlockSize: 256, BlockBytes: 50},
	{Type: 20, Name: "iq4_nl", BlockSize: 32, BlockBytes: 18},
	{Type: 21, Name: "iq3_s", BlockSize: 256, BlockBytes: 110},
	{Type: 22, Name: "iq2_s", BlockSize: 256, BlockBytes: 82},
	{Type: 23, Name: "iq4_xs", BlockSize: 256, BlockBytes: 136},
	{Type: 24, Name: "i8", BlockSize: 1, BlockBytes: 1},
	{Type: 25, Name: "i16", BlockSize: 1, BlockBytes: 2},
	{Type: 26, Name: "i32", BlockSize: 1, BlockBytes: 4},
	{Type: 27, Name: "i64", BlockSize: 1, BlockBytes: 8},
	{Type: 28, Name: "f64", BlockSize: 1, BlockBytes: 8},
	{Type: 29, Name: "iq1_m", BlockSize: 256, BlockBytes: 56},
	{Type: 30, Name: "bf16", BlockSize: 1, BlockBytes: 2},
	{Type: 31, Name: "q4_0_4_4", Removed: true},
	{Type: 32, Name: "q4_0_4_8", Removed: true},
	{Type: 33, Name: "q4_0_8_8", Removed: true},
	{Type: 34, Name: "tq1_0", BlockSize: 256, BlockBytes: 54},
	{Type: 35, Name: "tq2_0", BlockSize: 256, BlockBytes: 66},
	{Type: 36, Name: "iq4_nl_4_4", Removed: true},
	{Type: 37, Name: "iq4_nl_4_8", Removed: true},
	{Type: 38, Name: "iq4_nl_8_8", Removed: true},
	{Type: 39, Name: "mxfp4", BlockSize: 32, BlockBytes: 17},
	{Type: 40, Name: "nvfp4", BlockSize: 64, BlockBytes: 36},
	{Type: 41, Name: "q1_0", BlockSize: 128, BlockBytes: 18},
	{Type: 42, Name: "q2_0", BlockSize: 64, BlockBytes: 18},
}

// Traits returns the layout of t. ok is false for numbers beyond ggml's table
// and for removed types, whose data cannot be sized.
func (t Type) Traits() (tr TypeTraits, ok bool) {
	if t >= TypeCount {
		return TypeTraits{Type: t, Name: t.String()}, false
	}
	tr = typeTable[t]
	return tr, !tr.Removed
}

// String returns the type's name as ggml spells it, or "unknown(N)".
func (t Type) String() string {
	if t < TypeCount {
		return typeTable[t].Name
	}
	return fmt.Sprintf("unknown(%d)", uint32(t))
}

// Known reports whether t has a layout, so its tensors can be sized and uploaded.
func (t Type) Known() bool {
	_, ok := t.Traits()
	return ok
}

// ParseType looks a type up by its ggml name (case-sensitive, as ggml spells it).
func ParseType(name string) (Type, error) {
	for _, tr := range typeTable {
		if tr.Name == name && !tr.Removed {
			return tr.Type, nil
		}
	}
	return 0, fmt.Errorf("gguf: unknown tensor type %q", name)
}

// Types lists every type with a layout, in number order.
func Types() []TypeTraits {
	out := make([]TypeTraits, 0, len(typeTable))
	for _, tr := range typeTable {
		if !tr.Removed {
			out = append(out, tr)
		}
	}
	return out
}

// ByteSize returns the bytes a tensor of type t and dims (ggml order, ne0
// first) occupies: ne0/block × block bytes × ne1 × ne2 × ne3. It fails when the
// type has no layout, a dim is 0, ne0 is not a multiple of the block size, or
// the product overflows uint64 or int64; the error wraps ErrUnknownType,
// ErrDims or ErrOverflow.
func ByteSize(t Type, dims []uint64) (uint64, error) {
	tr, ok := t.Traits()
	if !ok {
		return 0, detail(ErrUnknownType, "gguf: type %s has no known layout", t)
	}
	if len(dims) == 0 { // a scalar: one element
		dims = []uint64{1}
	}
	for i, d := range dims {
		if d == 0 {
			return 0, detail(ErrDims, "gguf: dim %d is 0", i)
		}
		if d > 1<<63-1 {
			return 0, detail(ErrDims, "gguf: dim %d (%d) exceeds int64", i, d)
		}
	}
	if dims[0]%tr.BlockSize != 0 {
		return 0, detail(ErrDims, "gguf: ne0 %d is not a multiple of %s's block size %d", dims[0], t, tr.BlockSize)
	}
	// The element count must fit int64 (ggml's ggml_nelements is int64).
	elems := uint64(1)
	for i, d := range dims {
		hi, lo := bits.Mul64(elems, d)
		if hi != 0 || lo > 1<<63-1 {
			return 0, detail(ErrOverflow, "gguf: element count overflows int64 at dim %d", i)
		}
		elems = lo
	}
	size := tr.BlockBytes
	for i, d := range dims {
		if i == 0 {
			d /= tr.BlockSize
		}
		hi, lo := bits.Mul64(size, d)
		if hi != 0 || lo > 1<<63-1 {
			return 0, detail(ErrOverflow, "gguf: byte size of %s overflows int64 at dim %d", t, i)
		}
		size = lo
	}
	return size, nil
}
