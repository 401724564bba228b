package synth

import (
	"math"

	"github.com/ggufs/ggufs/gguf"
)

// zooUnknownType is a type number beyond ggml's table, as forks write.
const zooUnknownType gguf.Type = 142

// zooModel exercises the format rather than imitating a model: metadata of
// every value type (extremes, empty and Unicode strings, empty and nested
// arrays) and a tensor of every type with a layout, a scalar, 3-D and 4-D
// tensors, and one tensor of an unknown type that readers must flag.
func zooModel() ([]gguf.KV, []gguf.TensorSpec) {
	must := func(v gguf.Value, _ error) gguf.Value { return v } // the arrays below are well-formed
	ints := must(gguf.NewArray(gguf.ValueInt32, []gguf.Value{gguf.NewInt32(1), gguf.NewInt32(-2)}))
	strs := must(gguf.NewStringArray([]string{"", "x"}))
	md := []gguf.KV{
		{Key: "general.architecture", Value: gguf.NewString("zoo")},
		{Key: "general.name", Value: gguf.NewString("type zoo: ünïcödé, 日本語, 🦙")},
		{Key: "zoo.uint8", Value: gguf.NewUint8(math.MaxUint8)},
		{Key: "zoo.int8", Value: gguf.NewInt8(math.MinInt8)},
		{Key: "zoo.uint16", Value: gguf.NewUint16(math.MaxUint16)},
		{Key: "zoo.int16", Value: gguf.NewInt16(math.MinInt16)},
		{Key: "zoo.uint32", Value: gguf.NewUint32(math.MaxUint32)},
		{Key: "zoo.int32", Value: gguf.NewInt32(math.MinInt32)},
		{Key: "zoo.float32", Value: gguf.NewFloat32(-3.25)},
		{Key: "zoo.bool", Value: gguf.NewBool(true)},
		{Key: "zoo.string", Value: gguf.NewString("line one\nline \"two\"\ttabbed \\ backslash")},
		{Key: "zoo.string.empty", Value: gguf.NewString("")},
		{Key: "zoo.uint64", Value: gguf.NewUint64(math.MaxUint64)},
		{Key: "zoo.int64", Value: gguf.NewInt64(math.MinInt64)},
		{Key: "zoo.float64", Value: gguf.NewFloat64(1.5e300)},
		{Key: "zoo.array.uint8", Value: gguf.NewUint8Array([]uint8{0, 1, 255})},
		{Key: "zoo.array.int8", Value: gguf.NewInt8Array([]int8{-128, 0, 127})},
		{Key: "zoo.array.uint16", Value: must(gguf.NewArray(gguf.ValueUint16, []gguf.Value{gguf.NewUint16(0), gguf.NewUint16(65535)}))},
		{Key: "zoo.array.int16", Value: must(gguf.NewArray(gguf.ValueInt16, []gguf.Value{gguf.NewInt16(-32768), gguf.NewInt16(32767)}))},
		{Key: "zoo.array.uint32", Value: gguf.NewUint32Array([]uint32{0, math.MaxUint32})},
		{Key: "zoo.array.int32", Value: gguf.NewInt32Array([]int32{math.MinInt32, 0, math.MaxInt32})},
		{Key: "zoo.array.float32", Value: gguf.NewFloat32Array([]float32{-1.5, 0, 0.1})},
		{Key: "zoo.array.bool", Value: gguf.NewBoolArray([]bool{true, false, true})},
		{Key: "zoo.array.string", Value: must(gguf.NewStringArray([]string{"a", "", "日本", "🦙"}))},
		{Key: "zoo.array.uint64", Value: must(gguf.NewArray(gguf.ValueUint64, []gguf.Value{gguf.NewUint64(0), gguf.NewUint64(math.MaxUint64)}))},
		{Key: "zoo.array.int64", Value: gguf.NewInt64Array([]int64{math.MinInt64, math.MaxInt64})},
		{Key: "zoo.array.float64", Value: gguf.NewFloat64Array([]float64{-2.5, 1e-300})},
		{Key: "zoo.array.empty", Value: gguf.NewUint8Array(nil)},
		{Key: "zoo.array.empty_strings", Value: must(gguf.NewStringArray(nil))},
		{Key: "zoo.array.nested", Value: must(gguf.NewArray(gguf.ValueArray, []gguf.Value{ints, strs, gguf.NewUint8Array(nil)}))},
	}
	var tensors []gguf.TensorSpec
	for _, tr := range gguf.Types() {
		tensors = append(tensors, gguf.TensorSpec{Name: "zoo." + tr.Name, Type: tr.Type, Dims: []uint64{2 * tr.BlockSize, 3}})
	}
	tensors = append(tensors,
		gguf.TensorSpec{Name: "zoo.scalar", Type: gguf.TypeF32},
		gguf.TensorSpec{Name: "zoo.mystery", Type: zooUnknownType, Dims: []uint64{16}, Size: 64},
		gguf.TensorSpec{Name: "zoo.cube", Type: gguf.TypeF16, Dims: []uint64{32, 4, 2}},
		gguf.TensorSpec{Name: "zoo.hyper", Type: gguf.TypeF32, Dims: []uint64{8, 4, 2, 2}},
	)
	return md, tensors
}
