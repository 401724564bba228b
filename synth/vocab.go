package synth

import (
	"fmt"
	"strings"

	"github.com/ggufs/ggufs/gguf"
)

// Token types as llama.cpp stores them in tokenizer.ggml.token_type.
const (
	tokenNormal  = 1
	tokenUnknown = 2
	tokenControl = 3
	tokenByte    = 6
)

// gpt2Specials is how many special tokens close a llama 3 vocabulary.
const gpt2Specials = 256

// Alphabets the synthetic words are spelt in; every seventh word is
// Cyrillic so that the vocabulary has multi-byte UTF-8, as real ones do.
const (
	latin    = "etaoinshrdlcumwfgypbvkjxqz"
	cyrillic = "оеаинтсрвлкмдпуяыьгзбчйхжшюцщэфъё"
)

// word spells n in the given alphabet (at least one letter); distinct n
// give distinct words.
func word(n int, alphabet string) string {
	letters := []rune(alphabet)
	var b []rune
	for {
		b = append(b, letters[n%len(letters)])
		n /= len(letters)
		if n == 0 {
			break
		}
		n-- // bijective numbering: "a".."z", then "aa"…
	}
	return string(b)
}

// piece is regular token n: a word, with a word-start marker on even n.
func piece(n int, marker string) string {
	alphabet := latin
	if n%7 == 3 {
		alphabet = cyrillic
	}
	if n%2 == 0 {
		return marker + word(n/2, alphabet)
	}
	return word(n/2, alphabet)
}

// vocabMetadata is the tokenizer.* section for s.
func vocabMetadata(s *llamaShape) []gguf.KV {
	if s.tokenizer == "gpt2" {
		return gpt2Vocab(s.vocab)
	}
	return spmVocab(s.vocab)
}

// spmVocab is a SentencePiece vocabulary as llama 2 has it: <unk>, <s>,
// </s>, 256 byte tokens, then pieces scored by rank.
func spmVocab(n int) []gguf.KV {
	tokens := make([]string, n)
	scores := make([]float32, n)
	types := make([]int32, n)
	for i := range tokens {
		switch {
		case i == 0:
			tokens[i], types[i] = "<unk>", tokenUnknown
		case i <= 2:
			tokens[i], types[i] = []string{"", "<s>", "</s>"}[i], tokenControl
		case i < 3+256:
			tokens[i], types[i] = fmt.Sprintf("<0x%02X>", i-3), tokenByte
		default:
			tokens[i], types[i], scores[i] = piece(i, "▁"), tokenNormal, -float32(i-259)
		}
	}
	toks, _ := gguf.NewStringArray(tokens) // fails only past 4 GiB of strings
	return []gguf.KV{
		{Key: "tokenizer.ggml.model", Value: gguf.NewString("llama")},
		{Key: "tokenizer.ggml.tokens", Value: toks},
		{Key: "tokenizer.ggml.scores", Value: gguf.NewFloat32Array(scores)},
		{Key: "tokenizer.ggml.token_type", Value: gguf.NewInt32Array(types)},
		{Key: "tokenizer.ggml.bos_token_id", Value: gguf.NewUint32(1)},
		{Key: "tokenizer.ggml.eos_token_id", Value: gguf.NewUint32(2)},
		{Key: "tokenizer.ggml.unknown_token_id", Value: gguf.NewUint32(0)},
		{Key: "tokenizer.ggml.add_bos_token", Value: gguf.NewBool(true)},
		{Key: "tokenizer.ggml.add_eos_token", Value: gguf.NewBool(false)},
	}
}

// gpt2Vocab is a byte-level BPE vocabulary as llama 3 has it: regular
// tokens, merges, and 256 special tokens at the end.
func gpt2Vocab(n int) []gguf.KV {
	regular := n - gpt2Specials
	tokens := make([]string, n)
	types := make([]int32, n)
	for i := 0; i < regular; i++ {
		tokens[i], types[i] = piece(i, "Ġ"), tokenNormal
	}
	for i := regular; i < n; i++ {
		k := i - regular
		switch k {
		case 0:
			tokens[i] = "<|begin_of_text|>"
		case 1:
			tokens[i] = "<|end_of_text|>"
		default:
			tokens[i] = fmt.Sprintf("<|reserved_special_token_%d|>", k-2)
		}
		types[i] = tokenControl
	}
	merges := make([]string, 0, regular-256)
	for i := 256; i < regular; i++ {
		// A merge joins two shorter tokens into one; here token i's
		// spelling split after its first rune.
		r := []rune(tokens[i])
		if len(r) < 2 {
			continue
		}
		merges = append(merges, string(r[:1])+" "+string(r[1:]))
	}
	toks, _ := gguf.NewStringArray(tokens) // fails only past 4 GiB of strings
	mrg, _ := gguf.NewStringArray(merges)
	return []gguf.KV{
		{Key: "tokenizer.ggml.model", Value: gguf.NewString("gpt2")},
		{Key: "tokenizer.ggml.pre", Value: gguf.NewString("llama-bpe")},
		{Key: "tokenizer.ggml.tokens", Value: toks},
		{Key: "tokenizer.ggml.token_type", Value: gguf.NewInt32Array(types)},
		{Key: "tokenizer.ggml.merges", Value: mrg},
		{Key: "tokenizer.ggml.bos_token_id", Value: gguf.NewUint32(uint32(regular))},
		{Key: "tokenizer.ggml.eos_token_id", Value: gguf.NewUint32(uint32(regular + 1))},
		{Key: "tokenizer.chat_template", Value: gguf.NewString(chatTemplate)},
	}
}

// chatTemplate is a small Jinja chat template in llama 3's header style.
var chatTemplate = strings.Join([]string{
	"{{ bos_token }}{% for m in messages %}",
	"<|start_header_id|>{{ m['role'] }}<|end_header_id|>\n\n{{ m['content'] | trim }}<|eot_id|>",
	"{% endfor %}{% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>\n\n{% endif %}",
}, "")
