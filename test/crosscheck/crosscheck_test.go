// Package crosscheck compares our reading of GGUF files with that of a
// parser no one here wrote: @huggingface/gguf, run by node (read.mjs).
//
// It runs when GGUFS_CROSSCHECK=1 (CI sets it), after test/crosscheck/setup.sh
// has installed the pinned package; with the variable set, a missing node
// or package fails the test rather than skipping it.
package crosscheck

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/ggufs/ggufs/gguf"
	"github.com/ggufs/ggufs/synth"
)

// theirFile is read.mjs's view of one file.
type theirFile struct {
	Path             string        `json:"path"`
	LittleEndian     bool          `json:"little_endian"`
	Version          uint32        `json:"version"`
	TensorDataOffset string        `json:"tensor_data_offset"`
	Metadata         []theirKV     `json:"metadata"`
	Tensors          []theirTensor `json:"tensors"`
}

type theirKV struct {
	Key     string  `json:"key"`
	Type    uint32  `json:"type"`
	SubType *uint32 `json:"sub_type"`
	Value   any     `json:"value"`
}

type theirTensor struct {
	Name   string   `json:"name"`
	NDims  int      `json:"n_dims"`
	Shape  []string `json:"shape"`
	DType  uint32   `json:"dtype"`
	Offset string   `json:"offset"`
}

// crossCases are the generated files compared: every preset, several
// dtypes, every version, both byte orders, several alignments. The gguf
// package's test files are compared too.
var crossCases = []struct {
	name string
	opts synth.Options
}{
	{"tiny-v3", synth.Options{Seed: 1}},
	{"tiny-v2-f16", synth.Options{Version: 2, DType: "f16"}},
	{"tiny-v1-q4_K", synth.Options{Version: 1, DType: "q4_K"}},
	{"tiny-align1-iq4_xs", synth.Options{Alignment: 1, DType: "iq4_xs"}},
	{"tiny-be", synth.Options{ByteOrder: binary.BigEndian}},
	{"zoo-v3", synth.Options{Preset: "zoo"}},
	{"zoo-v1-be", synth.Options{Preset: "zoo", Version: 1, ByteOrder: binary.BigEndian}},
	{"zoo-v2-be-align64", synth.Options{Preset: "zoo", Version: 2, ByteOrder: binary.BigEndian, Alignment: 64}},
	{"zoo-align4096", synth.Options{Preset: "zoo", Alignment: 4096}},
	{"llama-7b-sparse", synth.Options{Preset: "llama-7b", Sparse: true}},
	{"llama-8b-sparse-q8_0", synth.Options{Preset: "llama-8b", Sparse: true, DType: "q8_0"}},
	{"llama-70b-sparse", synth.Options{Preset: "llama-70b", Sparse: true}},
}

func TestCrossCheckHuggingFaceGGUF(t *testing.T) {
	if os.Getenv("GGUFS_CROSSCHECK") != "1" {
		t.Skip("set GGUFS_CROSSCHECK=1 (after test/crosscheck/setup.sh) to compare with @huggingface/gguf")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("GGUFS_CROSSCHECK=1 but node is not installed: %v", err)
	}
	if _, err := os.Stat(filepath.Join("node_modules", "@huggingface", "gguf", "package.json")); err != nil {
		t.Fatalf("GGUFS_CROSSCHECK=1 but @huggingface/gguf is not installed (run test/crosscheck/setup.sh): %v", err)
	}
	dir := t.TempDir()
	var paths []string
	for _, c := range crossCases {
		p := filepath.Join(dir, c.name+".gguf")
		if _, err := synth.GenerateFile(p, c.opts); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		paths = append(paths, p)
	}
	p, err := writeSpecialValues(dir)
	if err != nil {
		t.Fatal(err)
	}
	paths = append(paths, p)
	// The gguf package's fuzz seeds, written by its own hand encoder rather
	// than the Writer: every version and byte order, odd alignments, unknown types.
	seeds, err := filepath.Glob(filepath.Join("..", "..", "gguf", "testdata", "*.gguf"))
	if err != nil || len(seeds) == 0 {
		t.Fatalf("no seed files in gguf/testdata (%v)", err)
	}
	paths = append(paths, seeds...)

	cmd := exec.Command(node, append([]string{"read.mjs"}, paths...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node read.mjs: %v\n%s", err, stderr.String())
	}
	var theirs struct {
		LibraryVersion string      `json:"library_version"`
		Files          []theirFile `json:"files"`
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.UseNumber()
	if err := dec.Decode(&theirs); err != nil {
		t.Fatalf("decoding read.mjs output: %v", err)
	}
	if len(theirs.Files) != len(paths) {
		t.Fatalf("read.mjs read %d files, want %d", len(theirs.Files), len(paths))
	}
	t.Logf("@huggingface/gguf %s read %d files", theirs.LibraryVersion, len(paths))
	for i, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			f, err := gguf.Open(path)
			if err != nil {
				t.Fatalf("our reader: %v", err)
			}
			defer f.Close()
			compareFile(t, f, theirs.Files[i])
		})
	}
}

