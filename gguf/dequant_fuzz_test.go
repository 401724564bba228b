package gguf

import (
	"math"
	"testing"
)

// FuzzDequantize feeds arbitrary block bytes to every decoder, whole and by
// range: no panic, no read outside the given bytes (the slice is cut to its
// exact length, so any overrun would panic), and a range equals that slice
// of the whole conversion.
func FuzzDequantize(f *testing.F) {
	f.Add(byte(0), uint16(0), uint16(1), make([]byte, 64))
	f.Add(byte(12), uint16(5), uint16(300), make([]byte, 300))
	f.Add(byte(20), uint16(255), uint16(2), []byte{0xff, 0x7c, 0xff, 0xff})
	types := DequantizeTypes()
	f.Fuzz(func(t *testing.T, typeIndex byte, first, n uint16, data []byte) {
		typ := types[int(typeIndex)%len(types)]
		tr, _ := typ.Traits()
		blocks := uint64(len(data)) / tr.BlockBytes
		data = data[: blocks*tr.BlockBytes : blocks*tr.BlockBytes]
		total := blocks * tr.BlockSize
		whole := make([]float32, total)
		if err := DequantizeF32(whole, data, typ); err != nil {
			t.Fatalf("%s, %d whole blocks: %v", typ, blocks, err)
		}
		a, m := uint64(first), uint64(n)
		part := make([]float32, m)
		err := DequantizeRange(part, data, typ, a)
		if a+m > total {
			if err == nil {
				t.Fatalf("%s: range [%d,+%d) past %d accepted", typ, a, m, total)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range part {
			if math.Float32bits(v) != math.Float32bits(whole[a+uint64(i)]) {
				t.Fatalf("%s: element %d differs between range and whole", typ, a+uint64(i))
			}
		}
		// Wrong sizes are refused, not read past.
		if len(data) > 0 {
			if err := DequantizeF32(whole, data[:len(data)-1], typ); err == nil {
				t.Fatalf("%s: short data accepted", typ)
			}
		}
	})
}
