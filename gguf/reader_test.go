package gguf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
)

func parseBytes(b []byte) (*File, error) { return NewReader(bytes.NewReader(b), int64(len(b))) }

func mustParse(t *testing.T, b []byte) *File {
	t.Helper()
	f, err := parseBytes(b)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return f
}

// checkMetadata asserts that f's metadata equals want, in order.
func checkMetadata(t *testing.T, f *File, want []KV) {
	t.Helper()
	if f.Metadata.Len() != len(want) {
		t.Fatalf("metadata has %d keys, want %d", f.Metadata.Len(), len(want))
	}
	for i, kv := range want {
		got := f.Metadata.At(i)
		if got.Key != kv.Key || !got.Value.Equal(kv.Value) {
			t.Errorf("key %d: got %q = %v, want %q = %v", i, got.Key, got.Value, kv.Key, kv.Value)
		}
	}
}

// checkTensors asserts names, dims, types and offsets, and that each
// tensor's bytes are the test pattern at its place in the data section.
func checkTensors(t *testing.T, f *File, want []tspec) {
	t.Helper()
	if len(f.Tensors) != len(want) {
		t.Fatalf("%d tensors, want %d", len(f.Tensors), len(want))
	}
	for i, w := range want {
		g := f.Tensors[i]
		if g.Name != w.name || !slices.Equal(g.Dims, w.dims) || g.Type != w.typ || g.Offset != w.offset || g.Index != i {
			t.Errorf("tensor %d: got %q %v %s @%d, want %q %v %s @%d", i, g.Name, g.Dims, g.Type, g.Offset, w.name, w.dims, w.typ, w.offset)
		}
		if g.FileOffset != f.DataOffset+w.offset {
			t.Errorf("tensor %d: FileOffset %d, want %d", i, g.FileOffset, f.DataOffset+w.offset)
		}
		if lk, ok := f.Tensor(w.name); !ok || lk != g {
			t.Errorf("Tensor(%q) lookup failed", w.name)
		}
		b, err := f.TensorBytes(g)
		if err != nil {
			t.Fatalf("TensorBytes(%q): %v", g.Name, err)
		}
		if uint64(len(b)) != g.Size {
			t.Fatalf("TensorBytes(%q): %d bytes, want %d", g.Name, len(b), g.Size)
		}
		for j, x := range b {
			if want := byte((w.offset+uint64(j))*7 + 1); x != want {
				t.Fatalf("tensor %q byte %d = %d, want %d", g.Name, j, x, want)
			}
		}
	}
}

func TestReadVersionsAndByteOrders(t *testing.T) {
	for _, version := range []uint32{1, 2, 3} {
		for _, order := range []binary.AppendByteOrder{binary.LittleEndian, binary.BigEndian} {
			tf := typicalFile()
			tf.version, tf.order = version, order
			f := mustParse(t, tf.bytes())
			if f.Version != version || f.ByteOrder != order.(binary.ByteOrder) {
				t.Errorf("v%d %v: got version %d order %v", version, order, f.Version, f.ByteOrder)
			}
			if f.Alignment != 32 || f.DataOffset%32 != 0 || f.DataOffset < f.HeaderSize || f.DataOffset-f.HeaderSize >= 32 {
				t.Errorf("v%d %v: alignment %d data offset %d header %d", version, order, f.Alignment, f.DataOffset, f.HeaderSize)
			}
			checkMetadata(t, f, tf.kvs)
			checkTensors(t, f, tf.tensors)
		}
	}
}

func TestReadTypedValues(t *testing.T) {
	f := mustParse(t, typicalFile().bytes())
	md := f.Metadata
	if s, err := md.String("general.architecture"); err != nil || s != "llama" {
		t.Errorf("architecture %q %v", s, err)
	}
	if x, err := md.Uint32("t.u32"); err != nil || x != 4000000000 {
		t.Errorf("u32 %d %v", x, err)
	}
	if x, err := md.Float32("t.f32"); err != nil || x != 0.125 {
		t.Errorf("f32 %v %v", x, err)
	}
	toks, err := md.Array("tokenizer.ggml.tokens")
	if err != nil || toks.Len() != 4 || toks.ElemType() != ValueString {
		t.Fatalf("tokens: %v %v", toks, err)
	}
	if e, _ := toks.Index(3); e.str != "é\n" {
		t.Errorf("token 3 = %q", e.str)
	}
	// An int8 array read as float: a type mismatch, not garbage.
	i8s, _ := md.Array("t.i8s")
	e, _ := i8s.Index(0)
	if _, err := e.Float(); !errors.Is(err, ErrTypeMismatch) {
		t.Errorf("int8 element as float: %v", err)
	}
	if _, err := md.Float32("t.i8s"); !errors.Is(err, ErrTypeMismatch) {
		t.Errorf("int8 array as float32: %v", err)
	}
	if x, _ := md.Get("t.nan"); !math.IsNaN(float64(x.Any().(float32))) {
		t.Errorf("NaN lost: %v", x)
	}
}

func TestReadScalarTensor(t *testing.T) {
	tf := tfile{tensors: []tspec{{name: "s", dims: nil, typ: TypeF32}}}
	f := mustParse(t, tf.bytes())
	s := f.Tensors[0]
	if len(s.Dims) != 0 || s.Size != 4 || s.Elements() != 1 {
		t.Errorf("scalar: dims %v size %d elements %d", s.Dims, s.Size, s.Elements())
	}
}