func compareFile(t *testing.T, f *gguf.File, th theirFile) {
	if th.LittleEndian != (f.ByteOrder == binary.LittleEndian) || th.Version != f.Version {
		t.Errorf("header: they read v%d little-endian=%v; we read v%d %v", th.Version, th.LittleEndian, f.Version, f.ByteOrder)
	}
	if th.TensorDataOffset != strconv.FormatUint(f.DataOffset, 10) {
		t.Errorf("data offset: they %s, we %d", th.TensorDataOffset, f.DataOffset)
	}
	if len(th.Metadata) != f.Metadata.Len() {
		t.Fatalf("metadata: they read %d entries, we %d", len(th.Metadata), f.Metadata.Len())
	}
	for i, kv := range th.Metadata {
		ours := f.Metadata.At(i)
		if kv.Key != ours.Key || kv.Type != uint32(ours.Value.Type()) {
			t.Errorf("entry %d: they %q type %d, we %q type %d", i, kv.Key, kv.Type, ours.Key, ours.Value.Type())
			continue
		}
		if ours.Value.Type() == gguf.ValueArray && (kv.SubType == nil || *kv.SubType != uint32(ours.Value.ElemType())) {
			t.Errorf("%s: they read element type %v, we %d", kv.Key, kv.SubType, ours.Value.ElemType())
		}
		if err := sameValue(ours.Value, kv.Value); err != nil {
			t.Errorf("%s: %v", kv.Key, err)
		}
	}
	if len(th.Tensors) != len(f.Tensors) {
		t.Fatalf("tensors: they read %d, we %d", len(th.Tensors), len(f.Tensors))
	}
	for i, tt := range th.Tensors {
		ours := f.Tensors[i]
		shape := make([]string, len(ours.Dims))
		for d, n := range ours.Dims {
			shape[d] = strconv.FormatUint(n, 10)
		}
		if tt.Name != ours.Name || tt.NDims != len(ours.Dims) || fmt.Sprint(tt.Shape) != fmt.Sprint(shape) ||
			tt.DType != uint32(ours.Type) || tt.Offset != strconv.FormatUint(ours.Offset, 10) {
			t.Errorf("tensor %d: they %q n_dims %d shape %v dtype %d offset %s; we %q %v %d %d",
				i, tt.Name, tt.NDims, tt.Shape, tt.DType, tt.Offset, ours.Name, shape, ours.Type, ours.Offset)
		}
		if ours.FileOffset != f.DataOffset+ours.Offset {
			t.Errorf("tensor %q: file offset %d is not data offset + offset", ours.Name, ours.FileOffset)
		}
	}
}

