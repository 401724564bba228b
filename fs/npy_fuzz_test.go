package fs

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"

	"github.com/ggufs/ggufs/gguf"
)

// FuzzNpyHeader: for any type, dims and byte order, npyHeader gives either
// no header (numpy has no such type) or one numpy reads back: the magic, a
// version whose length field covers the rest, the alignment, a newline at
// the end, and a dict with the right dtype and the reversed shape.
func FuzzNpyHeader(f *testing.F) {
	f.Add(uint32(gguf.TypeF32), uint8(2), uint64(4096), uint64(32000), uint64(1), uint64(1), false)
	f.Add(uint32(gguf.TypeI8), uint8(4), uint64(2), uint64(3), uint64(4), uint64(5), true)
	f.Add(uint32(gguf.TypeF16), uint8(0), uint64(0), uint64(0), uint64(0), uint64(0), false)
	f.Add(uint32(gguf.TypeBF16), uint8(1), uint64(7), uint64(0), uint64(0), uint64(0), false)
	f.Add(uint32(gguf.TypeI64), uint8(4), uint64(1<<63-1), uint64(1<<63-1), uint64(1<<63-1), uint64(1<<63-1), true)
	f.Fuzz(func(t *testing.T, typ uint32, nd uint8, d0, d1, d2, d3 uint64, big bool) {
		dims := []uint64{d0, d1, d2, d3}[:nd%5]
		var order binary.ByteOrder = binary.LittleEndian
		if big {
			order = binary.BigEndian
		}
		h, ok := npyHeader(gguf.Type(typ), dims, order)
		kind, known := npyKind(gguf.Type(typ))
		if ok != known {
			t.Fatalf("type %d: header %v, npy kind %v", typ, ok, known)
		}
		if !ok {
			return
		}
		if !bytes.HasPrefix(h, []byte("\x93NUMPY")) || len(h) < 10 {
			t.Fatalf("bad magic: %q", h)
		}
		var dict []byte
		switch h[6] {
		case 1:
			n := int(binary.LittleEndian.Uint16(h[8:10]))
			if 10+n != len(h) {
				t.Fatalf("v1 length field %d for a %d-byte header", n, len(h))
			}
			dict = h[10:]
		case 2:
			n := int(binary.LittleEndian.Uint32(h[8:12]))
			if 12+n != len(h) || len(h) <= npyMaxV1Header {
				t.Fatalf("v2 length field %d for a %d-byte header", n, len(h))
			}
			dict = h[12:]
		default:
			t.Fatalf("version %d.%d", h[6], h[7])
		}
		if len(h)%npyAlign != 0 || h[len(h)-1] != '\n' {
			t.Fatalf("%d-byte header not aligned to %d or not ending in a newline", len(h), npyAlign)
		}
		endian := "<"
		switch {
		case kind == "i1":
			endian = "|"
		case big:
			endian = ">"
		}
		shape := make([]string, len(dims))
		for i, d := range dims {
			shape[len(dims)-1-i] = fmt.Sprint(d)
		}
		tuple := strings.Join(shape, ", ")
		if len(dims) == 1 {
			tuple += ","
		}
		want := "{'descr': '" + endian + kind + "', 'fortran_order': False, 'shape': (" + tuple + "), }"
		if got := string(bytes.TrimRight(dict, " \n")); got != want {
			t.Fatalf("dict %s, want %s", got, want)
		}
	})
}
