package gguf

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"unicode/utf8"
)

// wantFormatError asserts err is a *FormatError matching sentinel.
func wantFormatError(t *testing.T, err, sentinel error) *FormatError {
	t.Helper()
	if err == nil {
		t.Fatalf("parsed; want %v", sentinel)
	}
	var fe *FormatError
	if !errors.As(err, &fe) {
		t.Fatalf("error %v (%T) is not a *FormatError", err, err)
	}
	if !errors.Is(err, sentinel) {
		t.Fatalf("error %q does not match %q", err, sentinel)
	}
	if !strings.HasPrefix(err.Error(), "gguf: ") {
		t.Errorf("error %q lacks the package prefix", err)
	}
	return fe
}

// le returns a little-endian v3 encoder with the header written.
func le(nTensors, nKVs uint64) *enc {
	e := &enc{order: binary.LittleEndian}
	e.header(3, nTensors, nKVs)
	return e
}

func TestBadMagic(t *testing.T) {
	for _, m := range []string{"gguf", "GGML", "\x00\x00\x00\x00", "FUGG"} {
		b := typicalFile().bytes()
		copy(b, m)
		_, err := parseBytes(b)
		if fe := wantFormatError(t, err, ErrBadMagic); fe.Offset != 0 || fe.TensorIndex != -1 {
			t.Errorf("magic %q: offset %d index %d", m, fe.Offset, fe.TensorIndex)
		}
	}
}

func TestBadVersion(t *testing.T) {
	for _, v := range []uint32{0, 4, 0xdeadbeef, 0x04000000} {
		b := typicalFile().bytes()
		binary.LittleEndian.PutUint32(b[4:], v)
		_, err := parseBytes(b)
		if fe := wantFormatError(t, err, ErrVersion); fe.Offset != 4 {
			t.Errorf("version %#x: offset %d", v, fe.Offset)
		}
	}
}

// Every cut inside the header is a truncation error, never a panic or a
// success, in every version and byte order.
func TestTruncatedAtEveryByte(t *testing.T) {
	for _, version := range []uint32{1, 3} {
		for _, order := range []binary.AppendByteOrder{binary.LittleEndian, binary.BigEndian} {
			tf := typicalFile()
			tf.version, tf.order = version, order
			b := tf.bytes()
			f := mustParse(t, b)
			for n := 0; n < int(f.HeaderSize); n++ {
				_, err := parseBytes(b[:n])
				fe := wantFormatError(t, err, ErrTruncated)
				if fe.Offset < 0 || fe.Offset > int64(n) {
					t.Fatalf("cut at %d: error offset %d", n, fe.Offset)
				}
			}
			// Cut in the data section: the last tensor no longer fits.
			last := f.Tensors[len(f.Tensors)-1]
			_, err := parseBytes(b[:last.FileOffset+last.Size-1])
			wantFormatError(t, err, ErrOutOfBounds)
		}
	}
}

func TestHugeCounts(t *testing.T) {
	cases := []struct {
		name     string
		file     []byte
		offset   int64
		sentinel error
	}{
		{"tensor count 2^60", le(1<<60, 0).b, 8, ErrCount},
		{"kv count 2^60", le(0, 1<<60).b, 16, ErrCount},
		{"both 2^64-1", le(1<<64-1, 1<<64-1).b, 16, ErrCount},
	}
	e := le(0, 1)
	e.count(1 << 62) // key length
	e.b = append(e.b, make([]byte, 16)...)
	cases = append(cases, struct {
		name     string
		file     []byte
		offset   int64
		sentinel error
	}{"key length 2^62", e.b, 24, ErrCount})
	for _, c := range cases {
		_, err := parseBytes(c.file)
		fe := wantFormatError(t, err, c.sentinel)
		if fe.Offset != c.offset {
			t.Errorf("%s: offset %d, want %d", c.name, fe.Offset, c.offset)
		}
		if !errors.Is(err, ErrTruncated) {
			t.Errorf("%s: ErrCount should also be ErrTruncated", c.name)
		}
	}
}

