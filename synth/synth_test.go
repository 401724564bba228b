package synth

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/ggufs/ggufs/gguf"
)

func generateBytes(t *testing.T, opts Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	st, err := Generate(&buf, opts)
	if err != nil {
		t.Fatalf("Generate(%+v): %v", opts, err)
	}
	if uint64(buf.Len()) != st.FileBytes {
		t.Fatalf("wrote %d bytes, Stats.FileBytes says %d", buf.Len(), st.FileBytes)
	}
	return buf.Bytes()
}

func parse(t *testing.T, file []byte) *gguf.File {
	t.Helper()
	f, err := gguf.NewReader(bytes.NewReader(file), int64(len(file)))
	if err != nil {
		t.Fatalf("generated file does not parse: %v", err)
	}
	return f
}

func TestGenerateIsDeterministic(t *testing.T) {
	a := generateBytes(t, Options{Seed: 7})
	b := generateBytes(t, Options{Seed: 7})
	c := generateBytes(t, Options{Seed: 8})
	if !bytes.Equal(a, b) {
		t.Error("two runs with seed 7 differ")
	}
	if bytes.Equal(a, c) {
		t.Error("seeds 7 and 8 give the same file")
	}
}

// TestTensorDataMatchesFile: TensorData predicts every tensor's bytes, and
// every tensor's size is what ByteSize says.
func TestTensorDataMatchesFile(t *testing.T) {
	for _, order := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		opts := Options{Preset: "zoo", Seed: 3, ByteOrder: order}
		m, err := Plan(opts)
		if err != nil {
			t.Fatal(err)
		}
		f := parse(t, generateBytes(t, opts))
		for i, ti := range f.Tensors {
			if ti.Type.Known() {
				want, _ := gguf.ByteSize(ti.Type, ti.Dims)
				if ti.Size != want {
					t.Errorf("%s: %d bytes, ByteSize says %d", ti.Name, ti.Size, want)
				}
			}
			got, err := f.TensorBytes(ti)
			if err != nil {
				t.Fatal(err)
			}
			want := make([]byte, m.Tensors[i].Size)
			if m.Tensors[i].Size == 0 {
				want = make([]byte, mustSize(t, m.Tensors[i]))
			}
			m.TensorData(i, 0, want)
			if !bytes.Equal(got[:len(want)], want) {
				t.Errorf("%v %s: file bytes differ from TensorData", order, ti.Name)
			}
		}
	}
}

func mustSize(t *testing.T, s gguf.TensorSpec) uint64 {
	n, err := gguf.ByteSize(s.Type, s.Dims)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestLlamaPresetsHaveTheRealShapes(t *testing.T) {
	cases := []struct {
		preset  string
		tensors int
		vocab   int
		kvDim   uint64
	}{
		{"tiny", 21, 512, 128},
		{"llama-7b", 291, 32000, 4096},
		{"llama-8b", 291, 128256, 1024},
		{"llama-70b", 723, 128256, 1024},
	}
	for _, c := range cases {
		t.Run(c.preset, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), c.preset+".gguf")
			if _, err := GenerateFile(path, Options{Preset: c.preset, Sparse: true}); err != nil {
				t.Fatal(err)
			}
			f, err := gguf.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if len(f.Tensors) != c.tensors {
				t.Errorf("%d tensors, want %d", len(f.Tensors), c.tensors)
			}
			tokens, err := f.Metadata.Array("tokenizer.ggml.tokens")
			if err != nil || tokens.Len() != c.vocab {
				t.Errorf("tokenizer.ggml.tokens: %d entries (%v), want %d", tokens.Len(), err, c.vocab)
			}
			types, err := f.Metadata.Array("tokenizer.ggml.token_type")
			if err != nil || types.Len() != c.vocab || types.ElemType() != gguf.ValueInt32 {
				t.Errorf("tokenizer.ggml.token_type: %v × %d (%v)", types.ElemType(), types.Len(), err)
			}
			if arch, err := f.Metadata.String("general.architecture"); arch != "llama" || err != nil {
				t.Errorf("general.architecture = %q, %v", arch, err)
			}
			k, ok := f.Tensor("blk.0.attn_k.weight")
			if !ok || len(k.Dims) != 2 || k.Dims[1] != c.kvDim {
				t.Errorf("blk.0.attn_k.weight = %+v, want ne1 %d", k, c.kvDim)
			}
			for _, name := range []string{"token_embd.weight", "output_norm.weight", "output.weight", "blk.0.ffn_down.weight"} {
				if _, ok := f.Tensor(name); !ok {
					t.Errorf("no tensor %q", name)
				}
			}
			if norm, _ := f.Tensor("output_norm.weight"); norm != nil && norm.Type != gguf.TypeF32 {
				t.Errorf("output_norm.weight is %s, want f32", norm.Type)
			}
		})
	}
}

