package synth

import (
	"fmt"

	"github.com/ggufs/ggufs/gguf"
)

// llamaTensors lists a llama model's tensors as llama.cpp names them: the
// token embedding, per block the attention and feed-forward weights with
// their norms, then the output norm and output projection. Norms are f32,
// the matrices of type matrix.
func llamaTensors(s *llamaShape, matrix gguf.Type) ([]gguf.TensorSpec, error) {
	h, ffn, vocab := uint64(s.hidden), uint64(s.ffn), uint64(s.vocab)
	kv := h / uint64(s.heads) * uint64(s.kvHeads)
	out := make([]gguf.TensorSpec, 0, 3+9*s.layers)
	norm := func(name string) {
		out = append(out, gguf.TensorSpec{Name: name, Type: gguf.TypeF32, Dims: []uint64{h}})
	}
	mat := func(name string, ne0, ne1 uint64) {
		out = append(out, gguf.TensorSpec{Name: name, Type: matrix, Dims: []uint64{ne0, ne1}})
	}
	mat("token_embd.weight", h, vocab)
	for i := 0; i < s.layers; i++ {
		p := fmt.Sprintf("blk.%d.", i)
		norm(p + "attn_norm.weight")
		mat(p+"attn_q.weight", h, h)
		mat(p+"attn_k.weight", h, kv)
		mat(p+"attn_v.weight", h, kv)
		mat(p+"attn_output.weight", h, h)
		norm(p + "ffn_norm.weight")
		mat(p+"ffn_gate.weight", h, ffn)
		mat(p+"ffn_up.weight", h, ffn)
		mat(p+"ffn_down.weight", ffn, h)
	}
	norm("output_norm.weight")
	mat("output.weight", h, vocab)
	for _, t := range out {
		if _, err := gguf.ByteSize(t.Type, t.Dims); err != nil {
			tr, _ := t.Type.Traits()
			return nil, fmt.Errorf("%w: dtype %s: tensor %q has ne0 = %d, not a multiple of %s's block of %d elements",
				ErrOptions, matrix, t.Name, t.Dims[0], matrix, tr.BlockSize)
		}
	}
	return out, nil
}

// llamaMetadata is the key-value section llama.cpp's converter writes for
// a llama model, in its order: general.*, llama.* hyperparameters, tokenizer.
func llamaMetadata(s *llamaShape, matrix gguf.Type) []gguf.KV {
	md := []gguf.KV{
		{Key: "general.architecture", Value: gguf.NewString("llama")},
		{Key: "general.name", Value: gguf.NewString(s.name)},
		{Key: "llama.block_count", Value: gguf.NewUint32(uint32(s.layers))},
		{Key: "llama.context_length", Value: gguf.NewUint32(uint32(s.context))},
		{Key: "llama.embedding_length", Value: gguf.NewUint32(uint32(s.hidden))},
		{Key: "llama.feed_forward_length", Value: gguf.NewUint32(uint32(s.ffn))},
		{Key: "llama.attention.head_count", Value: gguf.NewUint32(uint32(s.heads))},
		{Key: "llama.attention.head_count_kv", Value: gguf.NewUint32(uint32(s.kvHeads))},
		{Key: "llama.rope.freq_base", Value: gguf.NewFloat32(s.ropeBase)},
		{Key: "llama.attention.layer_norm_rms_epsilon", Value: gguf.NewFloat32(s.rmsEps)},
		{Key: "llama.rope.dimension_count", Value: gguf.NewUint32(uint32(s.hidden / s.heads))},
		{Key: "llama.vocab_size", Value: gguf.NewUint32(uint32(s.vocab))},
	}
	if ft, ok := fileTypes[matrix]; ok {
		md = append(md, gguf.KV{Key: "general.file_type", Value: gguf.NewUint32(ft)})
	}
	md = append(md, vocabMetadata(s)...)
	return append(md, gguf.KV{Key: "general.quantization_version", Value: gguf.NewUint32(2)})
}