func TestHugeValueLengths(t *testing.T) {
	str := le(0, 1)
	str.str("k")
	str.u32(uint32(ValueString))
	str.count(1 << 62)
	arrays := map[ValueType]*enc{}
	for _, elem := range []ValueType{ValueUint8, ValueUint64, ValueString, ValueArray} {
		e := le(0, 1)
		e.str("k")
		e.u32(uint32(ValueArray))
		e.u32(uint32(elem))
		e.count(1 << 61)
		arrays[elem] = e
	}
	files := map[string][]byte{"string length 2^62": str.b}
	for elem, e := range arrays {
		files["array of 2^61 "+elem.String()] = e.b
	}
	for name, b := range files {
		_, err := parseBytes(b)
		if fe := wantFormatError(t, err, ErrCount); fe.Key != "k" || fe.Offset <= 24 {
			t.Errorf("%s: key %q offset %d", name, fe.Key, fe.Offset)
		}
	}
}

// A 30-byte file that declares huge counts must fail without allocating
// anything like what it declares.
func TestHostileCountsAllocateLittle(t *testing.T) {
	e := le(0, 1)
	e.str("k")
	e.u32(uint32(ValueArray))
	e.u32(uint32(ValueString))
	e.count(1 << 40)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := 0; i < 10; i++ {
		if _, err := parseBytes(e.b); err == nil {
			t.Fatal("parsed")
		}
	}
	runtime.ReadMemStats(&after)
	// Each parse allocates a read window of at most the file's size plus
	// small structures: far below 1 MiB each.
	if got := after.TotalAlloc - before.TotalAlloc; got > 10<<20 {
		t.Errorf("10 parses of a %d-byte file allocated %d bytes", len(e.b), got)
	}
}

func TestNestedArrayBombs(t *testing.T) {
	// Deep: arrays of arrays nested past the limit.
	deep := le(0, 1)
	deep.str("k")
	deep.u32(uint32(ValueArray))
	for i := 0; i < maxArrayDepth+1; i++ {
		deep.u32(uint32(ValueArray))
		deep.count(1)
	}
	deep.u32(uint32(ValueUint8))
	deep.count(0)
	_, err := parseBytes(deep.b)
	if fe := wantFormatError(t, err, ErrNesting); fe.Key != "k" {
		t.Errorf("deep: key %q", fe.Key)
	}
	// Wide: one array declaring 2^40 empty arrays.
	wide := le(0, 1)
	wide.str("k")
	wide.u32(uint32(ValueArray))
	wide.u32(uint32(ValueArray))
	wide.count(1 << 40)
	_, err = parseBytes(wide.b)
	wantFormatError(t, err, ErrCount)
	// Nested within the limit is fine.
	ok := le(0, 1)
	ok.str("k")
	ok.u32(uint32(ValueArray))
	for i := 0; i < maxArrayDepth-1; i++ {
		ok.u32(uint32(ValueArray))
		ok.count(1)
	}
	ok.u32(uint32(ValueUint8))
	ok.count(0)
	mustParse(t, ok.b)
}

// tensorFile is a valid file around one tensor info, laid out as given.
func tensorFile(ts []tspec, dataSize uint64, kvs ...KV) []byte {
	return tfile{kvs: kvs, tensors: ts, dataSize: dataSize}.bytes()
}

