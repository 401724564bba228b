package synth

import (
	"bytes"
	"encoding/binary"
	"io"
	"math"
	"testing"
	"time"

	"github.com/ggufs/ggufs/gguf"
)

// BenchmarkFill measures data generation and reports it as a ratio to
// copying the same bytes (copy), measured in the same run: generation
// should not be what limits gen.
func BenchmarkFill(b *testing.B) {
	buf := make([]byte, 4<<20)
	src := make([]byte, len(buf))
	s := newStream(1, 0, gguf.TypeQ4_K, binary.LittleEndian)
	b.SetBytes(int64(len(buf)))
	var fillTime, copyTime time.Duration
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		s.fill(buf, uint64(i)*uint64(len(buf)))
		t1 := time.Now()
		copy(buf, src)
		fillTime += t1.Sub(t0)
		copyTime += time.Since(t1)
	}
	b.ReportMetric(float64(fillTime)/float64(copyTime), "fill/copy")
}

// The stream is positional: any range equals the same range of a
// sequential fill, whatever the alignment of its start.
func TestFillAtAnyOffset(t *testing.T) {
	s := newStream(3, 5, gguf.TypeF16, binary.LittleEndian)
	whole := make([]byte, 1000)
	s.fill(whole, 0)
	for _, r := range [][2]int{{0, 1}, {1, 9}, {7, 8}, {13, 500}, {999, 1}, {8, 992}} {
		part := make([]byte, r[1])
		s.fill(part, uint64(r[0]))
		if string(part) != string(whole[r[0]:r[0]+r[1]]) {
			t.Errorf("fill at %d, %d bytes differs from the sequential fill", r[0], r[1])
		}
	}
}

func TestFloatDataIsFinite(t *testing.T) {
	for _, order := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		buf := make([]byte, 1<<16)
		newStream(1, 0, gguf.TypeF32, order).fill(buf, 0)
		for i := 0; i < len(buf); i += 4 {
			if f := math.Float32frombits(order.Uint32(buf[i:])); math.IsNaN(float64(f)) || math.Abs(float64(f)) >= 2 {
				t.Fatalf("%v f32 element %d = %v, want finite below 2", order, i/4, f)
			}
		}
		newStream(1, 0, gguf.TypeF16, order).fill(buf, 0)
		for i := 0; i < len(buf); i += 2 {
			if h := order.Uint16(buf[i:]); h&0x7C00 == 0x7C00 {
				t.Fatalf("%v f16 element %d = %#04x is Inf or NaN", order, i/2, h)
			}
		}
		newStream(1, 0, gguf.TypeBF16, order).fill(buf, 0)
		for i := 0; i < len(buf); i += 2 {
			if h := order.Uint16(buf[i:]); h&0x7F80 == 0x7F80 {
				t.Fatalf("%v bf16 element %d = %#04x is Inf or NaN", order, i/2, h)
			}
		}
	}
}

// Read and WriteTo (which pipelines) produce the same bytes.
func TestTensorReaderReadEqualsWriteTo(t *testing.T) {
	const n = 2*fillChunk + 12345
	s := newStream(4, 2, gguf.TypeQ8_0, binary.LittleEndian)
	viaRead, err := io.ReadAll(struct{ io.Reader }{&tensorReader{s: s, end: n}})
	if err != nil {
		t.Fatal(err)
	}
	var viaWriteTo bytes.Buffer
	if k, err := (&tensorReader{s: s, end: n}).WriteTo(&viaWriteTo); err != nil || k != n {
		t.Fatalf("WriteTo = %d, %v; want %d", k, err, n)
	}
	if len(viaRead) != n || !bytes.Equal(viaRead, viaWriteTo.Bytes()) {
		t.Error("Read and WriteTo give different bytes")
	}
}
