package synth

import "github.com/ggufs/ggufs/gguf"

// llamaShape is the architecture of a llama-family model: what the tensor
// shapes and the llama.* hyperparameters follow from.
type llamaShape struct {
	name       string // general.name
	layers     int
	hidden     int // embedding length
	ffn        int // feed-forward length
	heads      int
	kvHeads    int // fewer than heads with grouped-query attention
	vocab      int
	context    int
	ropeBase   float32
	rmsEps     float32
	tokenizer  string // "llama" (SentencePiece) or "gpt2" (byte-level BPE, llama 3)
	matrixType gguf.Type
}

// preset is one named synthetic model.
type preset struct {
	name  string
	about string
	llama *llamaShape // nil for the zoo
}

// presets lists the models gen can make. Shapes follow the published
// configurations (llama 2 7B; llama 3 8B and 70B, whose attention uses 8
// key-value heads and whose vocabulary has 128256 tokens).
var presets = []preset{
	{name: "tiny", about: "a 2-layer llama-shaped model, 512-token vocabulary, ~2 MB at q8_0: fast for tests",
		llama: &llamaShape{name: "tiny llama", layers: 2, hidden: 256, ffn: 768, heads: 4, kvHeads: 2, vocab: 512,
			context: 512, ropeBase: 10000, rmsEps: 1e-5, tokenizer: "llama", matrixType: gguf.TypeQ8_0}},
	{name: "llama-7b", about: "llama 2 7B: 32 layers, 4096 hidden, 11008 ffn, 32000-token vocabulary, 291 tensors (3.5 GiB at q4_K)",
		llama: &llamaShape{name: "llama 7b (synthetic)", layers: 32, hidden: 4096, ffn: 11008, heads: 32, kvHeads: 32, vocab: 32000,
			context: 4096, ropeBase: 10000, rmsEps: 1e-5, tokenizer: "llama", matrixType: gguf.TypeQ4_K}},
	{name: "llama-8b", about: "llama 3 8B: 32 layers, 4096 hidden, 14336 ffn, 8 kv heads, 128256-token vocabulary, 291 tensors (4.2 GiB at q4_K)",
		llama: &llamaShape{name: "llama 3 8b (synthetic)", layers: 32, hidden: 4096, ffn: 14336, heads: 32, kvHeads: 8, vocab: 128256,
			context: 8192, ropeBase: 500000, rmsEps: 1e-5, tokenizer: "gpt2", matrixType: gguf.TypeQ4_K}},
	{name: "llama-70b", about: "llama 3 70B: 80 layers, 8192 hidden, 28672 ffn, 8 kv heads, 128256-token vocabulary, 723 tensors (37 GiB at q4_K)",
		llama: &llamaShape{name: "llama 3 70b (synthetic)", layers: 80, hidden: 8192, ffn: 28672, heads: 64, kvHeads: 8, vocab: 128256,
			context: 8192, ropeBase: 500000, rmsEps: 1e-5, tokenizer: "gpt2", matrixType: gguf.TypeQ4_K}},
	{name: "zoo", about: "one tensor of every known type, a scalar, 3-D and 4-D tensors, one of unknown type 142, and metadata of every value type"},
}

// PresetInfo names and describes a preset.
type PresetInfo struct {
	Name  string
	About string
}

// Presets lists the presets in a stable order.
func Presets() []PresetInfo {
	out := make([]PresetInfo, len(presets))
	for i, p := range presets {
		out[i] = PresetInfo{Name: p.name, About: p.about}
	}
	return out
}

func findPreset(name string) (preset, bool) {
	for _, p := range presets {
		if p.name == name {
			return p, true
		}
	}
	return preset{}, false
}

// fileTypes maps a matrix type to llama.cpp's general.file_type (enum
// llama_ftype in llama.h), for types that have a "mostly T" file type.
var fileTypes = map[gguf.Type]uint32{
	gguf.TypeF32: 0, gguf.TypeF16: 1, gguf.TypeQ4_0: 2, gguf.TypeQ4_1: 3, gguf.TypeQ8_0: 7,
	gguf.TypeQ5_0: 8, gguf.TypeQ5_1: 9, gguf.TypeQ2_K: 10, gguf.TypeQ3_K: 12, gguf.TypeQ4_K: 14,
	gguf.TypeQ5_K: 16, gguf.TypeQ6_K: 18, gguf.TypeIQ2_XXS: 19, gguf.TypeIQ2_XS: 20,
	gguf.TypeIQ3_XXS: 23, gguf.TypeIQ1_S: 24, gguf.TypeIQ4_NL: 25, gguf.TypeIQ3_S: 26,
	gguf.TypeIQ2_S: 28, gguf.TypeIQ4_XS: 30, gguf.TypeIQ1_M: 31, gguf.TypeBF16: 32,
	gguf.TypeTQ1_0: 36, gguf.TypeTQ2_0: 37,
}
