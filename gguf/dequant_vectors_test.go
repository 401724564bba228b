package gguf

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// vectorIndex is testdata/dequant/INDEX.json: GGUF files written by gguf-py
// with the float32 values gguf-py's dequantizer (and ggml's) produced.
type vectorIndex []struct {
	File    string `json:"file"`
	Type    string `json:"type"`
	TypeID  uint32 `json:"type_id"`
	Tensors []struct {
		Name      string   `json:"name"`
		NElements uint64   `json:"n_elements"`
		F32File   string   `json:"f32_file"`
		First8    []uint32 `json:"first8_bits"`
	} `json:"tensors"`
}

const vectorDir = "testdata/dequant"

func loadVectorIndex(t *testing.T) vectorIndex {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(vectorDir, "INDEX.json"))
	if err != nil {
		t.Fatal(err)
	}
	var idx vectorIndex
	if err := json.Unmarshal(raw, &idx); err != nil {
		t.Fatal(err)
	}
	return idx
}

// readF32File reads little-endian float32 bits.
func readF32File(t *testing.T, path string) []uint32 {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]uint32, len(raw)/4)
	for i := range out {
		out[i] = uint32(raw[4*i]) | uint32(raw[4*i+1])<<8 | uint32(raw[4*i+2])<<16 | uint32(raw[4*i+3])<<24
	}
	return out
}

func TestDequantizeVectorsBitExact(t *testing.T) {
	idx := loadVectorIndex(t)
	if len(idx) < 23 {
		t.Fatalf("INDEX.json lists %d files, want every vector type", len(idx))
	}
	for _, file := range idx {
		t.Run(file.Type, func(t *testing.T) {
			f, err := Open(filepath.Join(vectorDir, file.File))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			raw, err := os.ReadFile(filepath.Join(vectorDir, file.File))
			if err != nil {
				t.Fatal(err)
			}
			plain, err := NewReader(bytes.NewReader(raw), int64(len(raw)))
			if err != nil {
				t.Fatal(err)
			}
			if plain.Mapped() {
				t.Fatal("NewReader's file is mapped")
			}
			for _, tv := range file.Tensors {
				ti, ok := f.Tensor(tv.Name)
				if !ok {
					t.Fatalf("no tensor %q", tv.Name)
				}
				if uint32(ti.Type) != file.TypeID || !strings.EqualFold(ti.Type.String(), file.Type) {
					t.Fatalf("%s: type %s, index says %s (%d)", tv.Name, ti.Type, file.Type, file.TypeID)
				}
				want := readF32File(t, filepath.Join(vectorDir, tv.F32File))
				if uint64(len(want)) != tv.NElements || ti.Elements() != tv.NElements {
					t.Fatalf("%s: %d expected values, %d elements", tv.Name, len(want), ti.Elements())
				}
				for i, b := range tv.First8 {
					if want[i] != b {
						t.Fatalf("%s: %s disagrees with INDEX.json at %d", tv.Name, tv.F32File, i)
					}
				}
				got := make([]float32, tv.NElements)
				if err := f.DequantizeTensor(ti, got, 0); err != nil {
					t.Fatal(err)
				}
				// A file read with pread (not mapped) gives the same, also by range.
				unmapped := make([]float32, tv.NElements)
				ui, _ := plain.Tensor(tv.Name)
				half := tv.NElements / 2
				if err := plain.DequantizeTensor(ui, unmapped[:half], 0); err != nil {
					t.Fatal(err)
				}
				if err := plain.DequantizeTensor(ui, unmapped[half:], half); err != nil {
					t.Fatal(err)
				}
				for i := range got {
					if math.Float32bits(got[i]) != math.Float32bits(unmapped[i]) {
						t.Fatalf("%s[%d]: mapped and read conversions differ", tv.Name, i)
					}
				}
				mismatches := 0
				for i := range got {
					if g := math.Float32bits(got[i]); g != want[i] {
						if mismatches < 5 {
							t.Errorf("%s[%d] = %#08x (%g), want %#08x (%g)", tv.Name, i, g, got[i], want[i], math.Float32frombits(want[i]))
						}
						mismatches++
					}
				}
				if mismatches > 0 {
					t.Fatalf("%s: %d of %d values differ", tv.Name, mismatches, len(got))
				}
			}
		})
	}
}
