package gguf

import (
	"encoding/binary"
	"testing"
)

// BenchmarkParseHeaderInMemory parses the llama-70b header through an
// in-memory io.ReaderAt: the cost of NewReader's windowed parse without
// file system calls.
func BenchmarkParseHeaderInMemory(b *testing.B) {
	tf := llama70bHeader()
	e := &enc{order: binary.LittleEndian}
	e.header(3, uint64(len(tf.tensors)), uint64(len(tf.kvs)))
	for _, kv := range tf.kvs {
		e.kv(kv.Key, kv.Value)
	}
	for _, t := range tf.tensors {
		e.tensorInfo(t)
	}
	e.pad(32)
	size := int64(len(e.b)) + int64(tf.laidOutSize())
	b.SetBytes(int64(len(e.b)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := NewReader(zeroReader{e.b}, size); err != nil {
			b.Fatal(err)
		}
	}
}
