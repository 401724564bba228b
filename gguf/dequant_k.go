package gguf

import (
	"encoding/binary"
	"math"
)

// The 256-element K types and ternary types of ggml-common.h, decoded as
// ggml's dequantize_row_* does, block by block through array pointers.

// decodeQ2_K: block_q2_K {scales[16]; qs[64]; d, dmin f16}. Each scale byte
// holds a 4-bit scale (low) and a 4-bit min (high) for 16 elements.
func decodeQ2_K(dst []float32, src []byte) {
	for len(src) >= 84 && len(dst) >= 256 {
		b, y := (*[84]byte)(src), (*[256]float32)(dst)
		d, dmin := halfAt(b[80], b[81]), halfAt(b[82], b[83])
		out, is := 0, 0
		for half := 0; half < 2; half++ {
			q := (*[32]byte)(b[16+32*half:])
			for shift := uint(0); shift < 8; shift += 2 {
				for part := 0; part < 2; part++ {
					sc := b[is]
					is++
					dl, ml := d*float32(sc&0xf), dmin*float32(sc>>4)
					for l := 0; l < 16; l++ {
						y[(out+l)&255] = float32(dl*float32((q[16*part+l]>>shift)&3)) - ml
					}
					out += 16
				}
			}
		}
		src, dst = src[84:], dst[256:]
	}
}

// q3Scales unpacks block_q3_K's 12 scale bytes into 16 signed 6-bit scales
// (4 low bits from bytes 0-7, 2 high bits from bytes 8-11), less 32.
func q3Scales(s *[12]byte) [16]int32 {
	a0 := binary.LittleEndian.Uint32(s[0:])
	a1 := binary.LittleEndian.Uint32(s[4:])
	tmp := binary.LittleEndian.Uint32(s[8:])
	const low, high = 0x0f0f0f0f, 0x03030303
	words := [4]uint32{
		a0&low | (tmp>>0)&high<<4,
		a1&low | (tmp>>2)&high<<4,
		(a0>>4)&low | (tmp>>4)&high<<4,
		(a1>>4)&low | (tmp>>6)&high<<4,
	}
	var out [16]int32
	for i := range out {
		out[i] = int32(int8(byte(words[i/4]>>(8*(i%4))))) - 32
	}
	return out
}

// decodeQ3_K: block_q3_K {hmask[32]; qs[64]; scales[12]; d f16}: 2 low bits
// in qs, and 4 is subtracted where the hmask bit is clear.
func decodeQ3_K(dst []float32, src []byte) {
	for len(src) >= 110 && len(dst) >= 256 {
		b, y := (*[110]byte)(src), (*[256]float32)(dst)
		hm := (*[32]byte)(b[0:])
		dAll := halfAt(b[108], b[109])
		scales := q3Scales((*[12]byte)(b[96:]))
		out, is := 0, 0
		m := byte(1)
		for half := 0; half < 2; half++ {
			q := (*[32]byte)(b[32+32*half:])
			for shift := uint(0); shift < 8; shift += 2 {
				for part := 0; part < 2; part++ {
					dl := dAll * float32(scales[is&15])
					is++
					for l := 0; l < 16; l++ {
						v := int32((q[16*part+l] >> shift) & 3)
						if hm[16*part+l]&m == 0 {
							v -= 4
						}
						y[(out+l)&255] = dl * float32(v)
					}
					out += 16
				}
				m <<= 1
			}
		}
		src, dst = src[110:], dst[256:]
	}
}

// scaleMinK4 is ggml's get_scale_min_k4: the j-th 6-bit scale and min of
// the 12 packed bytes shared by q4_K and q5_K.
func scaleMinK4(j int, q *[12]byte) (sc, m byte) {
	if j < 4 {
		return q[j] & 63, q[j+4] & 63
	}
	return q[j+4]&0xf | (q[j-4]>>6)<<4, q[j+4]>>4 | (q[j]>>6)<<4
}

// decodeQ4_K: block_q4_K {d, dmin f16; scales[12]; qs[128]}: 64 elements
// per 32 bytes, low nibbles then high, each half with its own scale and min.
func decodeQ4_K(dst []float32, src []byte) {
	for len(src) >= 144 && len(dst) >= 256 {
		b, y := (*[144]byte)(src), (*[256]float32)(dst)
		d, dmin := halfAt(b[0], b[1]), halfAt(b[2], b[3])
		scales := (*[12]byte)(b[4:])
		for g := 0; g < 4; g++ {
			sc1, m1 := scaleMinK4(2*g, scales)
			sc2, m2 := scaleMinK4(2*g+1, scales)
			d1, min1 := d*float32(sc1), dmin*float32(m1)
			d2, min2 := d*float32(sc2), dmin*float32(m2)
			q := (*[32]byte)(b[16+32*g:])
			lo, hi := (*[32]float32)(y[64*g:]), (*[32]float32)(y[64*g+32:])
			for l := 0; l < 32; l++ {
				lo[l] = float32(d1*float32(q[l]&0xf)) - min1
				hi[l] = float32(d2*float32(q[l]>>4)) - min2
			}
		}
		src, dst = src[144:], dst[256:]
	}
}

