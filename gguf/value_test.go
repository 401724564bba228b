package gguf

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
)

func TestValueTypeString(t *testing.T) {
	want := []string{"uint8", "int8", "uint16", "int16", "uint32", "int32", "float32",
		"bool", "string", "array", "uint64", "int64", "float64"}
	for i, w := range want {
		if got := ValueType(i).String(); got != w {
			t.Errorf("ValueType(%d) = %q, want %q", i, got, w)
		}
	}
	if got := ValueType(13).String(); got != "valuetype(13)" {
		t.Errorf("ValueType(13) = %q", got)
	}
}

func TestValueScalarAccessors(t *testing.T) {
	if x, err := NewUint16(65535).Uint(); err != nil || x != 65535 {
		t.Errorf("Uint16: %d, %v", x, err)
	}
	if x, err := NewInt8(-5).Int(); err != nil || x != -5 {
		t.Errorf("Int8: %d, %v", x, err)
	}
	if x, err := NewInt64(math.MinInt64).Int(); err != nil || x != math.MinInt64 {
		t.Errorf("Int64: %d, %v", x, err)
	}
	if x, err := NewFloat32(1.5).Float(); err != nil || x != 1.5 {
		t.Errorf("Float32: %v, %v", x, err)
	}
	if x, err := NewBool(true).Bool(); err != nil || !x {
		t.Errorf("Bool: %v, %v", x, err)
	}
	if x, err := NewString("héllo").Str(); err != nil || x != "héllo" {
		t.Errorf("Str: %q, %v", x, err)
	}
	mismatches := []error{}
	_, err := NewInt8(1).Uint()
	mismatches = append(mismatches, err)
	_, err = NewUint8(1).Int()
	mismatches = append(mismatches, err)
	_, err = NewInt8(1).Float()
	mismatches = append(mismatches, err)
	_, err = NewUint8(1).Bool()
	mismatches = append(mismatches, err)
	_, err = NewUint8(1).Str()
	mismatches = append(mismatches, err)
	_, err = NewUint8(1).Index(0)
	mismatches = append(mismatches, err)
	for i, err := range mismatches {
		if !errors.Is(err, ErrTypeMismatch) {
			t.Errorf("mismatch %d: got %v, want ErrTypeMismatch", i, err)
		}
	}
}

func TestValueArrays(t *testing.T) {
	s, err := NewStringArray([]string{"<unk>", "", "a\nb"})
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != 3 || s.ElemType() != ValueString || s.Type() != ValueArray {
		t.Fatalf("string array: len %d elem %s type %s", s.Len(), s.ElemType(), s.Type())
	}
	e, err := s.Index(2)
	if got, _ := e.Str(); err != nil || got != "a\nb" {
		t.Errorf("Index(2) = %q, %v", got, err)
	}
	if _, err := s.Index(3); !errors.Is(err, ErrIndex) {
		t.Errorf("Index(3): %v, want ErrIndex", err)
	}
	f := NewFloat32Array([]float32{1, -2.5})
	if e, _ := f.Index(1); e.Type() != ValueFloat32 {
		t.Errorf("float element type %s", e.Type())
	} else if x, _ := e.Float(); x != -2.5 {
		t.Errorf("float element %v", x)
	}
	i8 := NewInt8Array([]int8{-1, 2})
	e, _ = i8.Index(0)
	if _, err := e.Float(); !errors.Is(err, ErrTypeMismatch) {
		t.Errorf("int8 element read as float: %v", err)
	}
	if x, _ := e.Int(); x != -1 {
		t.Errorf("int8 element = %d", x)
	}
	nested, err := NewArray(ValueArray, []Value{f, s})
	if err != nil {
		t.Fatal(err)
	}
	if nested.Len() != 2 || nested.ElemType() != ValueArray {
		t.Fatalf("nested: %d %s", nested.Len(), nested.ElemType())
	}
	if _, err := NewArray(ValueUint32, []Value{NewUint32(1), NewInt32(2)}); !errors.Is(err, ErrTypeMismatch) {
		t.Errorf("mixed array: %v, want ErrTypeMismatch", err)
	}
	built, err := NewArray(ValueInt32, []Value{NewInt32(-7), NewInt32(9)})
	if err != nil || !built.Equal(NewInt32Array([]int32{-7, 9})) {
		t.Errorf("NewArray(int32) differs from NewInt32Array: %v", err)
	}
	if built.Equal(NewInt32Array([]int32{-7, 8})) {
		t.Error("Equal ignores contents")
	}
}

func TestValueAny(t *testing.T) {
	s, _ := NewStringArray([]string{"x"})
	v, _ := NewArray(ValueArray, []Value{s, NewUint8Array([]uint8{7})})
	got := v.Any().([]any)
	if got[0].([]any)[0].(string) != "x" || got[1].([]any)[0].(uint8) != 7 {
		t.Errorf("Any = %#v", got)
	}
	if NewInt16(-3).Any().(int16) != -3 || NewFloat64(2).Any().(float64) != 2 {
		t.Error("scalar Any")
	}
}

