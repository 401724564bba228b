package gguf

import (
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/edsrzf/mmap-go"
)

// halfReference computes a binary16's value in float64 from its definition
// (a different route from halfBits' bit moves); NaNs are left to the caller.
func halfReference(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exp, man := int(h>>10&0x1f), float64(h&0x3ff)
	switch {
	case exp == 0x1f:
		return math.Inf(int(sign))
	case exp == 0:
		return sign * math.Ldexp(man, -24)
	}
	return sign * math.Ldexp(1024+man, exp-25)
}

// Every one of the 65536 halves converts exactly: values (and the sign of
// zero) as the definition says, NaNs with their payload and quiet bit kept.
func TestHalfBitsEveryValue(t *testing.T) {
	for i := 0; i < 1<<16; i++ {
		h := uint16(i)
		got := halfBits(h)
		if h&0x7c00 == 0x7c00 && h&0x3ff != 0 {
			want := uint32(h&0x8000)<<16 | 0x7f800000 | uint32(h&0x3ff)<<13
			if got != want {
				t.Fatalf("NaN %#04x -> %#08x, want %#08x (payload kept)", h, got, want)
			}
			continue
		}
		want := math.Float32bits(float32(halfReference(h)))
		if got != want {
			t.Fatalf("%#04x -> %#08x, want %#08x", h, got, want)
		}
	}
}

func bitsOf(v []float32) []uint32 {
	out := make([]uint32, len(v))
	for i, x := range v {
		out[i] = math.Float32bits(x)
	}
	return out
}

func decodeOne(t *testing.T, typ Type, block []byte) []float32 {
	t.Helper()
	tr, _ := typ.Traits()
	if uint64(len(block)) != tr.BlockBytes {
		t.Fatalf("%s block of %d bytes, want %d", typ, len(block), tr.BlockBytes)
	}
	out := make([]float32, tr.BlockSize)
	if err := DequantizeF32(out, block, typ); err != nil {
		t.Fatal(err)
	}
	return out
}

func repeat(b byte, n int) []byte {
	out := make([]byte, n)
	for i := range out {
		out[i] = b
	}
	return out
}

func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func expectAll(t *testing.T, what string, got []float32, want func(i int) float32) {
	t.Helper()
	for i, g := range got {
		if w := want(i); math.Float32bits(g) != math.Float32bits(w) {
			t.Fatalf("%s[%d] = %g (%#08x), want %g (%#08x)", what, i, g, math.Float32bits(g), w, math.Float32bits(w))
		}
	}
}

// f16 and bf16 elements keep NaN payloads (signalling ones too) and signed zeros.
func TestHalfAndBFloatKeepNaNPayloadsAndSignedZeros(t *testing.T) {
	f16 := decodeOne(t, TypeF16, []byte{0x01, 0x7c}) // signalling NaN, payload 1
	bf16 := make([]float32, 4)
	if err := DequantizeF32(bf16, []byte{0x81, 0x7f, 0x00, 0x80, 0x01, 0xff, 0x80, 0x3f}, TypeBF16); err != nil {
		t.Fatal(err)
	}
	if got := math.Float32bits(f16[0]); got != 0x7f802000 {
		t.Errorf("f16 sNaN 0x7c01 -> %#08x, want 0x7f802000", got)
	}
	want := []uint32{0x7f810000, 0x80000000, 0xff010000, 0x3f800000}
	for i, w := range want {
		if g := math.Float32bits(bf16[i]); g != w {
			t.Errorf("bf16[%d] -> %#08x, want %#08x", i, g, w)
		}
	}
}

