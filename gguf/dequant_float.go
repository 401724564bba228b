package gguf

import (
	"encoding/binary"
	"math"
	"math/bits"
	"sync"
	"unsafe"
)

// halfBits converts IEEE binary16 bits to binary32 bits exactly: by moving
// bits, never by float arithmetic, so NaN payloads (signalling ones too),
// infinities, signed zeros and subnormals come through unchanged.
func halfBits(h uint16) uint32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	man := uint32(h & 0x3ff)
	switch {
	case exp == 0x1f:
		return sign | 0x7f800000 | man<<13
	case exp != 0:
		return sign | (exp+112)<<23 | man<<13
	case man == 0:
		return sign
	}
	// A subnormal half, man × 2^-24, is a normal float: its top bit at p
	// gives exponent p-24, and the bits below it become the mantissa.
	p := uint32(31 - bits.LeadingZeros32(man))
	return sign | (p+103)<<23 | (man<<(23-p))&0x7fffff
}

// halfAt reads the little-endian binary16 at b[0:2] as a float32.
func halfAt(b0, b1 byte) float32 {
	return math.Float32frombits(halfBits(uint16(b0) | uint16(b1)<<8))
}

// littleEndianHost is true where a float32 in memory is its little-endian
// bytes, so f32 data converts by a plain copy.
var littleEndianHost = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

func decodeF32(dst []float32, src []byte) {
	src = src[:4*len(dst)]
	if littleEndianHost {
		copy(unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(dst))), 4*len(dst)), src)
		return
	}
	for i := range dst {
		dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
	}
}

// halfTable maps every binary16 to its binary32 bits: 256 KiB, built on
// first use and read-only after, so a bulk f16 conversion is one load per
// element whatever mix of normals, subnormals and NaNs it meets.
var halfTable = sync.OnceValue(func() *[1 << 16]uint32 {
	var t [1 << 16]uint32
	for i := range t {
		t[i] = halfBits(uint16(i))
	}
	return &t
})

func decodeF16(dst []float32, src []byte) {
	table := halfTable()
	src = src[:2*len(dst)]
	for i := range dst {
		dst[i] = math.Float32frombits(table[uint16(src[2*i])|uint16(src[2*i+1])<<8])
	}
}

// decodeBF16 widens bfloat16 by its definition: the top half of a binary32.
func decodeBF16(dst []float32, src []byte) {
	src = src[:2*len(dst)]
	for i := range dst {
		dst[i] = math.Float32frombits(uint32(src[2*i])<<16 | uint32(src[2*i+1])<<24)
	}
}
