package gguf

import (
	"encoding/binary"
	"math"
)

// A hand encoder for test files, independent of the Writer, so the reader
// is not tested only against our own writer. It writes whatever it is
// told, valid or not.

// enc appends GGUF fields in one byte order and version.
type enc struct {
	order binary.AppendByteOrder
	v1    bool
	b     []byte
}

func (e *enc) u8(x uint8)   { e.b = append(e.b, x) }
func (e *enc) u16(x uint16) { e.b = e.order.AppendUint16(e.b, x) }
func (e *enc) u32(x uint32) { e.b = e.order.AppendUint32(e.b, x) }
func (e *enc) u64(x uint64) { e.b = e.order.AppendUint64(e.b, x) }

// count writes a count or length: 32 bits in v1, 64 after.
func (e *enc) count(n uint64) {
	if e.v1 {
		e.u32(uint32(n))
	} else {
		e.u64(n)
	}
}

func (e *enc) str(s string) { e.count(uint64(len(s))); e.b = append(e.b, s...) }

// value writes v's payload (not its type).
func (e *enc) value(v Value) {
	switch t := v.Type(); t {
	case ValueString:
		s, _ := v.Str()
		e.str(s)
	case ValueArray:
		e.u32(uint32(v.ElemType()))
		e.count(uint64(v.Len()))
		for i := 0; i < v.Len(); i++ {
			el, _ := v.Index(i)
			e.value(el)
		}
	case ValueUint8, ValueInt8, ValueBool:
		e.u8(uint8(v.bits))
	case ValueUint16, ValueInt16:
		e.u16(uint16(v.bits))
	case ValueUint32, ValueInt32, ValueFloat32:
		e.u32(uint32(v.bits))
	default:
		e.u64(v.bits)
	}
}

// kv writes a key, its type and its value.
func (e *enc) kv(key string, v Value) {
	e.str(key)
	e.u32(uint32(v.Type()))
	e.value(v)
}

// tspec is one tensor info record as the test wants it written.
type tspec struct {
	name   string
	dims   []uint64
	typ    Type
	offset uint64
}

func (e *enc) tensorInfo(t tspec) {
	e.str(t.name)
	e.u32(uint32(len(t.dims)))
	for _, d := range t.dims {
		if e.v1 {
			e.u32(uint32(d))
		} else {
			e.u64(d)
		}
	}
	e.u32(uint32(t.typ))
	e.u64(t.offset)
}

// header writes magic, version and counts.
func (e *enc) header(version uint32, nTensors, nKVs uint64) {
	e.b = append(e.b, "GGUF"...)
	e.u32(version)
	e.count(nTensors)
	e.count(nKVs)
}

// pad appends zeros up to a multiple of align.
func (e *enc) pad(align uint64) {
	for uint64(len(e.b))%align != 0 {
		e.b = append(e.b, 0)
	}
}

// tfile describes a whole test file.
type tfile struct {
	version  uint32 // default 3
	order    binary.AppendByteOrder
	align    uint64 // for padding; general.alignment must be in kvs to differ from 32
	kvs      []KV
	tensors  []tspec
	dataSize uint64 // bytes after the data section start; default: laid out sizes
}

// bytes encodes f: header, kvs, infos, padding, then the data section
// filled with a byte pattern.
func (f tfile) bytes() []byte {
	if f.version == 0 {
		f.version = 3
	}
	if f.order == nil {
		f.order = binary.LittleEndian
	}
	if f.align == 0 {
		f.align = 32
	}
	e := &enc{order: f.order, v1: f.version == 1}
	e.header(f.version, uint64(len(f.tensors)), uint64(len(f.kvs)))
	for _, kv := range f.kvs {
		e.kv(kv.Key, kv.Value)
	}
	for _, t := range f.tensors {
		e.tensorInfo(t)
	}
	e.pad(f.align)
	size := f.dataSize
	if size == 0 {
		size = f.laidOutSize()
	}
	for i := uint64(0); i < size; i++ {
		e.b = append(e.b, byte(i*7+1))
	}
	return e.b
}

// laidOutSize is the end of the furthest tensor of known type, padded.
func (f tfile) laidOutSize() uint64 {
	var end uint64
	for _, t := range f.tensors {
		n, err := ByteSize(t.typ, t.dims)
		if err != nil {
			n = f.align
		}
		if t.offset+n > end {
			end = t.offset + n
		}
	}
	return (end + f.align - 1) / f.align * f.align
}

// sequential lays tensors out back to back, each aligned, ggml style.
func sequential(align uint64, ts ...tspec) []tspec {
	var off uint64
	for i := range ts {
		ts[i].offset = off
		n, err := ByteSize(ts[i].typ, ts[i].dims)
		if err != nil {
			n = align
		}
		off = (off + n + align - 1) / align * align
	}
	return ts
}

// everyValue is one key of every type, arrays of arrays included.
func everyValue() []KV {
	strs, _ := NewStringArray([]string{"<unk>", "<s>", "", "é\n"})
	nested, _ := NewArray(ValueArray, []Value{NewInt32Array([]int32{1, -2}), strs, NewBoolArray(nil)})
	return []KV{
		{"general.architecture", NewString("llama")},
		{"t.u8", NewUint8(200)},
		{"t.i8", NewInt8(-100)},
		{"t.u16", NewUint16(60000)},
		{"t.i16", NewInt16(-30000)},
		{"t.u32", NewUint32(4000000000)},
		{"t.i32", NewInt32(-2000000000)},
		{"t.f32", NewFloat32(0.125)},
		{"t.bool", NewBool(true)},
		{"t.str", NewString("hello")},
		{"t.u64", NewUint64(math.MaxUint64)},
		{"t.i64", NewInt64(math.MinInt64)},
		{"t.f64", NewFloat64(math.Pi)},
		{"t.nan", NewFloat32(float32(math.NaN()))},
		{"tokenizer.ggml.tokens", strs},
		{"tokenizer.ggml.scores", NewFloat32Array([]float32{0, -1, -2.5, 3})},
		{"tokenizer.ggml.token_type", NewInt32Array([]int32{2, 3, 3, 1})},
		{"t.i8s", NewInt8Array([]int8{-1, 1})},
		{"t.nested", nested},
	}
}

// typicalTensors is a small model: matrices, a vector, a scalar, a quantized one.
func typicalTensors() []tspec {
	return sequential(32,
		tspec{name: "token_embd.weight", dims: []uint64{8, 4}, typ: TypeF32},
		tspec{name: "blk.0.attn_q.weight", dims: []uint64{64, 2}, typ: TypeQ8_0},
		tspec{name: "output_norm.weight", dims: []uint64{8}, typ: TypeF16},
		tspec{name: "scale", dims: nil, typ: TypeF32},
	)
}

// typicalFile is a valid v3 little-endian file.
func typicalFile() tfile {
	return tfile{kvs: everyValue(), tensors: typicalTensors()}
}
