package gguf

import (
	"encoding/binary"
	"math/bits"
)

// The IQ types of ggml-common.h: indices into fixed grids (dequant_grids.go)
// with per-group scales and sign bits. Decoded as ggml's dequantize_row_iq*.

// ksign is ggml's ksigns_iq2xs[i]: seven sign bits i, the eighth making the
// count of set bits even.
func ksign(i uint32) byte {
	i &= 127
	return byte(i) | byte(bits.OnesCount32(i)&1)<<7
}

// signMul is ±1 by a sign bit: ggml multiplies by -1.f rather than flipping
// the sign bit (a NaN keeps its sign through the multiply), and indexing
// keeps the loop free of branches that random signs would mispredict.
var signMul = [2]float32{1, -1}

// signed returns v·(-1 if bit j of signs is set, else 1).
func signed(v float32, signs byte, j int) float32 {
	return v * signMul[signs>>uint(j)&1]
}

// gridRow8 writes y[j] = ±db·grid[j] for the 8 grid bytes of row g.
func gridRow8(y *[8]float32, db float32, g uint64, signs byte) {
	for j := 0; j < 8; j++ {
		y[j] = signed(db*float32(byte(g>>(8*j))), signs, j)
	}
}

// decodeIQ2_XXS: block_iq2_xxs {d f16; qs[32] uint16}: per 32 elements two
// uint32s: four 8-bit grid indices, then four 7-bit sign sets and a 4-bit scale.
func decodeIQ2_XXS(dst []float32, src []byte) {
	for len(src) >= 66 && len(dst) >= 256 {
		b, y := (*[66]byte)(src), (*[256]float32)(dst)
		d := halfAt(b[0], b[1])
		for ib := 0; ib < 8; ib++ {
			q := (*[8]byte)(b[2+8*ib:])
			aux := binary.LittleEndian.Uint32(q[4:])
			db := d * (0.5 + float32(aux>>28)) * 0.25
			for l := 0; l < 4; l++ {
				gridRow8((*[8]float32)(y[32*ib+8*l:]), db, iq2xxsGrid[q[l]], ksign(aux>>(7*l)))
			}
		}
		src, dst = src[66:], dst[256:]
	}
}

// decodeIQ2_XS: block_iq2_xs {d f16; qs[32] uint16; scales[8]}: each uint16
// is a 9-bit grid index and a 7-bit sign set; two 4-bit scales per 32.
func decodeIQ2_XS(dst []float32, src []byte) {
	for len(src) >= 74 && len(dst) >= 256 {
		b, y := (*[74]byte)(src), (*[256]float32)(dst)
		d := halfAt(b[0], b[1])
		for ib := 0; ib < 8; ib++ {
			sc := b[66+ib]
			db := [2]float32{
				d * (0.5 + float32(sc&0xf)) * 0.25,
				d * (0.5 + float32(sc>>4)) * 0.25,
			}
			for l := 0; l < 4; l++ {
				v := uint32(b[2+8*ib+2*l]) | uint32(b[3+8*ib+2*l])<<8
				gridRow8((*[8]float32)(y[32*ib+8*l:]), db[l/2], iq2xsGrid[v&511], ksign(v>>9))
			}
		}
		src, dst = src[74:], dst[256:]
	}
}

// decodeIQ2_S: block_iq2_s {d f16; qs[32]; signs[32]; qh[8]; scales[8]}: a
// 10-bit grid index (8 bits in qs, 2 in qh) and explicit sign bytes.
func decodeIQ2_S(dst []float32, src []byte) {
	for len(src) >= 82 && len(dst) >= 256 {
		b, y := (*[82]byte)(src), (*[256]float32)(dst)
		d := halfAt(b[0], b[1])
		for ib := 0; ib < 8; ib++ {
			sc := b[74+ib]
			db := [2]float32{
				d * (0.5 + float32(sc&0xf)) * 0.25,
				d * (0.5 + float32(sc>>4)) * 0.25,
			}
			qh := uint32(b[66+ib])
			for l := 0; l < 4; l++ {
				idx := uint32(b[2+4*ib+l]) | (qh<<(8-2*l))&0x300
				gridRow8((*[8]float32)(y[32*ib+8*l:]), db[l/2], iq2sGrid[idx], b[34+4*ib+l])
			}
		}
		src, dst = src[82:], dst[256:]
	}
}