func TestBadDims(t *testing.T) {
	cases := []struct {
		name     string
		dims     []uint64
		typ      Type
		sentinel error
	}{
		{"product overflows", []uint64{1 << 32, 1 << 32}, TypeF32, ErrOverflow},
		{"product overflows int64", []uint64{1 << 31, 1 << 31, 2}, TypeI8, ErrOverflow},
		{"ne0 2^63-3 f32", []uint64{1<<63 - 3}, TypeF32, ErrOverflow},
		{"ne0 2^63-3 q4_0", []uint64{1<<63 - 3}, TypeQ4_0, ErrDims},
		{"ne0 2^63", []uint64{1 << 63}, TypeI8, ErrDims},
		{"dim 0", []uint64{4, 0}, TypeF32, ErrDims},
		{"ne1 0 then huge", []uint64{32, 0, 1 << 62}, TypeF32, ErrDims},
		{"5 dims", []uint64{1, 1, 1, 1, 1}, TypeF32, ErrDims},
		{"ne0 not a block multiple", []uint64{33}, TypeQ8_0, ErrDims},
	}
	for _, c := range cases {
		_, err := parseBytes(tensorFile([]tspec{{name: "w", dims: c.dims, typ: c.typ}}, 64))
		fe := wantFormatError(t, err, c.sentinel)
		if fe.TensorIndex != 0 || fe.Tensor != "w" || fe.Offset < 24 {
			t.Errorf("%s: index %d tensor %q offset %d", c.name, fe.TensorIndex, fe.Tensor, fe.Offset)
		}
	}
}

func TestBadAlignment(t *testing.T) {
	one := []tspec{{name: "w", dims: []uint64{8}, typ: TypeF32}}
	for _, v := range []Value{NewUint32(0), NewUint32(3), NewUint32(48), NewUint64(64), NewInt32(32), NewString("32")} {
		_, err := parseBytes(tensorFile(one, 32, KV{"general.alignment", v}))
		if fe := wantFormatError(t, err, ErrAlignment); fe.Key != "general.alignment" || fe.Offset != 24 {
			t.Errorf("alignment %v: key %q offset %d", v, fe.Key, fe.Offset)
		}
	}
	// 2^31 is a power of two: legal, but the data section then starts
	// beyond this small file.
	_, err := parseBytes(tensorFile(one, 32, KV{"general.alignment", NewUint32(0x80000000)}))
	wantFormatError(t, err, ErrOutOfBounds)
	mustParse(t, tensorFile(nil, 0, KV{"general.alignment", NewUint32(0x80000000)}))
}

func TestBadOffsets(t *testing.T) {
	f32 := func(name string, n, off uint64) tspec {
		return tspec{name: name, dims: []uint64{n}, typ: TypeF32, offset: off}
	}
	cases := []struct {
		name     string
		ts       []tspec
		data     uint64
		sentinel error
		index    int
	}{
		{"past EOF", []tspec{f32("a", 8, 0), f32("b", 8, 64)}, 64, ErrOutOfBounds, 1},
		{"end past EOF", []tspec{f32("a", 32, 0)}, 96, ErrOutOfBounds, 0},
		{"offset 2^64-32", []tspec{f32("a", 8, 1<<64-32)}, 64, ErrOutOfBounds, 0},
		{"misaligned", []tspec{f32("a", 8, 0), f32("b", 8, 40)}, 96, ErrMisaligned, 1},
		{"overlap", []tspec{f32("a", 16, 0), f32("b", 8, 32)}, 96, ErrOverlap, 0},
		{"same offset", []tspec{f32("a", 8, 0), f32("b", 8, 0)}, 64, ErrOverlap, 0},
		{"overlap out of order", []tspec{f32("b", 8, 32), f32("a", 16, 0)}, 96, ErrOverlap, 1},
		{"unknown type shares start", []tspec{{name: "u", dims: []uint64{1}, typ: Type(99)}, f32("a", 8, 0)}, 64, ErrOverlap, 0},
		{"unknown type at end of file", []tspec{f32("a", 8, 0), {name: "u", dims: []uint64{1}, typ: Type(99), offset: 32}}, 32, ErrOutOfBounds, 1},
		{"unknown type past end of file", []tspec{{name: "u", dims: []uint64{1}, typ: Type(99), offset: 64}}, 32, ErrOutOfBounds, 0},
	}
	for _, c := range cases {
		_, err := parseBytes(tensorFile(c.ts, c.data))
		fe := wantFormatError(t, err, c.sentinel)
		if fe.TensorIndex != c.index || fe.Tensor != c.ts[c.index].name || fe.Offset <= 24 {
			t.Errorf("%s: index %d tensor %q offset %d; want index %d", c.name, fe.TensorIndex, fe.Tensor, fe.Offset, c.index)
		}
	}
	// The message names what and where.
	_, err := parseBytes(tensorFile([]tspec{f32("a", 8, 0), f32("blk.0.ffn_up.weight", 8, 64)}, 64))
	if msg := err.Error(); !strings.Contains(msg, `tensor 1 "blk.0.ffn_up.weight": data [`) || !strings.Contains(msg, "beyond end of file (size") {
		t.Errorf("message %q", msg)
	}
}