// Blocks built by hand from ggml-common.h's layouts, with extreme nibbles,
// signs and scales, give the values the layout defines.
func TestHandBuiltBlocks(t *testing.T) {
	one, negZero := []byte{0x00, 0x3c}, []byte{0x00, 0x80} // f16 1.0 and -0.0
	t.Run("q4_0 extreme nibbles", func(t *testing.T) {
		y := decodeOne(t, TypeQ4_0, cat(one, repeat(0xf0, 16)))
		expectAll(t, "q4_0", y, func(i int) float32 { return map[bool]float32{true: -8, false: 7}[i < 16] })
	})
	t.Run("q4_0 negative zero scale", func(t *testing.T) {
		y := decodeOne(t, TypeQ4_0, cat(negZero, repeat(0x08, 16))) // low 8 -> 0, high 0 -> -8
		expectAll(t, "q4_0", y, func(i int) float32 {
			if i < 16 {
				return float32(math.Copysign(0, -1))
			}
			return 0
		})
	})
	t.Run("q4_1 scale and min", func(t *testing.T) {
		y := decodeOne(t, TypeQ4_1, cat([]byte{0x00, 0x40, 0x00, 0xbc}, repeat(0x0f, 16))) // d=2, m=-1
		expectAll(t, "q4_1", y, func(i int) float32 { return map[bool]float32{true: 29, false: -1}[i < 16] })
	})
	t.Run("q5_0 fifth bit", func(t *testing.T) {
		y := decodeOne(t, TypeQ5_0, cat(one, []byte{0xff, 0xff, 0x00, 0x00}, repeat(0xff, 16)))
		expectAll(t, "q5_0", y, func(i int) float32 { return map[bool]float32{true: 15, false: -1}[i < 16] })
	})
	t.Run("q5_1 fifth bit", func(t *testing.T) {
		y := decodeOne(t, TypeQ5_1, cat(one, []byte{0, 0}, []byte{0x00, 0x00, 0xff, 0xff}, repeat(0x00, 16)))
		expectAll(t, "q5_1", y, func(i int) float32 { return map[bool]float32{true: 0, false: 16}[i < 16] })
	})
	t.Run("q8_0 extremes", func(t *testing.T) {
		y := decodeOne(t, TypeQ8_0, cat([]byte{0x00, 0x38}, repeat(0x80, 16), repeat(0x7f, 16))) // d=0.5
		expectAll(t, "q8_0", y, func(i int) float32 { return map[bool]float32{true: -64, false: 63.5}[i < 16] })
	})
	t.Run("q8_K", func(t *testing.T) {
		y := decodeOne(t, TypeQ8_K, cat([]byte{0, 0, 0x80, 0xbf}, repeat(0x81, 256), repeat(0, 32))) // d=-1
		expectAll(t, "q8_K", y, func(int) float32 { return 127 })
	})
	t.Run("q6_K extremes", func(t *testing.T) {
		// q = 63-32 = 31 everywhere, scale -128, d = 1.
		y := decodeOne(t, TypeQ6_K, cat(repeat(0xff, 128), repeat(0xff, 64), repeat(0x80, 16), one))
		expectAll(t, "q6_K", y, func(int) float32 { return -128 * 31 })
	})
	t.Run("mxfp4 scales", func(t *testing.T) {
		y := decodeOne(t, TypeMXFP4, cat([]byte{127}, repeat(0xf7, 16))) // 2^0 / 2: 12·0.5, -12·0.5
		expectAll(t, "mxfp4", y, func(i int) float32 { return map[bool]float32{true: 6, false: -6}[i < 16] })
		y = decodeOne(t, TypeMXFP4, cat([]byte{0}, repeat(0x11, 16))) // subnormal 2^-128
		expectAll(t, "mxfp4 e=0", y, func(int) float32 { return math.Float32frombits(0x00200000) })
		y = decodeOne(t, TypeMXFP4, cat([]byte{254}, repeat(0x11, 16)))
		expectAll(t, "mxfp4 e=254", y, func(int) float32 { return float32(math.Ldexp(1, 126)) })
	})
	t.Run("tq2_0 every code", func(t *testing.T) {
		y := decodeOne(t, TypeTQ2_0, cat(repeat(0xe4, 64), one)) // codes 0,1,2,3 per byte
		expectAll(t, "tq2_0", y, func(i int) float32 { return float32(i%128/32) - 1 })
	})
	t.Run("tq1_0 extreme bytes", func(t *testing.T) {
		y := decodeOne(t, TypeTQ1_0, cat(repeat(0, 48), repeat(0, 4), one))
		expectAll(t, "tq1_0 zero bytes", y, func(int) float32 { return -1 })
		y = decodeOne(t, TypeTQ1_0, cat(repeat(0xff, 48), repeat(0xff, 4), one))
		expectAll(t, "tq1_0 0xff bytes", y, func(int) float32 { return 1 })
	})
	t.Run("nvfp4 sub-block scales", func(t *testing.T) {
		// Scales: 0x38 = 1.0 (halved: 0.5), 0x7f = NaN read as 0, 0x01 = 2^-9 (halved), 0xff: bit 7 ignored.
		y := decodeOne(t, TypeNVFP4, cat([]byte{0x38, 0x7f, 0x01, 0xff}, repeat(0xf7, 32)))
		expectAll(t, "nvfp4", y, func(i int) float32 {
			d := []float32{0.5, 0, float32(math.Ldexp(1, -10)), 240}[i/16] // 0xff: (1+7/8)·2^8 halved
			if i%16 < 8 {
				return 12 * d
			}
			return -12 * d
		})
	})
	t.Run("q1_0 signs", func(t *testing.T) {
		y := decodeOne(t, TypeQ1_0, cat([]byte{0x00, 0x40}, repeat(0xaa, 16))) // d = 2
		expectAll(t, "q1_0", y, func(i int) float32 { return map[bool]float32{true: -2, false: 2}[i%2 == 0] })
	})
	t.Run("q2_0 every code", func(t *testing.T) {
		y := decodeOne(t, TypeQ2_0, cat(one, repeat(0xe4, 16)))
		expectAll(t, "q2_0", y, func(i int) float32 { return float32(i%4) - 1 })
	})
	t.Run("iq4_nl grid ends", func(t *testing.T) {
		y := decodeOne(t, TypeIQ4_NL, cat(one, repeat(0xf0, 16)))
		expectAll(t, "iq4_nl", y, func(i int) float32 { return map[bool]float32{true: -127, false: 113}[i < 16] })
	})
}

