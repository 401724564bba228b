package gguf

import (
	"bytes"
	"io"
	"runtime"
	"testing"
)

// WriteJSON writes what MarshalJSON returns, for every kind of value.
func TestWriteJSONEqualsMarshalJSON(t *testing.T) {
	nested, err := NewArray(ValueArray, []Value{NewUint8Array([]uint8{1, 2}), NewInt32Array(nil), mustStrings(t, "a", "\"b\n")})
	if err != nil {
		t.Fatal(err)
	}
	vals := []Value{nested, mustStrings(t, "x", "", "é\x00"), NewFloat32Array([]float32{1.5, -2})}
	for _, kv := range everyValue() {
		vals = append(vals, kv.Value)
	}
	for _, v := range vals {
		want, _ := v.MarshalJSON()
		var got bytes.Buffer
		if err := v.WriteJSON(&got); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want) {
			t.Errorf("%v: WriteJSON %s, MarshalJSON %s", v, got.Bytes(), want)
		}
	}
}

func mustStrings(t *testing.T, s ...string) Value {
	t.Helper()
	v, err := NewStringArray(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// Writing a long array allocates a bounded buffer, not its whole JSON:
// measured against MarshalJSON of the same array in the same run.
func TestWriteJSONMemoryIsBounded(t *testing.T) {
	f := mustParse(t, manyEmptyStrings(1<<20))
	v, _ := f.Metadata.Get("k")
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if err := v.WriteJSON(io.Discard); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	streamed := after.TotalAlloc - before.TotalAlloc
	runtime.ReadMemStats(&before)
	whole, _ := v.MarshalJSON()
	runtime.ReadMemStats(&after)
	built := after.TotalAlloc - before.TotalAlloc
	t.Logf("2^20 empty strings: %d bytes of JSON; WriteJSON allocated %d, MarshalJSON %d", len(whole), streamed, built)
	if streamed*16 > built {
		t.Errorf("WriteJSON allocated %d bytes, more than 1/16 of building it whole (%d)", streamed, built)
	}
}
