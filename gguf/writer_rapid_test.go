package gguf

import (
	"encoding/binary"
	"fmt"
	"testing"

	"pgregory.net/rapid"
)

// TestRoundTripProperty: any metadata and tensors the Writer accepts, in
// any version, byte order and alignment, read back exactly.
func TestRoundTripProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		nKV := rapid.IntRange(0, 8).Draw(t, "kvs")
		md := make([]KV, nKV)
		for i := range md {
			suffix := rapid.StringOfN(rapid.RuneFrom([]rune("ab._-é日🦙")), 0, 6, -1).Draw(t, "key")
			md[i] = KV{Key: fmt.Sprintf("k%d%s", i, suffix), Value: drawValue(t, 0)}
		}
		types := Types()
		nT := rapid.IntRange(0, 6).Draw(t, "tensors")
		specs := make([]TensorSpec, nT)
		for i := range specs {
			tr := rapid.SampledFrom(types).Draw(t, "type")
			dims := make([]uint64, rapid.IntRange(0, 4).Draw(t, "ndims"))
			for d := range dims {
				dims[d] = uint64(rapid.IntRange(1, 3).Draw(t, "dim"))
			}
			if len(dims) > 0 {
				dims[0] *= tr.BlockSize
			} else if tr.BlockSize > 1 {
				dims = []uint64{tr.BlockSize} // a scalar is one element: only block-1 types
			}
			specs[i] = TensorSpec{Name: fmt.Sprintf("t%d", i), Type: tr.Type, Dims: dims}
		}
		opts := WriterOptions{
			Version:   rapid.Uint32Range(1, 3).Draw(t, "version"),
			ByteOrder: rapid.SampledFrom([]binary.ByteOrder{binary.LittleEndian, binary.BigEndian}).Draw(t, "order"),
			Alignment: rapid.SampledFrom([]uint64{1, 2, 8, 32, 64, 256, 4096}).Draw(t, "alignment"),
		}
		file := rtWrite(t, md, specs, opts)
		rtCheck(t, file, md, specs, opts, opts.Alignment)
	})
}

// drawValue draws a value of any type; arrays nest up to 3 deep.
func drawValue(t *rapid.T, depth int) Value {
	maxType := int(ValueFloat64)
	typ := ValueType(rapid.IntRange(0, maxType).Draw(t, "vtype"))
	if typ == ValueArray && depth >= 3 {
		typ = ValueString
	}
	switch typ {
	case ValueUint8:
		return NewUint8(rapid.Uint8().Draw(t, "u8"))
	case ValueInt8:
		return NewInt8(rapid.Int8().Draw(t, "i8"))
	case ValueUint16:
		return NewUint16(rapid.Uint16().Draw(t, "u16"))
	case ValueInt16:
		return NewInt16(rapid.Int16().Draw(t, "i16"))
	case ValueUint32:
		return NewUint32(rapid.Uint32().Draw(t, "u32"))
	case ValueInt32:
		return NewInt32(rapid.Int32().Draw(t, "i32"))
	case ValueFloat32:
		return NewFloat32(rapid.Float32().Draw(t, "f32"))
	case ValueBool:
		return NewBool(rapid.Bool().Draw(t, "bool"))
	case ValueString:
		return NewString(rapid.String().Draw(t, "str"))
	case ValueUint64:
		return NewUint64(rapid.Uint64().Draw(t, "u64"))
	case ValueInt64:
		return NewInt64(rapid.Int64().Draw(t, "i64"))
	case ValueFloat64:
		return NewFloat64(rapid.Float64().Draw(t, "f64"))
	}
	// An array: pick the element type, then draw elements of it.
	n := rapid.IntRange(0, 5).Draw(t, "len")
	first := drawValue(t, depth+1)
	vals := []Value{first}
	for len(vals) < n {
		v := drawValue(t, depth+1)
		for v.Type() != first.Type() {
			v = drawValue(t, depth+1)
		}
		vals = append(vals, v)
	}
	arr, err := NewArray(first.Type(), vals[:n])
	if err != nil {
		t.Fatalf("NewArray: %v", err)
	}
	return arr
}