func TestDuplicates(t *testing.T) {
	ts := sequential(32, tspec{name: "a", dims: []uint64{8}, typ: TypeF32}, tspec{name: "a", dims: []uint64{8}, typ: TypeF32})
	_, err := parseBytes(tensorFile(ts, 64))
	if fe := wantFormatError(t, err, ErrDuplicate); fe.Tensor != "a" || fe.TensorIndex != 1 {
		t.Errorf("duplicate tensor: %q %d", fe.Tensor, fe.TensorIndex)
	}
	_, err = parseBytes(tensorFile(nil, 0, KV{"k", NewUint8(1)}, KV{"j", NewUint8(1)}, KV{"k", NewUint8(2)}))
	if fe := wantFormatError(t, err, ErrDuplicate); fe.Key != "k" || fe.TensorIndex != -1 {
		t.Errorf("duplicate key: %q %d", fe.Key, fe.TensorIndex)
	}
}

func TestBadNames(t *testing.T) {
	for _, name := range []string{"a\x00b", "\xff\xfe", "", strings.Repeat("x", 65)} {
		_, err := parseBytes(tensorFile([]tspec{{name: name, dims: []uint64{8}, typ: TypeF32}}, 32))
		if fe := wantFormatError(t, err, ErrBadName); fe.TensorIndex != 0 || fe.Offset != 24 {
			t.Errorf("name %q: index %d offset %d", name, fe.TensorIndex, fe.Offset)
		}
		if len(name) > 64 {
			continue // keys may be up to 65535 bytes
		}
		_, err = parseBytes(tensorFile(nil, 0, KV{name, NewUint8(1)}))
		if fe := wantFormatError(t, err, ErrBadName); fe.Offset != 24 {
			t.Errorf("key %q: offset %d", name, fe.Offset)
		}
	}
	_, err := parseBytes(tensorFile(nil, 0, KV{strings.Repeat("k", maxKeyBytes+1), NewUint8(1)}))
	wantFormatError(t, err, ErrBadName)
	mustParse(t, tensorFile(nil, 0, KV{strings.Repeat("k", maxKeyBytes), NewUint8(1)}))
	// 64 bytes is the limit, and other odd but valid names pass.
	// ggml accepts '/', "." and "..": so do we (the filesystem escapes them).
	for _, name := range []string{strings.Repeat("x", 64), "...", "a.b", "é", " ", "a/b", "/", ".", "..", "%2F"} {
		f := mustParse(t, tensorFile([]tspec{{name: name, dims: []uint64{8}, typ: TypeF32}}, 32))
		if got := f.Tensors[0].Name; got != name {
			t.Errorf("name %q parsed as %q", name, got)
		}
		mustParse(t, tensorFile(nil, 0, KV{name, NewUint8(1)}))
	}
}

// Bools must be 0 or 1: anything else is rejected (ggml would read any
// non-zero byte as true; a strict reader cannot tell what was meant).
func TestBadBool(t *testing.T) {
	scalar := le(0, 1)
	scalar.str("b")
	scalar.u32(uint32(ValueBool))
	scalar.u8(2)
	_, err := parseBytes(scalar.b)
	if fe := wantFormatError(t, err, ErrBadValue); fe.Key != "b" {
		t.Errorf("key %q", fe.Key)
	}
	arr := le(0, 1)
	arr.str("b")
	arr.u32(uint32(ValueArray))
	arr.u32(uint32(ValueBool))
	arr.count(3)
	arr.b = append(arr.b, 0, 1, 0xff)
	_, err = parseBytes(arr.b)
	if fe := wantFormatError(t, err, ErrBadValue); fe.Key != "b" || fe.Offset != int64(len(arr.b)-1) {
		t.Errorf("array: key %q offset %d (want %d)", fe.Key, fe.Offset, len(arr.b)-1)
	}
}

