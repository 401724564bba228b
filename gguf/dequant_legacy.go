package gguf

import "math"

// The 32-element block types of ggml-common.h. Each decoder walks whole
// blocks through array pointers, so the loops carry no bounds checks. Where
// ggml computes a*b + c, the product is rounded first (float32(a*b)): Go may
// otherwise fuse it into one FMA, which rounds differently from ggml.

// decodeQ4_0: block_q4_0 {d f16; qs[16]}: y = (nibble-8)·d, low nibbles first.
func decodeQ4_0(dst []float32, src []byte) {
	for len(src) >= 18 && len(dst) >= 32 {
		b, y := (*[18]byte)(src), (*[32]float32)(dst)
		d := halfAt(b[0], b[1])
		for j := 0; j < 16; j++ {
			q := b[2+j]
			y[j] = float32(int32(q&0xf)-8) * d
			y[j+16] = float32(int32(q>>4)-8) * d
		}
		src, dst = src[18:], dst[32:]
	}
}

// decodeQ4_1: block_q4_1 {d, m f16; qs[16]}: y = nibble·d + m.
func decodeQ4_1(dst []float32, src []byte) {
	for len(src) >= 20 && len(dst) >= 32 {
		b, y := (*[20]byte)(src), (*[32]float32)(dst)
		d, m := halfAt(b[0], b[1]), halfAt(b[2], b[3])
		for j := 0; j < 16; j++ {
			q := b[4+j]
			y[j] = float32(float32(q&0xf)*d) + m
			y[j+16] = float32(float32(q>>4)*d) + m
		}
		src, dst = src[20:], dst[32:]
	}
}

// decodeQ5_0: block_q5_0 {d f16; qh[4]; qs[16]}: the fifth bit of element j
// is bit j of qh; y = (q-16)·d.
func decodeQ5_0(dst []float32, src []byte) {
	for len(src) >= 22 && len(dst) >= 32 {
		b, y := (*[22]byte)(src), (*[32]float32)(dst)
		d := halfAt(b[0], b[1])
		qh := uint32(b[2]) | uint32(b[3])<<8 | uint32(b[4])<<16 | uint32(b[5])<<24
		for j := 0; j < 16; j++ {
			q := uint32(b[6+j])
			lo := q&0xf | (qh>>j)<<4&0x10
			hi := q>>4 | (qh>>(j+12))&0x10
			y[j] = float32(int32(lo)-16) * d
			y[j+16] = float32(int32(hi)-16) * d
		}
		src, dst = src[22:], dst[32:]
	}
}

// decodeQ5_1: block_q5_1 {d, m f16; qh[4]; qs[16]}: y = q·d + m.
func decodeQ5_1(dst []float32, src []byte) {
	for len(src) >= 24 && len(dst) >= 32 {
		b, y := (*[24]byte)(src), (*[32]float32)(dst)
		d, m := halfAt(b[0], b[1]), halfAt(b[2], b[3])
		qh := uint32(b[4]) | uint32(b[5])<<8 | uint32(b[6])<<16 | uint32(b[7])<<24
		for j := 0; j < 16; j++ {
			q := uint32(b[8+j])
			lo := q&0xf | (qh>>j)<<4&0x10
			hi := q>>4 | (qh>>(j+12))&0x10
			y[j] = float32(float32(lo)*d) + m
			y[j+16] = float32(float32(hi)*d) + m
		}
		src, dst = src[24:], dst[32:]
	}
}

// decodeQ8_0: block_q8_0 {d f16; qs[32] int8}: y = q·d.
func decodeQ8_0(dst []float32, src []byte) {
	for len(src) >= 34 && len(dst) >= 32 {
		b, y := (*[34]byte)(src), (*[32]float32)(dst)
		d := halfAt(b[0], b[1])
		for j := 0; j < 32; j++ {
			y[j] = float32(int8(b[2+j])) * d
		}
		src, dst = src[34:], dst[32:]
	}
}

// iq4nlValues is ggml's kvalues_iq4nl, the non-linear 4-bit grid.
var iq4nlValues = [16]int8{-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113}