// sameValue compares our value with theirs as decoded from read.mjs's JSON
// (numbers as json.Number, bigints and non-finite floats as strings).
func sameValue(ours gguf.Value, theirs any) error {
	switch ours.Type() {
	case gguf.ValueUint8, gguf.ValueUint16, gguf.ValueUint32, gguf.ValueUint64:
		u, _ := ours.Uint()
		return sameText(strconv.FormatUint(u, 10), theirs)
	case gguf.ValueInt8, gguf.ValueInt16, gguf.ValueInt32, gguf.ValueInt64:
		n, _ := ours.Int()
		return sameText(strconv.FormatInt(n, 10), theirs)
	case gguf.ValueFloat32, gguf.ValueFloat64:
		x, _ := ours.Float()
		y, err := theirFloat(theirs)
		if err != nil {
			return err
		}
		if x != y && !(math.IsNaN(x) && math.IsNaN(y)) {
			return fmt.Errorf("we read %v, they %v", x, y)
		}
	case gguf.ValueBool:
		b, _ := ours.Bool()
		if theirs != b {
			return fmt.Errorf("we read %v, they %v", b, theirs)
		}
	case gguf.ValueString:
		s, _ := ours.Str()
		if theirs != s {
			return fmt.Errorf("we read %q, they %q", s, theirs)
		}
	case gguf.ValueArray:
		list, ok := theirs.([]any)
		if !ok || len(list) != ours.Len() {
			return fmt.Errorf("we read %d elements, they %T of %d", ours.Len(), theirs, len(list))
		}
		for i, e := range list {
			v, err := ours.Index(i)
			if err != nil {
				return err
			}
			if err := sameValue(v, e); err != nil {
				return fmt.Errorf("element %d: %w", i, err)
			}
		}
	}
	return nil
}

func sameText(ours string, theirs any) error {
	var s string
	switch v := theirs.(type) {
	case json.Number:
		s = v.String()
	case string:
		s = v
	default:
		return fmt.Errorf("we read %s, they %v (%T)", ours, theirs, theirs)
	}
	if s != ours {
		return fmt.Errorf("we read %s, they %s", ours, s)
	}
	return nil
}

func theirFloat(theirs any) (float64, error) {
	switch v := theirs.(type) {
	case json.Number:
		return strconv.ParseFloat(v.String(), 64)
	case string:
		switch v {
		case "NaN":
			return math.NaN(), nil
		case "Infinity":
			return math.Inf(1), nil
		case "-Infinity":
			return math.Inf(-1), nil
		}
	}
	return 0, fmt.Errorf("they read %v (%T), not a number", theirs, theirs)
}

// writeSpecialValues writes what the presets lack: non-finite and extreme
// floats, control characters, and a scalar tensor.
func writeSpecialValues(dir string) (string, error) {
	path := filepath.Join(dir, "special.gguf")
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	md := []gguf.KV{
		{Key: "f32.nan", Value: gguf.NewFloat32(float32(math.NaN()))},
		{Key: "f32.inf", Value: gguf.NewFloat32(float32(math.Inf(1)))},
		{Key: "f64.-inf", Value: gguf.NewFloat64(math.Inf(-1))},
		{Key: "f64.tiny", Value: gguf.NewFloat64(math.SmallestNonzeroFloat64)},
		{Key: "f32.max", Value: gguf.NewFloat32(math.MaxFloat32)},
		{Key: "str.control", Value: gguf.NewString("tab\tnul\x00bell\x07 é")},
		{Key: "a.f32", Value: gguf.NewFloat32Array([]float32{float32(math.Inf(-1)), 0.1, -0})},
	}
	specs := []gguf.TensorSpec{{Name: "scalar", Type: gguf.TypeF32}, {Name: "v", Type: gguf.TypeI32, Dims: []uint64{3}}}
	w, err := gguf.NewWriter(f, md, specs, gguf.WriterOptions{})
	if err != nil {
		return "", err
	}
	if err := w.WriteTensorBytes("scalar", []byte{0, 0, 0x80, 0x3f}); err != nil {
		return "", err
	}
	if err := w.WriteTensorBytes("v", make([]byte, 12)); err != nil {
		return "", err
	}
	return path, w.Close()
}
