package gguf

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"testing"
)

// Round trips: what the Writer writes, the reader reads back exactly, over
// every value type, tensor type, version, byte order and alignment.

// rtValues is metadata with each value type, the extremes of each, NaN
// and infinities, empty and Unicode strings, empty and nested arrays.
func rtValues(t testing.TB) []KV {
	t.Helper()
	arr := func(elem ValueType, vals ...Value) Value {
		v, err := NewArray(elem, vals)
		if err != nil {
			t.Fatalf("NewArray(%s): %v", elem, err)
		}
		return v
	}
	strs := func(s ...string) Value {
		v, err := NewStringArray(s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	nan32 := math.Float32frombits(0x7fc00001) // a NaN with a payload: bits must survive
	return []KV{
		{"u8", NewUint8(math.MaxUint8)},
		{"i8", NewInt8(math.MinInt8)},
		{"u16", NewUint16(math.MaxUint16)},
		{"i16", NewInt16(math.MinInt16)},
		{"u32", NewUint32(math.MaxUint32)},
		{"i32", NewInt32(math.MinInt32)},
		{"f32", NewFloat32(-0.1)},
		{"f32.nan", NewFloat32(nan32)},
		{"f32.inf", NewFloat32(float32(math.Inf(-1)))},
		{"bool.true", NewBool(true)},
		{"bool.false", NewBool(false)},
		{"str", NewString("llama")},
		{"str.empty", NewString("")},
		{"str.unicode", NewString("日本語 ünï 🦙 \u2028 \x00 nul")},
		{"u64", NewUint64(math.MaxUint64)},
		{"i64", NewInt64(math.MinInt64)},
		{"f64", NewFloat64(math.SmallestNonzeroFloat64)},
		{"f64.nan", NewFloat64(math.NaN())},
		{"a.u8", NewUint8Array([]uint8{0, 7, 255})},
		{"a.i8", NewInt8Array([]int8{-1, 1})},
		{"a.u16", arr(ValueUint16, NewUint16(1), NewUint16(0xBEEF))},
		{"a.i16", arr(ValueInt16, NewInt16(-300))},
		{"a.u32", NewUint32Array([]uint32{1, 0xDEADBEEF})},
		{"a.i32", NewInt32Array([]int32{-5, 5, math.MaxInt32})},
		{"a.f32", NewFloat32Array([]float32{1.5, nan32, float32(math.Inf(1))})},
		{"a.bool", NewBoolArray([]bool{true, false})},
		{"a.str", strs("", "a", "日本", "🦙🦙")},
		{"a.u64", arr(ValueUint64, NewUint64(math.MaxUint64))},
		{"a.i64", NewInt64Array([]int64{math.MinInt64, 0})},
		{"a.f64", NewFloat64Array([]float64{math.Copysign(0, -1), 1e308})},
		{"a.empty.u8", NewUint8Array(nil)},
		{"a.empty.str", strs()},
		{"a.empty.arr", arr(ValueArray)},
		{"a.nested", arr(ValueArray, NewInt32Array([]int32{1, 2}), strs("x", ""), NewUint8Array(nil),
			arr(ValueArray, NewFloat64Array([]float64{2.5})))},
	}
}

// rtTensors has one tensor of every type with a layout (two rows of two
// blocks, so ne0 and ne1 both matter), a scalar and 3-D and 4-D tensors.
func rtTensors() []TensorSpec {
	var specs []TensorSpec
	for _, tr := range Types() {
		specs = append(specs, TensorSpec{Name: "t." + tr.Name, Type: tr.Type, Dims: []uint64{2 * tr.BlockSize, 2}})
	}
	return append(specs,
		TensorSpec{Name: "scalar", Type: TypeF32},
		TensorSpec{Name: "cube", Type: TypeF16, Dims: []uint64{4, 3, 2}},
		TensorSpec{Name: "hyper", Type: TypeI8, Dims: []uint64{5, 1, 3, 2}},
	)
}

// rtData is distinct, recognisable data for tensor i.
func rtData(i int, n uint64) []byte {
	b := make([]byte, n)
	for j := range b {
		b[j] = byte(i*31 + j*7 + 1)
	}
	return b
}

// rtT is what the round-trip helpers need of *testing.T and *rapid.T.
type rtT interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
}

// rtWrite writes md and specs with data from rtData and returns the file.
func rtWrite(t rtT, md []KV, specs []TensorSpec, opts WriterOptions) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, md, specs, opts)
	if err != nil {
		t.Fatalf("NewWriter: %v", err)
	}
	for i, ti := range w.Tensors() {
		if err := w.WriteTensorBytes(ti.Name, rtData(i, ti.Size)); err != nil {
			t.Fatalf("WriteTensorBytes(%q): %v", ti.Name, err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if uint64(buf.Len()) != w.Size() {
		t.Fatalf("wrote %d bytes, Size() says %d", buf.Len(), w.Size())
	}
	return buf.Bytes()
}

// rtCheck parses file and compares it with what was written.
func rtCheck(t rtT, file []byte, md []KV, specs []TensorSpec, opts WriterOptions, align uint64) {
	t.Helper()
	f, err := NewReader(bytes.NewReader(file), int64(len(file)))
	if err != nil {
		t.Fatalf("NewReader: %v", err)
	}
	version := opts.Version
	if version == 0 {
		version = 3
	}
	order := opts.ByteOrder
	if order == nil {
		order = binary.LittleEndian
	}
	if f.Version != version || f.ByteOrder != order || f.Alignment != align {
		t.Errorf("header: v%d %v align %d; want v%d %v align %d", f.Version, f.ByteOrder, f.Alignment, version, order, align)
	}
	want := md
	if _, ok := rtFindKV(md, "general.alignment"); !ok && align != DefaultAlignment {
		want = append(append([]KV(nil), md...), KV{"general.alignment", NewUint32(uint32(align))})
	}
	if f.Metadata.Len() != len(want) {
		t.Fatalf("%d metadata entries, want %d", f.Metadata.Len(), len(want))
	}
	for i, kv := range want {
		got := f.Metadata.At(i)
		if got.Key != kv.Key || !got.Value.Equal(kv.Value) {
			t.Errorf("entry %d: got %q = %v, want %q = %v", i, got.Key, got.Value, kv.Key, kv.Value)
		}
	}
	if len(f.Tensors) != len(specs) {
		t.Fatalf("%d tensors, want %d", len(f.Tensors), len(specs))
	}
	if f.DataOffset%align != 0 {
		t.Errorf("data offset %d not aligned to %d", f.DataOffset, align)
	}
	next := f.DataOffset // where ggml requires the next tensor to start
	for i, s := range specs {
		ti := f.Tensors[i]
		size, _ := ByteSize(s.Type, s.Dims)
		if ti.Name != s.Name || ti.Type != s.Type || fmt.Sprint(ti.Dims) != fmt.Sprint(s.Dims) && len(s.Dims)+len(ti.Dims) > 0 || ti.Size != size {
			t.Errorf("tensor %d: got %q %s %v %d bytes, want %q %s %v %d", i, ti.Name, ti.Type, ti.Dims, ti.Size, s.Name, s.Type, s.Dims, size)
		}
		if ti.FileOffset != next {
			t.Errorf("tensor %d %q at %d, want %d (previous end, aligned)", i, ti.Name, ti.FileOffset, next)
		}
		next = (ti.FileOffset + ti.Size + align - 1) / align * align
		data, err := f.TensorBytes(ti)
		if err != nil {
			t.Fatalf("TensorBytes(%q): %v", ti.Name, err)
		}
		if !bytes.Equal(data, rtData(i, ti.Size)) {
			t.Errorf("tensor %d %q: data differs", i, ti.Name)
		}
	}
	if uint64(len(file)) != next {
		t.Errorf("file is %d bytes, want %d (padded after the last tensor)", len(file), next)
	}
}

func rtFindKV(md []KV, key string) (Value, bool) {
	for _, kv := range md {
		if kv.Key == key {
			return kv.Value, true
		}
	}
	return Value{}, false
}

func TestRoundTripEveryVersionOrderAlignment(t *testing.T) {
	md := rtValues(t)
	specs := rtTensors()
	for _, version := range []uint32{1, 2, 3} {
		for _, order := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
			for _, align := range []uint64{1, 8, 32, 64, 4096} {
				opts := WriterOptions{Version: version, ByteOrder: order, Alignment: align}
				t.Run(fmt.Sprintf("v%d/%v/align%d", version, order, align), func(t *testing.T) {
					file := rtWrite(t, md, specs, opts)
					rtCheck(t, file, md, specs, opts, align)
				})
			}
		}
	}
}

func TestRoundTripNoTensors(t *testing.T) {
	for _, align := range []uint64{1, 32, 4096} {
		opts := WriterOptions{Alignment: align}
		file := rtWrite(t, []KV{{"general.architecture", NewString("none")}}, nil, opts)
		if uint64(len(file))%align != 0 {
			t.Errorf("align %d: file of %d bytes not padded to the alignment", align, len(file))
		}
		rtCheck(t, file, []KV{{"general.architecture", NewString("none")}}, nil, opts, align)
	}
}

func TestRoundTripEmpty(t *testing.T) {
	file := rtWrite(t, nil, nil, WriterOptions{})
	rtCheck(t, file, nil, nil, WriterOptions{}, DefaultAlignment)
}

func TestRoundTripAlignmentFromMetadata(t *testing.T) {
	md := []KV{{"general.alignment", NewUint32(64)}, {"x", NewUint8(1)}}
	specs := []TensorSpec{{Name: "a", Type: TypeF32, Dims: []uint64{3}}, {Name: "b", Type: TypeF32, Dims: []uint64{5}}}
	file := rtWrite(t, md, specs, WriterOptions{})
	rtCheck(t, file, md, specs, WriterOptions{}, 64)
}

func TestRoundTripUnknownType(t *testing.T) {
	specs := []TensorSpec{
		{Name: "known", Type: TypeF32, Dims: []uint64{8}},
		{Name: "fork", Type: 142, Dims: []uint64{10}, Size: 40},
		{Name: "removed", Type: 4, Dims: []uint64{32}, Size: 64},
	}
	file := rtWrite(t, nil, specs, WriterOptions{})
	f, err := NewReader(bytes.NewReader(file), int64(len(file)))
	if err != nil {
		t.Fatalf("NewReader: %v", err)
	}
	for i, s := range specs {
		ti := f.Tensors[i]
		if ti.Type != s.Type || ti.Name != s.Name {
			t.Errorf("tensor %d: %q %s, want %q %s", i, ti.Name, ti.Type, s.Name, s.Type)
		}
		if s.Type.Known() != (ti.Uploadable() == nil) {
			t.Errorf("tensor %q: Uploadable() = %v", ti.Name, ti.Uploadable())
		}
	}
	// A layout-sized tensor reaches the next tensor's (aligned) start.
	if f.Tensors[1].Size < 40 {
		t.Errorf("unknown-type tensor sized %d, want at least the 40 bytes written", f.Tensors[1].Size)
	}
}
