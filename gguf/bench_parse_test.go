package gguf

import "testing"

// BenchmarkParseHeaderInMemory parses the llama-70b header through an
// in-memory io.ReaderAt: the cost of NewReader's windowed parse without
// file system calls.
func BenchmarkParseHeaderInMemory(b *testing.B) {
	tf := llama70bHeader()
	e := encodeHeader(tf)
	size := int64(len(e.b)) + int64(tf.laidOutSize())
	b.SetBytes(int64(len(e.b)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := NewReader(zeroReader{e.b}, size); err != nil {
			b.Fatal(err)
		}
	}
}