func TestReadAlignment(t *testing.T) {
	for _, align := range []uint64{1, 64, 4096} {
		kvs := append(everyValue(), KV{"general.alignment", NewUint32(uint32(align))})
		tf := tfile{align: align, kvs: kvs, tensors: sequential(align,
			tspec{name: "a", dims: []uint64{3}, typ: TypeI8},
			tspec{name: "b", dims: []uint64{5}, typ: TypeF32})}
		f := mustParse(t, tf.bytes())
		if f.Alignment != align || f.DataOffset%align != 0 {
			t.Errorf("alignment %d: got %d, data offset %d", align, f.Alignment, f.DataOffset)
		}
		checkTensors(t, f, tf.tensors)
	}
}

func TestReadAlignmentKeyFirst(t *testing.T) {
	kvs := append([]KV{{"general.alignment", NewUint32(64)}}, everyValue()...)
	tf := tfile{align: 64, kvs: kvs, tensors: sequential(64, typicalTensors()...)}
	f := mustParse(t, tf.bytes())
	if f.Alignment != 64 {
		t.Errorf("alignment %d", f.Alignment)
	}
	checkTensors(t, f, tf.tensors)
}

func TestReadNoTensors(t *testing.T) {
	f := mustParse(t, tfile{kvs: everyValue()}.bytes())
	if len(f.Tensors) != 0 {
		t.Errorf("%d tensors", len(f.Tensors))
	}
	// A file with no padding after the header is fine with no tensors.
	e := &enc{order: binary.LittleEndian}
	e.header(3, 0, 1)
	e.kv("a", NewUint8(1))
	mustParse(t, e.b)
}

func TestReadUnknownAndRemovedTypes(t *testing.T) {
	ts := []tspec{
		{name: "a", dims: []uint64{32}, typ: TypeF32, offset: 0},         // 128 bytes
		{name: "fork", dims: []uint64{100}, typ: Type(142), offset: 128}, // up to 256
		{name: "b", dims: []uint64{8}, typ: TypeF32, offset: 256},        // 32 bytes
		{name: "old", dims: []uint64{32}, typ: Type(4), offset: 288},     // to end of file
	}
	tf := tfile{tensors: ts, dataSize: 320}
	f := mustParse(t, tf.bytes())
	fork, old := f.Tensors[1], f.Tensors[3]
	if fork.Type.String() != "unknown(142)" || old.Type.String() != "q4_2" {
		t.Errorf("type names %q %q", fork.Type, old.Type)
	}
	if fork.Size != 128 || !fork.SizeFromLayout || old.Size != 32 || !old.SizeFromLayout {
		t.Errorf("layout sizes: fork %d %v, old %d %v", fork.Size, fork.SizeFromLayout, old.Size, old.SizeFromLayout)
	}
	for _, u := range []*TensorInfo{fork, old} {
		if err := u.Uploadable(); !errors.Is(err, ErrUnknownType) {
			t.Errorf("%s Uploadable: %v", u.Name, err)
		}
	}
	for _, k := range []*TensorInfo{f.Tensors[0], f.Tensors[2]} {
		if err := k.Uploadable(); err != nil || k.SizeFromLayout {
			t.Errorf("%s: %v %v", k.Name, err, k.SizeFromLayout)
		}
	}
	if b, err := f.TensorBytes(fork); err != nil || len(b) != 128 {
		t.Errorf("raw bytes of unknown type: %d %v", len(b), err)
	}
}

func TestReadWithoutMapping(t *testing.T) {
	f := mustParse(t, typicalFile().bytes())
	if f.Mapped() || f.MapError() != nil {
		t.Errorf("NewReader: Mapped %v MapError %v", f.Mapped(), f.MapError())
	}
	b1, _ := f.TensorBytes(f.Tensors[0])
	b2, _ := f.TensorBytes(f.Tensors[0])
	if &b1[0] == &b2[0] {
		t.Error("pread path returned a shared buffer")
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.TensorBytes(f.Tensors[0]); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
}

func TestTensorFromAnotherFile(t *testing.T) {
	f1 := mustParse(t, typicalFile().bytes())
	f2 := mustParse(t, typicalFile().bytes())
	if _, err := f1.TensorBytes(f2.Tensors[0]); err == nil {
		t.Error("TensorBytes accepted a tensor of another file")
	}
}

// Strings longer than the read window, alone and in arrays, and arrays
// that straddle the window's edge, read the same through pread.
func TestReadLongStrings(t *testing.T) {
	long := strings.Repeat("x", readChunk+100)
	strs := []string{"a", long, "b", long[:readChunk-20], "c"}
	arr, _ := NewStringArray(strs)
	kvs := []KV{
		{"pad", NewString(long[:readChunk-30])},
		{"long", NewString(long)},
		{"arr", arr},
		{"f32s", NewFloat32Array(make([]float32, readChunk/2))},
	}
	for _, version := range []uint32{1, 3} {
		tf := tfile{version: version, kvs: kvs, tensors: typicalTensors()}
		f := mustParse(t, tf.bytes())
		checkMetadata(t, f, kvs)
		checkTensors(t, f, tf.tensors)
	}
}

// recordingReader remembers the furthest byte read.
type recordingReader struct {
	r   *bytes.Reader
	end int64
}

func (r *recordingReader) ReadAt(p []byte, off int64) (int, error) {
	n, err := r.r.ReadAt(p, off)
	r.end = max(r.end, off+int64(n))
	return n, err
}

// Parsing reads the header and at most one read window past it, never the
// rest of the data section.
func TestParseReadsNoData(t *testing.T) {
	tf := typicalFile()
	tf.dataSize = 4 * readChunk
	b := tf.bytes()
	rr := &recordingReader{r: bytes.NewReader(b)}
	f, err := NewReader(rr, int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if rr.end > int64(f.HeaderSize)+readChunk {
		t.Errorf("read up to byte %d; header ends at %d", rr.end, f.HeaderSize)
	}
}