// gridRow4x2 writes y[0:4] from grid row g1 and y[4:8] from g2, signed by
// bits 0-3 and 4-7 of signs.
func gridRow4x2(y *[8]float32, db float32, g1, g2 uint32, signs byte) {
	for j := 0; j < 4; j++ {
		y[j] = signed(db*float32(byte(g1>>(8*j))), signs, j)
		y[j+4] = signed(db*float32(byte(g2>>(8*j))), signs, j+4)
	}
}

// decodeIQ3_XXS: block_iq3_xxs {d f16; qs[64] grid indices; 8 uint32 of
// four 7-bit sign sets and a 4-bit scale}.
func decodeIQ3_XXS(dst []float32, src []byte) {
	for len(src) >= 98 && len(dst) >= 256 {
		b, y := (*[98]byte)(src), (*[256]float32)(dst)
		d := halfAt(b[0], b[1])
		for ib := 0; ib < 8; ib++ {
			aux := binary.LittleEndian.Uint32(b[66+4*ib:])
			db := d * (0.5 + float32(aux>>28)) * 0.5
			q := (*[8]byte)(b[2+8*ib:])
			for l := 0; l < 4; l++ {
				gridRow4x2((*[8]float32)(y[32*ib+8*l:]), db, iq3xxsGrid[q[2*l]], iq3xxsGrid[q[2*l+1]], ksign(aux>>(7*l)))
			}
		}
		src, dst = src[98:], dst[256:]
	}
}

// decodeIQ3_S: block_iq3_s {d f16; qs[64]; qh[8]; signs[32]; scales[4]}: a
// 9-bit grid index (8 bits in qs, 1 in qh), a 4-bit odd scale per 32.
func decodeIQ3_S(dst []float32, src []byte) {
	for len(src) >= 110 && len(dst) >= 256 {
		b, y := (*[110]byte)(src), (*[256]float32)(dst)
		d := halfAt(b[0], b[1])
		for ib := 0; ib < 8; ib++ {
			sc := b[106+ib/2]
			if ib%2 == 1 {
				sc >>= 4
			}
			db := d * float32(1+2*int32(sc&0xf))
			qh := uint32(b[66+ib])
			q := (*[8]byte)(b[2+8*ib:])
			for l := 0; l < 4; l++ {
				i1 := uint32(q[2*l]) | (qh<<(8-2*l))&256
				i2 := uint32(q[2*l+1]) | (qh<<(7-2*l))&256
				gridRow4x2((*[8]float32)(y[32*ib+8*l:]), db, iq3sGrid[i1], iq3sGrid[i2], b[74+4*ib+l])
			}
		}
		src, dst = src[110:], dst[256:]
	}
}

// iq1Delta is ggml's IQ1S_DELTA (and IQ1M_DELTA).
const iq1Delta = 0.125

// iq1Row writes y[j] = dl·(grid[j] + delta) for the int8 grid bytes of row g.
func iq1Row(y *[8]float32, dl, delta float32, g uint64) {
	for j := 0; j < 8; j++ {
		y[j] = dl * (float32(int8(byte(g>>(8*j)))) + delta)
	}
}