func TestUnknownValueType(t *testing.T) {
	scalar := le(0, 1)
	scalar.str("k")
	scalar.u32(13)
	_, err := parseBytes(scalar.b)
	if fe := wantFormatError(t, err, ErrValueType); fe.Key != "k" || fe.Offset != 24+8+1 {
		t.Errorf("scalar: key %q offset %d", fe.Key, fe.Offset)
	}
	elem := le(0, 1)
	elem.str("k")
	elem.u32(uint32(ValueArray))
	elem.u32(0xffffffff)
	elem.count(1)
	_, err = parseBytes(elem.b)
	wantFormatError(t, err, ErrValueType)
}

func TestHeaderSizeLimit(t *testing.T) {
	// A string that fits the file but not maxHeaderBytes: the file is not
	// read, only its size is declared.
	e := le(0, 1)
	e.str("k")
	e.u32(uint32(ValueString))
	e.count(maxHeaderBytes)
	_, err := NewReader(zeroReader{e.b}, maxHeaderBytes+1<<20)
	wantFormatError(t, err, ErrTooLarge)
}

// zeroReader reads b then zeros, as a sparse file would.
type zeroReader struct{ b []byte }

func (z zeroReader) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	if off < int64(len(z.b)) {
		n = copy(p, z.b[off:])
	}
	clear(p[n:])
	return len(p), nil
}

// A count that the file's size allows but whose records are garbage fails
// at the first record, having allocated for a slab of records, not for the
// whole count.
func TestCountBackedOnlyBySize(t *testing.T) {
	e := le(1<<20, 0)
	e.b = append(e.b, make([]byte, 24<<20)...) // zeros: name length 0, an empty name
	before := allocatedBytes()
	_, err := parseBytes(e.b)
	allocated := allocatedBytes() - before
	wantFormatError(t, err, ErrBadName)
	if allocated > 4<<20 {
		t.Errorf("allocated %d bytes before failing at the first tensor", allocated)
	}
}

// A name or key whose length field is huge but within a (sparse) file is
// rejected from the length alone: nothing is read or copied, and the error
// stays short.
func TestOverlongNameRejectedBeforeReading(t *testing.T) {
	for _, c := range []struct {
		what string
		file *enc
	}{
		{"tensor name", le(1, 0)},
		{"metadata key", le(0, 1)},
	} {
		c.file.count(1<<30 - 100)
		path := filepath.Join(t.TempDir(), "long.gguf")
		if err := os.WriteFile(path, c.file.b, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(path, 1<<30); err != nil {
			t.Fatal(err)
		}
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := Open(path)
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		fe := wantFormatError(t, err, ErrBadName)
		if fe.Offset != 24 {
			t.Errorf("%s: offset %d, want 24", c.what, fe.Offset)
		}
		if len(err.Error()) > 300 {
			t.Errorf("%s: a %d-byte error message", c.what, len(err.Error()))
		}
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 64<<20 {
			t.Errorf("%s: opening allocated %d bytes", c.what, grew)
		}
	}
}

// Error messages quote at most quoteMax bytes of a name or key.
func TestFormatErrorQuotesShort(t *testing.T) {
	long := strings.Repeat("é", 1000)
	msg := (&FormatError{Key: long, TensorIndex: -1, Offset: -1, Err: ErrBadName}).Error()
	if len(msg) > 200 || !strings.Contains(msg, "…") || !utf8.ValidString(msg) {
		t.Errorf("message of %d bytes: %.120s", len(msg), msg)
	}
}