func TestValueJSON(t *testing.T) {
	arr := NewFloat32Array([]float32{1.5, float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))})
	s, _ := NewStringArray([]string{"q\"\\\n\x01", "\xff"})
	m, _ := NewMetadata(
		KV{"a", arr}, KV{"s", s}, KV{"u", NewUint64(math.MaxUint64)}, KV{"b", NewBool(false)},
	)
	out := map[string]json.RawMessage{}
	for k, v := range m.All() {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		out[k] = b
	}
	if got := string(out["a"]); got != `[1.5,"NaN","+Inf","-Inf"]` {
		t.Errorf("float array JSON %s", got)
	}
	var strs []string
	if err := json.Unmarshal(out["s"], &strs); err != nil || strs[0] != "q\"\\\n\x01" || strs[1] != "\ufffd" {
		t.Errorf("string array JSON %s -> %q %v", out["s"], strs, err)
	}
	if got := string(out["u"]); got != "18446744073709551615" {
		t.Errorf("uint64 JSON %s", got)
	}
	if got := string(out["b"]); got != "false" {
		t.Errorf("bool JSON %s", got)
	}
}

func TestValueText(t *testing.T) {
	cases := []struct {
		v    Value
		want string
	}{
		{NewUint32(4096), "4096\n"},
		{NewInt8(-1), "-1\n"},
		{NewFloat32(0.1), "0.1\n"},
		{NewBool(true), "true\n"},
		{NewString("llama"), "llama\n"},
		{NewInt32Array([]int32{1, -2}), "1\n-2\n"},
	}
	s, _ := NewStringArray([]string{"a\\b", "c\nd"})
	cases = append(cases, struct {
		v    Value
		want string
	}{s, "a\\\\b\nc\\nd\n"})
	for _, c := range cases {
		var b bytes.Buffer
		if err := c.v.WriteText(&b); err != nil || b.String() != c.want {
			t.Errorf("%s: WriteText = %q, %v; want %q", c.v.Type(), b.String(), err, c.want)
		}
	}
}

func TestValueSummary(t *testing.T) {
	toks := make([]string, 128256)
	toks[0], toks[1], toks[2] = "<unk>", "<s>", "</s>"
	v, _ := NewStringArray(toks)
	if got, want := v.Summary(), `[string × 128256] "<unk>", "<s>", "</s>", …`; got != want {
		t.Errorf("Summary = %q, want %q", got, want)
	}
	if got := NewInt32Array([]int32{1, 2}).Summary(); got != "[int32 × 2] 1, 2" {
		t.Errorf("short Summary = %q", got)
	}
	long := NewString(strings.Repeat("é", 100)).Summary()
	if !strings.HasSuffix(long, "…") || len(long) > 60 {
		t.Errorf("long string Summary = %q", long)
	}
}

func TestMetadataAccessors(t *testing.T) {
	m, err := NewMetadata(KV{"general.architecture", NewString("llama")}, KV{"n", NewUint32(7)}, KV{"i", NewInt32(-7)})
	if err != nil {
		t.Fatal(err)
	}
	if s, err := m.String("general.architecture"); err != nil || s != "llama" {
		t.Errorf("String = %q, %v", s, err)
	}
	if n, err := m.Uint32("n"); err != nil || n != 7 {
		t.Errorf("Uint32 = %d, %v", n, err)
	}
	if _, err := m.Float32("n"); !errors.Is(err, ErrTypeMismatch) || !strings.Contains(err.Error(), `"n"`) {
		t.Errorf("Float32 of uint32: %v", err)
	}
	if _, err := m.String("missing"); !errors.Is(err, ErrKeyNotFound) {
		t.Errorf("missing key: %v", err)
	}
	if _, err := m.Uint("i"); !errors.Is(err, ErrTypeMismatch) {
		t.Errorf("Uint of negative int: %v", err)
	}
	m2, _ := NewMetadata(KV{"u64", NewUint64(1 << 40)}, KV{"i32", NewInt32(-5)}, KV{"b", NewBool(true)}, KV{"i8", NewInt8(4)})
	if x, err := m2.Uint64("u64"); err != nil || x != 1<<40 {
		t.Errorf("Uint64 = %d, %v", x, err)
	}
	if x, err := m2.Int32("i32"); err != nil || x != -5 {
		t.Errorf("Int32 = %d, %v", x, err)
	}
	if x, err := m2.Bool("b"); err != nil || !x {
		t.Errorf("Bool = %v, %v", x, err)
	}
	if x, err := m2.Uint("i8"); err != nil || x != 4 {
		t.Errorf("Uint of int8 4 = %d, %v", x, err)
	}
	if _, err := m2.Int32("u64"); !errors.Is(err, ErrTypeMismatch) {
		t.Errorf("Int32 of uint64: %v", err)
	}
	if got := strings.Join(m2.Keys(), ","); got != "u64,i32,b,i8" {
		t.Errorf("Keys = %q", got)
	}
	if kv := m.At(1); kv.Key != "n" {
		t.Errorf("At(1) = %q", kv.Key)
	}
	if _, err := NewMetadata(KV{"a", NewUint8(1)}, KV{"a", NewUint8(2)}); !errors.Is(err, ErrDuplicate) {
		t.Errorf("duplicate key: %v", err)
	}
}