// TestSparseTakesNoDisk: a ~37 GiB llama-70b file takes only its header's blocks.
func TestSparseTakesNoDisk(t *testing.T) {
	path := filepath.Join(t.TempDir(), "70b.gguf")
	st, err := GenerateFile(path, Options{Preset: "llama-70b", Sparse: true})
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if uint64(fi.Size()) != st.FileBytes || st.FileBytes < 30<<30 {
		t.Errorf("file is %d bytes, Stats says %d; want ~37 GiB", fi.Size(), st.FileBytes)
	}
	sys, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		t.Skip("no block counts on this system")
	}
	if used := uint64(sys.Blocks) * 512; used > st.DataOffset+1<<20 {
		t.Errorf("sparse file uses %d bytes of disk; its header is %d", used, st.DataOffset)
	}
}

func TestEveryDTypeFitsTheLlamaPresets(t *testing.T) {
	for _, tr := range gguf.Types() {
		for _, p := range presets {
			if p.llama == nil {
				continue
			}
			if _, err := llamaTensors(p.llama, tr.Type); err != nil {
				t.Errorf("%s --dtype %s: %v", p.name, tr.Name, err)
			}
		}
	}
}

func TestBadOptions(t *testing.T) {
	for _, opts := range []Options{
		{Preset: "llama-1t"},
		{DType: "q4_k"}, // ggml spells it q4_K
		{DType: "q4_2"}, // removed from ggml
		{Preset: "zoo", DType: "f16"},
	} {
		if _, err := Plan(opts); !errors.Is(err, ErrOptions) {
			t.Errorf("Plan(%+v) = %v, want ErrOptions", opts, err)
		}
	}
	odd := &llamaShape{layers: 1, hidden: 96, ffn: 96, heads: 1, kvHeads: 1, vocab: 300}
	if _, err := llamaTensors(odd, gguf.TypeQ4_K); !errors.Is(err, ErrOptions) {
		t.Errorf("hidden 96 at q4_K (block 256): got %v, want ErrOptions", err)
	}
}

func TestVocabularyIsUnique(t *testing.T) {
	for _, n := range []int{512, 32000} {
		kvs := spmVocab(n)
		seen := map[string]bool{}
		toks := kvs[1].Value
		for i := 0; i < toks.Len(); i++ {
			v, _ := toks.Index(i)
			s, _ := v.Str()
			if seen[s] {
				t.Fatalf("vocab %d: token %d %q repeats", n, i, s)
			}
			seen[s] = true
		}
	}
}

func TestSplitModelOpensAsOne(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.gguf")
	opts := Options{Preset: "tiny", Seed: 9, Split: 3}
	if _, err := GenerateFile(path, opts); err != nil {
		t.Fatal(err)
	}
	paths := ShardPaths(path, 3)
	m, err := gguf.OpenModel(paths[1])
	if err != nil {
		t.Fatalf("OpenModel(%s): %v", paths[1], err)
	}
	defer m.Close()
	whole, _ := Plan(Options{Preset: "tiny", Seed: 9})
	if len(m.Shards) != 3 || len(m.Tensors) != len(whole.Tensors) {
		t.Fatalf("%d shards, %d tensors; want 3, %d", len(m.Shards), len(m.Tensors), len(whole.Tensors))
	}
	// Data is the same as the unsplit model's, tensor for tensor.
	for i, ti := range m.Tensors {
		got, err := m.TensorBytes(ti)
		if err != nil {
			t.Fatal(err)
		}
		want := make([]byte, ti.Size)
		whole.TensorData(i, 0, want)
		if ti.Name != whole.Tensors[i].Name || !bytes.Equal(got, want) {
			t.Errorf("tensor %d %q (shard %d) differs from the unsplit model's", i, ti.Name, ti.Shard)
		}
	}
	if _, err := Generate(&bytes.Buffer{}, opts); !errors.Is(err, ErrOptions) {
		t.Errorf("Generate with Split to one writer: got %v, want ErrOptions", err)
	}
}

// WriteSparse writes exactly the header it is given, tensors as holes.
func TestWriteSparse(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.gguf")
	md := []gguf.KV{{Key: "k", Value: gguf.NewUint32(7)}}
	specs := []gguf.TensorSpec{{Name: "a/b", Type: gguf.TypeI8, Dims: []uint64{3}}, {Name: "c", Type: gguf.TypeF32, Dims: []uint64{2, 2}}}
	st, err := WriteSparse(path, md, specs)
	if err != nil {
		t.Fatal(err)
	}
	f, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Metadata.Len() != 1 || len(f.Tensors) != 2 || f.Tensors[0].Name != "a/b" || f.Tensors[1].Size != 16 || st.DataOffset != f.DataOffset {
		t.Fatalf("read back %d keys, tensors %+v, data at %d (wrote %d)", f.Metadata.Len(), f.Tensors, f.DataOffset, st.DataOffset)
	}
	if IsSynthetic(path) {
		t.Error("a sparse header is marked synthetic")
	}
}
