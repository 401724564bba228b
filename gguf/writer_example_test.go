package gguf_test

import (
	"bytes"
	"fmt"
	"log"

	"github.com/ggufs/ggufs/gguf"
)

// Writing a small file: metadata in order, tensors declared up front, then
// each tensor's data streamed in declaration order.
func ExampleNewWriter() {
	md := []gguf.KV{
		{Key: "general.architecture", Value: gguf.NewString("llama")},
		{Key: "llama.block_count", Value: gguf.NewUint32(1)},
	}
	tensors := []gguf.TensorSpec{
		{Name: "output_norm.weight", Type: gguf.TypeF32, Dims: []uint64{4}},
		{Name: "output.weight", Type: gguf.TypeQ8_0, Dims: []uint64{32, 2}},
	}
	var file bytes.Buffer // an *os.File in real use; SkipTensor then leaves holes
	w, err := gguf.NewWriter(&file, md, tensors, gguf.WriterOptions{Alignment: 64})
	if err != nil {
		log.Fatal(err)
	}
	for _, t := range w.Tensors() {
		if err := w.WriteTensorBytes(t.Name, make([]byte, t.Size)); err != nil {
			log.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}

	f, err := gguf.NewReader(bytes.NewReader(file.Bytes()), int64(file.Len()))
	if err != nil {
		log.Fatal(err)
	}
	align, _ := f.Metadata.Uint32("general.alignment") // added by the Writer
	for _, t := range f.Tensors {
		fmt.Printf("%s %s %v at %d, %d bytes\n", t.Name, t.Type, t.Dims, t.FileOffset, t.Size)
	}
	fmt.Println("alignment", align, "file", file.Len(), "bytes")
	// Output:
	// output_norm.weight f32 [4] at 256, 16 bytes
	// output.weight q8_0 [32 2] at 320, 68 bytes
	// alignment 64 file 448 bytes
}