// decodeQ5_K: block_q5_K {d, dmin f16; scales[12]; qh[32]; qs[128]}: as
// q4_K with a fifth bit from qh, two bits of qh per 64 elements.
func decodeQ5_K(dst []float32, src []byte) {
	for len(src) >= 176 && len(dst) >= 256 {
		b, y := (*[176]byte)(src), (*[256]float32)(dst)
		d, dmin := halfAt(b[0], b[1]), halfAt(b[2], b[3])
		scales := (*[12]byte)(b[4:])
		qh := (*[32]byte)(b[16:])
		for g := 0; g < 4; g++ {
			sc1, m1 := scaleMinK4(2*g, scales)
			sc2, m2 := scaleMinK4(2*g+1, scales)
			d1, min1 := d*float32(sc1), dmin*float32(m1)
			d2, min2 := d*float32(sc2), dmin*float32(m2)
			q := (*[32]byte)(b[48+32*g:])
			lo, hi := (*[32]float32)(y[64*g:]), (*[32]float32)(y[64*g+32:])
			s1, s2 := uint(2*g), uint(2*g+1)
			for l := 0; l < 32; l++ {
				h := qh[l]
				lo[l] = float32(d1*float32(q[l]&0xf|(h>>s1&1)<<4)) - min1
				hi[l] = float32(d2*float32(q[l]>>4|(h>>s2&1)<<4)) - min2
			}
		}
		src, dst = src[176:], dst[256:]
	}
}

// decodeQ6_K: block_q6_K {ql[128]; qh[64]; scales[16] int8; d f16}:
// y = d·scale·(q-32), with q's 4 low bits in ql and 2 high bits in qh.
func decodeQ6_K(dst []float32, src []byte) {
	for len(src) >= 210 && len(dst) >= 256 {
		b, y := (*[210]byte)(src), (*[256]float32)(dst)
		d := halfAt(b[208], b[209])
		for n := 0; n < 2; n++ {
			ql := (*[64]byte)(b[64*n:])
			qh := (*[32]byte)(b[128+32*n:])
			sc := (*[8]byte)(b[192+8*n:])
			out := (*[128]float32)(y[128*n:])
			for is := 0; is < 2; is++ {
				// ggml's d·sc·q is (d·sc)·q: the products are hoisted as is.
				s1, s2 := d*float32(int8(sc[is])), d*float32(int8(sc[is+2]))
				s3, s4 := d*float32(int8(sc[is+4])), d*float32(int8(sc[is+6]))
				for l := 16 * is; l < 16*is+16; l++ {
					h, lo, hi := qh[l], ql[l], ql[l+32]
					out[l] = s1 * float32(int32(lo&0xf|(h&3)<<4)-32)
					out[l+32] = s2 * float32(int32(hi&0xf|(h>>2&3)<<4)-32)
					out[l+64] = s3 * float32(int32(lo>>4|(h>>4&3)<<4)-32)
					out[l+96] = s4 * float32(int32(hi>>4|(h>>6&3)<<4)-32)
				}
			}
		}
		src, dst = src[210:], dst[256:]
	}
}

// decodeQ8_K: block_q8_K {d f32; qs[256] int8; bsums[16] int16}: y = d·q.
func decodeQ8_K(dst []float32, src []byte) {
	for len(src) >= 292 && len(dst) >= 256 {
		b, y := (*[292]byte)(src), (*[256]float32)(dst)
		d := math.Float32frombits(binary.LittleEndian.Uint32(b[0:]))
		for j := 0; j < 256; j++ {
			y[j] = d * float32(int8(b[4+j]))
		}
		src, dst = src[292:], dst[256:]
	}
}

// ternary is ggml's trit decode of a byte scaled by 3^n: the top trit of
// q·3 (uint8 arithmetic), less one.
func ternary(q byte) float32 { return float32(int32((uint16(q)*3)>>8) - 1) }

// decodeTQ1_0: block_tq1_0 {qs[48]; qh[4]; d f16}: five trits per qs byte
// (four per qh byte), stored as a base-3 fraction of 256.
func decodeTQ1_0(dst []float32, src []byte) {
	pow3 := [5]byte{1, 3, 9, 27, 81}
	for len(src) >= 54 && len(dst) >= 256 {
		b, y := (*[54]byte)(src), (*[256]float32)(dst)
		d := halfAt(b[52], b[53])
		out := 0
		for n := 0; n < 5; n++ {
			for m := 0; m < 32; m++ {
				y[(out+m)&255] = ternary(b[m]*pow3[n]) * d
			}
			out += 32
		}
		for n := 0; n < 5; n++ {
			for m := 0; m < 16; m++ {
				y[(out+m)&255] = ternary(b[32+m]*pow3[n]) * d
			}
			out += 16
		}
		for n := 0; n < 4; n++ {
			for j := 0; j < 4; j++ {
				y[(out+j)&255] = ternary(b[48+j]*pow3[n]) * d
			}
			out += 4
		}
		src, dst = src[54:], dst[256:]
	}
}

// decodeTQ2_0: block_tq2_0 {qs[64]; d f16}: four 2-bit values per byte, 1 is zero.
func decodeTQ2_0(dst []float32, src []byte) {
	for len(src) >= 66 && len(dst) >= 256 {
		b, y := (*[66]byte)(src), (*[256]float32)(dst)
		d := halfAt(b[64], b[65])
		for j := 0; j < 2; j++ {
			q := (*[32]byte)(b[32*j:])
			for l := uint(0); l < 4; l++ {
				out := (*[32]float32)(y[128*j+32*int(l):])
				for m := 0; m < 32; m++ {
					out[m] = float32(int32(q[m]>>(2*l)&3)-1) * d
				}
			}
		}
		src, dst = src[66:], dst[256:]
	}
}
