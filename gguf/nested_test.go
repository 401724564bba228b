package gguf

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// Arrays of arrays read back as built, whether every element is an array of
// fixed-size scalars (kept compact), or a string array comes first, in the
// middle or last (from then on each element is its own Value).
func TestNestedArraysReadBackAsBuilt(t *testing.T) {
	strs := mustStrings(t, "a", "", "é\n")
	fixed := []Value{NewUint8Array([]uint8{1, 2, 3}), NewInt32Array(nil), NewBoolArray([]bool{true, false}), NewFloat64Array([]float64{-0.5})}
	inner, _ := NewArray(ValueArray, []Value{NewInt8Array([]int8{-1}), NewUint8Array(nil)})
	for name, elems := range map[string][]Value{
		"all fixed":     fixed,
		"string first":  append([]Value{strs}, fixed...),
		"string middle": append(append(append([]Value(nil), fixed[:2]...), strs), fixed[2:]...),
		"string last":   append(append([]Value(nil), fixed...), strs),
		"nested inside": append(append([]Value(nil), fixed[:1]...), inner, fixed[1]),
		"empty":         nil,
	} {
		want, err := NewArray(ValueArray, elems)
		if err != nil {
			t.Fatal(err)
		}
		for _, order := range []string{"le", "be"} {
			tf := tfile{kvs: []KV{{"k", want}}}
			if order == "be" {
				tf.order = binary.BigEndian
			}
			got, _ := mustParse(t, tf.bytes()).Metadata.Get("k")
			if !got.Equal(want) || !want.Equal(got) || got.Len() != len(elems) {
				t.Errorf("%s (%s): parsed %v, built %v", name, order, got, want)
				continue
			}
			for i := range elems {
				if e, err := got.Index(i); err != nil || !e.Equal(elems[i]) {
					t.Errorf("%s (%s): element %d = %v, %v; want %v", name, order, i, e, err, elems[i])
				}
			}
			gj, _ := got.MarshalJSON()
			wj, _ := want.MarshalJSON()
			var gt, wt bytes.Buffer
			got.WriteText(&gt)
			want.WriteText(&wt)
			if !bytes.Equal(gj, wj) || !bytes.Equal(gt.Bytes(), wt.Bytes()) {
				t.Errorf("%s (%s): JSON %s / %s, text %q / %q", name, order, gj, wj, gt.Bytes(), wt.Bytes())
			}
		}
	}
}
