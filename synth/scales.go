package synth

import "github.com/ggufs/ggufs/gguf"

// scaleByte is one byte of a block's float scale field and the mask that
// keeps that scale finite: the top exponent bit cleared (an f16 or f32 of
// magnitude below 2, never NaN or Inf) or, for an e8m0 exponent, its top bit
// (at most 2^0), so blocks dequantize to finite numbers.
type scaleByte struct {
	off  uint64 // within the block
	mask byte
}

// blockScales says where a quantized type's float scales lie in its blocks
// (ggml-common.h), as the bytes to mask; nil for types without float scales
// that can overflow (nvfp4's ue4m3 scales are all finite) and non-block types.
type blockScales struct {
	blockBytes uint64
	bytes      []scaleByte
}

// f16High masks the high byte of the little-endian f16 at off.
func f16High(off uint64) scaleByte { return scaleByte{off: off + 1, mask: 0xBF} }

func scalesOf(t gguf.Type) blockScales {
	tr, _ := t.Traits()
	var b []scaleByte
	switch t {
	case gguf.TypeQ4_0, gguf.TypeQ5_0, gguf.TypeQ8_0, gguf.TypeQ1_0, gguf.TypeQ2_0, gguf.TypeIQ2_XXS, gguf.TypeIQ2_XS,
		gguf.TypeIQ2_S, gguf.TypeIQ3_XXS, gguf.TypeIQ3_S, gguf.TypeIQ1_S, gguf.TypeIQ4_NL, gguf.TypeIQ4_XS:
		b = []scaleByte{f16High(0)} // d first
	case gguf.TypeQ4_1, gguf.TypeQ5_1, gguf.TypeQ8_1, gguf.TypeQ4_K, gguf.TypeQ5_K:
		b = []scaleByte{f16High(0), f16High(2)} // d, then m (dmin, s)
	case gguf.TypeQ2_K:
		b = []scaleByte{f16High(80), f16High(82)}
	case gguf.TypeQ3_K:
		b = []scaleByte{f16High(108)}
	case gguf.TypeQ6_K:
		b = []scaleByte{f16High(208)}
	case gguf.TypeTQ1_0:
		b = []scaleByte{f16High(52)}
	case gguf.TypeTQ2_0:
		b = []scaleByte{f16High(64)}
	case gguf.TypeQ8_K:
		b = []scaleByte{{off: 3, mask: 0xBF}} // an f32 d
	case gguf.TypeIQ1_M:
		// The f16 scale is the top nibbles of four uint16s at 48; its
		// exponent's top bit is bit 14 of the last, in byte 55.
		b = []scaleByte{{off: 55, mask: 0xBF}}
	case gguf.TypeMXFP4:
		b = []scaleByte{{off: 0, mask: 0x7F}} // e8m0 exponent
	default:
		return blockScales{}
	}
	return blockScales{blockBytes: tr.BlockBytes, bytes: b}
}

// apply masks the scale bytes that fall in dst, the tensor's bytes from off.
func (s blockScales) apply(dst []byte, off uint64) {
	if len(s.bytes) == 0 || len(dst) == 0 {
		return
	}
	end := off + uint64(len(dst))
	for blk := off / s.blockBytes * s.blockBytes; blk < end; blk += s.blockBytes {
		for _, sb := range s.bytes {
			if p := blk + sb.off; p >= off && p < end {
				dst[p-off] &= sb.mask
			}
		}
	}
}
