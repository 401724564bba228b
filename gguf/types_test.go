package gguf

import (
	"errors"
	"testing"
)

// The table as ggml has it (ggml/src/ggml-common.h block structs and their
// static_asserts, ggml/include/ggml.h enum ggml_type), checked by hand
// against those sources.
func TestTypeTable(t *testing.T) {
	removed := map[Type]string{4: "q4_2", 5: "q4_3", 31: "q4_0_4_4", 32: "q4_0_4_8", 33: "q4_0_8_8",
		36: "iq4_nl_4_4", 37: "iq4_nl_4_8", 38: "iq4_nl_8_8"}
	names := map[string]bool{}
	for i, tr := range typeTable {
		if tr.Type != Type(i) {
			t.Errorf("entry %d has number %d", i, tr.Type)
		}
		if names[tr.Name] {
			t.Errorf("name %q twice", tr.Name)
		}
		names[tr.Name] = true
		if old, ok := removed[tr.Type]; ok != tr.Removed || ok && old != tr.Name {
			t.Errorf("%d %q: removed %v", tr.Type, tr.Name, tr.Removed)
		}
		if !tr.Removed {
			if got, err := ParseType(tr.Name); err != nil || got != tr.Type {
				t.Errorf("ParseType(%q) = %d, %v", tr.Name, got, err)
			}
		}
	}
	for _, c := range []struct {
		typ          Type
		block, bytes uint64
	}{
		{TypeQ8_1, 32, 36}, {TypeQ4_K, 256, 144}, {TypeQ6_K, 256, 210}, {TypeIQ1_M, 256, 56},
		{TypeTQ1_0, 256, 54}, {TypeMXFP4, 32, 17}, {TypeNVFP4, 64, 36}, {TypeQ1_0, 128, 18}, {TypeQ2_0, 64, 18},
	} {
		tr, ok := c.typ.Traits()
		if !ok || tr.BlockSize != c.block || tr.BlockBytes != c.bytes {
			t.Errorf("%s: %d/%d, want %d/%d", c.typ, tr.BlockSize, tr.BlockBytes, c.block, c.bytes)
		}
	}
	if Type(142).String() != "unknown(142)" || Type(142).Known() || Type(4).Known() {
		t.Error("unknown and removed types")
	}
	if _, err := ParseType("q4_2"); err == nil {
		t.Error("ParseType accepted a removed type")
	}
}

func TestByteSize(t *testing.T) {
	cases := []struct {
		typ  Type
		dims []uint64
		want uint64
		err  error
	}{
		{TypeF32, nil, 4, nil},
		{TypeQ4_K, []uint64{4096, 4096}, 4096 / 256 * 144 * 4096, nil},
		{TypeQ8_0, []uint64{64, 3, 2, 1}, 2 * 34 * 6, nil},
		{TypeQ8_0, []uint64{33}, 0, ErrDims},
		{TypeF32, []uint64{8, 0}, 0, ErrDims},
		{TypeF32, []uint64{1<<63 - 3}, 0, ErrOverflow},
		{TypeI8, []uint64{1 << 62, 4}, 0, ErrOverflow},
		{Type(142), []uint64{8}, 0, ErrUnknownType},
		{Type(5), []uint64{8}, 0, ErrUnknownType},
	}
	for _, c := range cases {
		got, err := ByteSize(c.typ, c.dims)
		if got != c.want || !errors.Is(err, c.err) || (c.err == nil) != (err == nil) {
			t.Errorf("ByteSize(%s, %v) = %d, %v; want %d, %v", c.typ, c.dims, got, err, c.want, c.err)
		}
	}
}
