package synth_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/ggufs/ggufs/gguf"
	"github.com/ggufs/ggufs/synth"
)

// Generating a llama-70b-shaped model as a sparse file: 37 GiB long, with
// no disk blocks for the data, made in milliseconds.
func ExampleGenerateFile() {
	dir, err := os.MkdirTemp("", "synth")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "llama-70b.gguf")
	st, err := synth.GenerateFile(path, synth.Options{Preset: "llama-70b", DType: "q4_K", Sparse: true})
	if err != nil {
		log.Fatal(err)
	}
	f, err := gguf.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	vocab, _ := f.Metadata.Array("tokenizer.ggml.tokens")
	q, _ := f.Tensor("blk.79.attn_k.weight")
	fmt.Println(st.Tensors, "tensors,", st.FileBytes>>30, "GiB,", vocab.Len(), "tokens")
	fmt.Println(q.Name, q.Type, q.Dims)
	// Output:
	// 723 tensors, 36 GiB, 128256 tokens
	// blk.79.attn_k.weight q4_K [8192 1024]
}
