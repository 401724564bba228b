package gguf

import (
	"bytes"
	"encoding/json"
	"io"
	"runtime"
	"testing"
)

// indentedWhole is metadata.json as built whole and then indented.
func indentedWhole(t *testing.T, m *Metadata) []byte {
	t.Helper()
	var b bytes.Buffer
	b.WriteByte('{')
	i := 0
	for key, v := range m.All() {
		if i > 0 {
			b.WriteByte(',')
		}
		i++
		k, _ := json.Marshal(key)
		val, _ := v.MarshalJSON()
		b.Write(k)
		b.WriteByte(':')
		b.Write(val)
	}
	b.WriteByte('}')
	var out bytes.Buffer
	if err := json.Indent(&out, b.Bytes(), "", "  "); err != nil {
		t.Fatal(err)
	}
	out.WriteByte('\n')
	return out.Bytes()
}

// Metadata.WriteJSON writes exactly what building the document whole and
// indenting it gives, for every kind of value, nested and empty arrays, and
// keys that encoding/json escapes.
func TestMetadataWriteJSONEqualsIndentedWhole(t *testing.T) {
	nested, _ := NewArray(ValueArray, []Value{NewUint8Array([]uint8{1, 2}), NewInt32Array(nil), mustStrings(t, "a", "\"b\n")})
	deeper, _ := NewArray(ValueArray, []Value{nested, NewUint8Array(nil)})
	kvs := append(everyValue(), KV{"nested", nested}, KV{"deeper", deeper}, KV{"empty", NewFloat32Array(nil)},
		KV{"<html & key>", mustStrings(t, "x", "", "é\x00")})
	for _, m := range []*Metadata{mustMetadata(t, kvs...), mustMetadata(t), mustMetadata(t, KV{"one", NewUint8(1)})} {
		var got bytes.Buffer
		if err := m.WriteJSON(&got); err != nil {
			t.Fatal(err)
		}
		if want := indentedWhole(t, m); !bytes.Equal(got.Bytes(), want) {
			t.Errorf("WriteJSON:\n%s\nwant:\n%s", got.Bytes(), want)
		}
	}
	// And through the parser's compact arrays of arrays.
	f := mustParse(t, manyNestedArrays(5))
	var got bytes.Buffer
	if err := f.Metadata.WriteJSON(&got); err != nil {
		t.Fatal(err)
	}
	if want := indentedWhole(t, f.Metadata); !bytes.Equal(got.Bytes(), want) {
		t.Errorf("parsed nested arrays: %s, want %s", got.Bytes(), want)
	}
}

func mustMetadata(t *testing.T, kvs ...KV) *Metadata {
	t.Helper()
	m, err := NewMetadata(kvs...)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// 2^20 empty strings: WriteJSON allocates a small fraction of building the
// document whole and indenting it, in the same run.
func TestMetadataWriteJSONMemoryIsBounded(t *testing.T) {
	f := mustParse(t, manyEmptyStrings(1<<20))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if err := f.Metadata.WriteJSON(io.Discard); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	streamed := after.TotalAlloc - before.TotalAlloc
	runtime.ReadMemStats(&before)
	whole := indentedWhole(t, f.Metadata)
	runtime.ReadMemStats(&after)
	built := after.TotalAlloc - before.TotalAlloc
	t.Logf("%d bytes of metadata.json: WriteJSON allocated %d, whole and indented %d", len(whole), streamed, built)
	if streamed*16 > built {
		t.Errorf("WriteJSON allocated %d bytes, more than 1/16 of building it whole (%d)", streamed, built)
	}
}
