package gguf

import (
	"math/rand/v2"
	"testing"
	"time"
)

// benchElems is each benchmark's output: 1 Mi float32 values (4 MiB), past
// the L2 cache as a real tensor's conversion is.
const benchElems = 1 << 20

// BenchmarkDequantize converts 1 Mi elements of each type on one core,
// reporting GB/s of float32 output and the ratio to a plain copy of the
// same 4 MiB output measured in the same run (copy-x: 0.5 is half as fast
// as copying the output).
func BenchmarkDequantize(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, typ := range DequantizeTypes() {
		tr, _ := typ.Traits()
		blocks := benchElems / int(tr.BlockSize)
		data := randomBlocks(r, typ, blocks)
		dst := make([]float32, blocks*int(tr.BlockSize))
		b.Run(typ.String(), func(b *testing.B) {
			b.SetBytes(int64(4 * len(dst)))
			for i := 0; i < b.N; i++ {
				if err := DequantizeF32(dst, data, typ); err != nil {
					b.Fatal(err)
				}
			}
			elapsed := b.Elapsed()
			b.StopTimer()
			src := make([]float32, len(dst))
			start := time.Now()
			for i := 0; i < b.N; i++ {
				copy(dst, src)
			}
			copied := time.Since(start)
			out := float64(4*len(dst)) * float64(b.N)
			b.ReportMetric(out/elapsed.Seconds()/1e9, "GB/s")
			b.ReportMetric(copied.Seconds()/elapsed.Seconds(), "copy-x")
		})
	}
}
