package e2e

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/ggufs/ggufs/gguf"
	"github.com/ggufs/ggufs/synth"
)

// dequantVectors is gguf-py's dequantization vectors (one GGUF file per
// type with the float32 values gguf-py and ggml produce).
const dequantVectors = "../../gguf/testdata/dequant"

// Through a real mount, f32 and f32.npy of every vector tensor are gguf-py's
// (and ggml's) float32 values bit for bit, whole and read in odd pieces.
func TestFloatViewsThroughTheMount(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(dequantVectors, "INDEX.json"))
	if err != nil {
		t.Fatal(err)
	}
	var index []struct {
		File    string `json:"file"`
		Tensors []struct {
			Name    string   `json:"name"`
			Shape   []uint64 `json:"shape"`
			F32File string   `json:"f32_file"`
		} `json:"tensors"`
	}
	if err := json.Unmarshal(raw, &index); err != nil {
		t.Fatal(err)
	}
	for _, file := range index {
		m := startMount(t, filepath.Join(dequantVectors, file.File))
		for _, tv := range file.Tensors {
			want, err := os.ReadFile(filepath.Join(dequantVectors, tv.F32File))
			if err != nil {
				t.Fatal(err)
			}
			dir := tensorDir(m.dir, tv.Name)
			if got, err := os.ReadFile(filepath.Join(dir, "f32")); err != nil || !bytes.Equal(got, want) {
				t.Errorf("%s %s: f32 differs from %s (%v)", file.File, tv.Name, tv.F32File, err)
			}
			if got := readInPieces(t, filepath.Join(dir, "f32"), 7); !bytes.Equal(got, want) {
				t.Errorf("%s %s: f32 read 7 bytes at a time differs", file.File, tv.Name)
			}
			npy, err := os.ReadFile(filepath.Join(dir, "f32.npy"))
			if err != nil {
				t.Fatal(err)
			}
			ti := &gguf.TensorInfo{Name: tv.Name, Dims: tv.Shape}
			checkNpy(t, ti, npy, "f4", binary.LittleEndian, want)
		}
		m.stop(t)
	}
}

// readInPieces reads path chunk bytes at a time.
func readInPieces(t *testing.T, path string, chunk int) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []byte
	buf := make([]byte, chunk)
	for {
		n, err := f.Read(buf)
		out = append(out, buf[:n]...)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// bf16's data.npy holds the uint16 bit patterns ('<u2'); widened to the top
// half of a float32 they are f32.npy's values.
func TestBF16DataNpyIsItsBits(t *testing.T) {
	mdl := genModel(t, synth.Options{Preset: "zoo", Seed: 4})
	m := startMount(t, mdl.path)
	for _, ti := range mdl.tensors {
		if ti.Type != gguf.TypeBF16 {
			continue
		}
		dir := tensorDir(m.dir, ti.Name)
		npy, err := os.ReadFile(filepath.Join(dir, "data.npy"))
		if err != nil {
			t.Fatal(err)
		}
		checkNpy(t, ti, npy, "u2", binary.LittleEndian, mdl.data(ti))
		f32, err := os.ReadFile(filepath.Join(dir, "f32"))
		if err != nil {
			t.Fatal(err)
		}
		bits := mdl.data(ti)
		for i := 0; i < len(bits)/2; i++ {
			want := uint32(binary.LittleEndian.Uint16(bits[2*i:])) << 16
			if got := binary.LittleEndian.Uint32(f32[4*i:]); got != want {
				t.Fatalf("%s[%d]: f32 %#08x, want %#08x from the bf16 bits", ti.Name, i, got, want)
			}
		}
		return
	}
	t.Fatal("the zoo has no bf16 tensor")
}

// A model file truncated under the mount makes f32 reads EIO, and the mount
// process lives on to serve the rest.
func TestFloatViewOfTruncatedModelIsEIO(t *testing.T) {
	mdl := genModel(t, synth.Options{Preset: "tiny", Seed: 8, DType: "q4_K"})
	m := startMount(t, mdl.path)
	last := mdl.tensors[0]
	for _, ti := range mdl.tensors {
		if ti.FileOffset > last.FileOffset {
			last = ti
		}
	}
	if err := os.Truncate(mdl.path, int64(last.FileOffset+last.Size/2)); err != nil {
		t.Fatal(err)
	}
	_, err := os.ReadFile(filepath.Join(tensorDir(m.dir, last.Name), "f32"))
	if !errors.Is(err, syscall.EIO) {
		t.Fatalf("f32 of %s after truncation: %v, want EIO", last.Name, err)
	}
	select {
	case <-m.exited:
		t.Fatalf("the mount exited: %v; %s", m.err, m.stderr.String())
	default:
	}
	if _, err := os.ReadFile(filepath.Join(m.dir, "metadata.json")); err != nil {
		t.Fatalf("the mount no longer serves: %v", err)
	}
}