// decodeIQ1_S: block_iq1_s {d f16; qs[32]; qh[8] uint16}: an 11-bit grid
// index (8 bits in qs, 3 in qh), a 3-bit odd scale and a delta sign per 32.
func decodeIQ1_S(dst []float32, src []byte) {
	for len(src) >= 50 && len(dst) >= 256 {
		b, y := (*[50]byte)(src), (*[256]float32)(dst)
		d := halfAt(b[0], b[1])
		for ib := 0; ib < 8; ib++ {
			qh := uint32(b[34+2*ib]) | uint32(b[35+2*ib])<<8
			dl := d * float32(2*(qh>>12&7)+1)
			delta := float32(iq1Delta)
			if qh&0x8000 != 0 {
				delta = -iq1Delta
			}
			for l := 0; l < 4; l++ {
				idx := uint32(b[2+4*ib+l]) | (qh>>(3*l)&7)<<8
				iq1Row((*[8]float32)(y[32*ib+8*l:]), dl, delta, iq1sGrid[idx])
			}
		}
		src, dst = src[50:], dst[256:]
	}
}

// decodeIQ1_M: block_iq1_m {qs[32]; qh[16]; scales[8]}: the block's f16
// scale is spread over the top nibbles of the four scale uint16s; 3-bit
// scales per 16 elements, a delta sign per 8.
func decodeIQ1_M(dst []float32, src []byte) {
	for len(src) >= 56 && len(dst) >= 256 {
		b, y := (*[56]byte)(src), (*[256]float32)(dst)
		var sc [4]uint16
		for i := range sc {
			sc[i] = uint16(b[48+2*i]) | uint16(b[49+2*i])<<8
		}
		h := sc[0]>>12 | (sc[1]>>8)&0x00f0 | (sc[2]>>4)&0x0f00 | sc[3]&0xf000
		d := halfAt(byte(h), byte(h>>8))
		for ib := 0; ib < 8; ib++ {
			s := sc[ib/2] >> (6 * uint(ib%2))
			dl := [2]float32{d * float32(2*(s&7)+1), d * float32(2*(s>>3&7)+1)}
			qh0, qh1 := uint32(b[32+2*ib]), uint32(b[33+2*ib])
			q := (*[4]byte)(b[4*ib:])
			idx := [4]uint32{
				uint32(q[0]) | (qh0<<8)&0x700,
				uint32(q[1]) | (qh0<<4)&0x700,
				uint32(q[2]) | (qh1<<8)&0x700,
				uint32(q[3]) | (qh1<<4)&0x700,
			}
			hb := [4]uint32{qh0 & 0x08, qh0 & 0x80, qh1 & 0x08, qh1 & 0x80}
			for l := 0; l < 4; l++ {
				delta := float32(iq1Delta)
				if hb[l] != 0 {
					delta = -iq1Delta
				}
				iq1Row((*[8]float32)(y[32*ib+8*l:]), dl[l/2], delta, iq1sGrid[idx[l]])
			}
		}
		src, dst = src[56:], dst[256:]
	}
}

// decodeIQ4_XS: block_iq4_xs {d f16; scales_h uint16; scales_l[4]; qs[128]}:
// 6-bit scales less 32 per 32 elements over the iq4_nl grid.
func decodeIQ4_XS(dst []float32, src []byte) {
	for len(src) >= 136 && len(dst) >= 256 {
		b, y := (*[136]byte)(src), (*[256]float32)(dst)
		d := halfAt(b[0], b[1])
		sh := uint32(b[2]) | uint32(b[3])<<8
		for ib := 0; ib < 8; ib++ {
			ls := int32(b[4+ib/2]>>(4*uint(ib%2))&0xf) | int32(sh>>(2*uint(ib))&3)<<4
			dl := d * float32(ls-32)
			q := (*[16]byte)(b[8+16*ib:])
			out := (*[32]float32)(y[32*ib:])
			for j := 0; j < 16; j++ {
				out[j] = dl * float32(iq4nlValues[q[j]&0xf])
				out[j+16] = dl * float32(iq4nlValues[q[j]>>4])
			}
		}
		src, dst = src[136:], dst[256:]
	}
}