// decodeIQ4_NL: block_iq4_nl {d f16; qs[16]}: y = d·kvalues[nibble].
func decodeIQ4_NL(dst []float32, src []byte) {
	for len(src) >= 18 && len(dst) >= 32 {
		b, y := (*[18]byte)(src), (*[32]float32)(dst)
		d := halfAt(b[0], b[1])
		for j := 0; j < 16; j++ {
			q := b[2+j]
			y[j] = d * float32(iq4nlValues[q&0xf])
			y[j+16] = d * float32(iq4nlValues[q>>4])
		}
		src, dst = src[18:], dst[32:]
	}
}

// mxfp4Values is ggml's kvalues_mxfp4: e2m1 values, doubled to integers
// (the block scale is halved to match).
var mxfp4Values = [16]int8{0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12}

// e8m0Half is half of the e8m0 scale 2^(e-127), i.e. 2^(e-128), as ggml's
// GGML_E8M0_TO_FP32_HALF builds it from bits (subnormal for e < 2).
func e8m0Half(e byte) float32 {
	if e < 2 {
		return math.Float32frombits(0x00200000 << e)
	}
	return math.Float32frombits(uint32(e-1) << 23)
}

// decodeMXFP4: block_mxfp4 {e uint8; qs[16]}: y = kvalues[nibble]·2^(e-128).
func decodeMXFP4(dst []float32, src []byte) {
	for len(src) >= 17 && len(dst) >= 32 {
		b, y := (*[17]byte)(src), (*[32]float32)(dst)
		d := e8m0Half(b[0])
		for j := 0; j < 16; j++ {
			q := b[1+j]
			y[j] = float32(mxfp4Values[q&0xf]) * d
			y[j+16] = float32(mxfp4Values[q>>4]) * d
		}
		src, dst = src[17:], dst[32:]
	}
}

// ue4m3Half is ggml's ggml_ue4m3_to_fp32: half of the unsigned e4m3 value
// of x (4 exponent bits, bias 7, 3 mantissa bits; bit 7 ignored), to match
// the doubled kvalues; 0x7F (e4m3's NaN) and 0 are zero. Every result is
// exact in float32, so computing it in float64 gives ggml's bits.
func ue4m3Half(x byte) float32 {
	if x == 0 || x == 0x7f {
		return 0
	}
	exp, man := int(x>>3&0xf), float64(x&7)
	if exp == 0 {
		return float32(math.Ldexp(man, -9)) * 0.5
	}
	return float32(math.Ldexp(1+man/8, exp-7)) * 0.5
}

// decodeNVFP4: block_nvfp4 {d[4] ue4m3; qs[32]}: four 16-element sub-blocks,
// each 8 bytes of e2m1 nibbles (low nibbles first) with its own scale.
func decodeNVFP4(dst []float32, src []byte) {
	for len(src) >= 36 && len(dst) >= 64 {
		b, y := (*[36]byte)(src), (*[64]float32)(dst)
		for s := 0; s < 4; s++ {
			d := ue4m3Half(b[s])
			q := (*[8]byte)(b[4+8*s:])
			out := (*[16]float32)(y[16*s:])
			for j := 0; j < 8; j++ {
				out[j] = float32(mxfp4Values[q[j]&0xf]) * d
				out[j+8] = float32(mxfp4Values[q[j]>>4]) * d
			}
		}
		src, dst = src[36:], dst[64:]
	}
}

// decodeQ1_0: block_q1_0 {d f16; qs[16]}: one bit per element, d or -d.
func decodeQ1_0(dst []float32, src []byte) {
	for len(src) >= 18 && len(dst) >= 128 {
		b, y := (*[18]byte)(src), (*[128]float32)(dst)
		d := halfAt(b[0], b[1])
		pm := [2]float32{-d, d}
		for j := 0; j < 128; j++ {
			y[j] = pm[b[2+j/8]>>(j%8)&1]
		}
		src, dst = src[18:], dst[128:]
	}
}

// decodeQ2_0: block_q2_0 {d f16; qs[16]}: four 2-bit codes per byte, low
// bits first; code c is (c-1)·d.
func decodeQ2_0(dst []float32, src []byte) {
	for len(src) >= 18 && len(dst) >= 64 {
		b, y := (*[18]byte)(src), (*[64]float32)(dst)
		d := halfAt(b[0], b[1])
		for j := 0; j < 64; j++ {
			y[j] = float32(int32(b[2+j/4]>>(2*(j%4))&3)-1) * d
		}
		src, dst = src[18:], dst[64:]
	}
}
