package synth

import (
	"encoding/binary"
	"math"
	"path/filepath"
	"testing"

	"github.com/ggufs/ggufs/gguf"
)

// Generated blocks of every type with float scales dequantize to finite
// numbers (raw random scales would give NaN and Inf within a few blocks).
func TestQuantizedBlocksDequantizeFinite(t *testing.T) {
	for _, typ := range gguf.DequantizeTypes() {
		tr, _ := typ.Traits()
		const blocks = 1024
		buf := make([]byte, blocks*tr.BlockBytes)
		newStream(11, 3, typ, binary.LittleEndian).fill(buf, 0)
		vals := make([]float32, blocks*tr.BlockSize)
		if err := gguf.DequantizeF32(vals, buf, typ); err != nil {
			t.Fatal(err)
		}
		for i, v := range vals {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				t.Fatalf("%s: element %d is %g", typ, i, v)
			}
		}
	}
}

// A range of a tensor's bytes has its scales masked as in the whole, so
// any byte range is still computable on its own.
func TestMaskedScalesAnyRange(t *testing.T) {
	for _, typ := range []gguf.Type{gguf.TypeQ4_1, gguf.TypeQ2_K, gguf.TypeIQ1_M, gguf.TypeMXFP4} {
		tr, _ := typ.Traits()
		s := newStream(5, 1, typ, binary.LittleEndian)
		whole := make([]byte, 8*tr.BlockBytes)
		s.fill(whole, 0)
		for _, r := range [][2]int{{1, 5}, {3, int(tr.BlockBytes)}, {int(tr.BlockBytes) - 1, 3 * int(tr.BlockBytes)}} {
			part := make([]byte, r[1])
			s.fill(part, uint64(r[0]))
			if string(part) != string(whole[r[0]:r[0]+r[1]]) {
				t.Fatalf("%s: bytes [%d,+%d) differ from the whole tensor's", typ, r[0], r[1])
			}
		}
	}
}

// Every tensor of the zoo model that converts is finite.
func TestZooDequantizesFinite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "zoo.gguf")
	if _, err := GenerateFile(path, Options{Preset: "zoo", Seed: 2}); err != nil {
		t.Fatal(err)
	}
	f, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	converted := 0
	for _, ti := range f.Tensors {
		if !gguf.CanDequantize(ti.Type) {
			continue
		}
		vals := make([]float32, ti.Elements())
		if err := f.DequantizeTensor(ti, vals, 0); err != nil {
			t.Fatal(err)
		}
		for i, v := range vals {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				t.Fatalf("%s (%s): element %d is %g", ti.Name, ti.Type, i, v)
			}
		}
		converted++
	}
	if converted < len(gguf.DequantizeTypes()) {
		t.Errorf("zoo has %d convertible tensors, want one of each of %d types", converted, len(gguf.DequantizeTypes()))
	}
}