// An all-zero block is zero (of either sign) for every type.
func TestZeroBlocksAreZero(t *testing.T) {
	for _, typ := range DequantizeTypes() {
		tr, _ := typ.Traits()
		y := decodeOne(t, typ, make([]byte, tr.BlockBytes))
		for i, v := range y {
			if v != 0 {
				t.Fatalf("%s: zero block [%d] = %g", typ, i, v)
			}
		}
	}
}

// Every sign set of ksigns has an even number of set bits, its low seven
// bits being the index.
func TestKsignsParity(t *testing.T) {
	seen := map[byte]bool{}
	for i := uint32(0); i < 128; i++ {
		s := ksign(i)
		if s&127 != byte(i) || popcount(s)%2 != 0 || seen[s] {
			t.Fatalf("ksign(%d) = %#02x", i, s)
		}
		seen[s] = true
	}
}

func popcount(b byte) int {
	n := 0
	for ; b != 0; b &= b - 1 {
		n++
	}
	return n
}

// randomBlocks returns n blocks of type typ of random bytes.
func randomBlocks(r *rand.Rand, typ Type, n int) []byte {
	tr, _ := typ.Traits()
	out := make([]byte, n*int(tr.BlockBytes))
	for i := range out {
		out[i] = byte(r.Uint32())
	}
	return out
}

// A range conversion at any start and length equals that slice of the whole
// conversion, bit for bit (NaNs included).
func TestDequantizeRangeEqualsWholeSlice(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, typ := range DequantizeTypes() {
		tr, _ := typ.Traits()
		data := randomBlocks(r, typ, 5)
		total := 5 * tr.BlockSize
		whole := make([]float32, total)
		if err := DequantizeF32(whole, data, typ); err != nil {
			t.Fatal(err)
		}
		want := bitsOf(whole)
		cases := [][2]uint64{{0, total}, {0, 1}, {total - 1, 1}, {1, total - 2}, {tr.BlockSize - 1, 2}, {tr.BlockSize, tr.BlockSize}, {total, 0}}
		for i := 0; i < 50; i++ {
			a := r.Uint64N(total + 1)
			cases = append(cases, [2]uint64{a, r.Uint64N(total - a + 1)})
		}
		for _, c := range cases {
			got := make([]float32, c[1])
			if err := DequantizeRange(got, data, typ, c[0]); err != nil {
				t.Fatalf("%s [%d,+%d): %v", typ, c[0], c[1], err)
			}
			for i, g := range bitsOf(got) {
				if g != want[c[0]+uint64(i)] {
					t.Fatalf("%s [%d,+%d): element %d differs", typ, c[0], c[1], c[0]+uint64(i))
				}
			}
		}
	}
}

func TestDequantizeRejectsBadArguments(t *testing.T) {
	if err := DequantizeF32(make([]float32, 4), make([]byte, 4), TypeI32); !errors.Is(err, ErrNoDequantizer) {
		t.Errorf("i32: %v, want ErrNoDequantizer", err)
	}
	if err := DequantizeF32(make([]float32, 31), make([]byte, 18), TypeQ4_0); err == nil {
		t.Error("31 elements of q4_0 accepted")
	}
	if err := DequantizeF32(make([]float32, 32), make([]byte, 17), TypeQ4_0); err == nil {
		t.Error("17 bytes for a q4_0 block accepted")
	}
	if err := DequantizeRange(make([]float32, 2), make([]byte, 18), TypeQ4_0, 31); err == nil {
		t.Error("a range past the end accepted")
	}
	if err := DequantizeRange(make([]float32, 1), make([]byte, 19), TypeQ4_0, 0); err == nil {
		t.Error("data of a partial block accepted")
	}
	if err := DequantizeRange(nil, nil, Type(200), 0); !errors.Is(err, ErrNoDequantizer) {
		t.Errorf("type 200: %v", err)
	}
}

// Conversion from a mapping whose file was truncated is an error wrapping
// ErrTruncated, not a SIGBUS crash.
func TestDequantizeTruncatedMappingIsAnError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "blocks")
	if err := os.WriteFile(path, make([]byte, 1<<16), 0o644); err != nil {
		t.Fatal(err)
	}
	osf, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer osf.Close()
	m, err := mmap.Map(osf, mmap.RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Unmap()
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	// q8_0 goes through a decoder loop, f32 through the runtime's copy.
	for _, typ := range []Type{TypeQ8_0, TypeF32} {
		tr, _ := typ.Traits()
		data := m[:uint64(len(m))/tr.BlockBytes*tr.BlockBytes]
		dst := make([]float32, uint64(len(data))/tr.BlockBytes*tr.BlockSize)
		if err := dequantizeGuarded("t", dst, data, typ, 0); !errors.Is(err, ErrTruncated) {
			t.Fatalf("%s: got %v, want ErrTruncated", typ, err)
		}
	}
}
