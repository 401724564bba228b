package gguf

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Worst-case headers within the limits, scaled by n: what a hostile file
// can make the parser allocate per header byte. Each is compared with a
// plain header of the same size (one long string) parsed in the same run.

// manyTensors is n one-byte tensors.
func manyTensors(n int) []byte {
	e := le(uint64(n), 0)
	for i := range n {
		e.tensorInfo(tspec{name: fmt.Sprintf("t%d", i), dims: []uint64{1}, typ: TypeI8, offset: uint64(i) * 32})
	}
	e.pad(32)
	e.b = append(e.b, make([]byte, 32*n)...)
	return e.b
}

// manyKeys is n uint8 entries.
func manyKeys(n int) []byte {
	e := le(0, uint64(n))
	for i := range n {
		e.str(fmt.Sprintf("k%d", i))
		e.u32(uint32(ValueUint8))
		e.u8(1)
	}
	return e.b
}

// manyEmptyStrings is one array of n empty strings.
func manyEmptyStrings(n int) []byte {
	e := le(0, 1)
	e.str("k")
	e.u32(uint32(ValueArray))
	e.u32(uint32(ValueString))
	e.count(uint64(n))
	e.b = append(e.b, make([]byte, 8*n)...)
	return e.b
}

// manyNestedArrays is one array of n empty uint8 arrays.
func manyNestedArrays(n int) []byte {
	e := le(0, 1)
	e.str("k")
	e.u32(uint32(ValueArray))
	e.u32(uint32(ValueArray))
	e.count(uint64(n))
	for range n {
		e.u32(uint32(ValueUint8))
		e.count(0)
	}
	return e.b
}

// plainHeader is a header of size bytes: one key with a long string.
func plainHeader(size int) []byte {
	e := le(0, 1)
	e.str("k")
	e.u32(uint32(ValueString))
	e.str(strings.Repeat("x", max(0, size-len(e.b)-8)))
	return e.b
}

// parseAllocs is the bytes the heap allocated to parse b, and the File,
// kept reachable so nothing is counted twice.
func parseAllocs(t testing.TB, b []byte) (uint64, *File) {
	t.Helper()
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f, _, err := parseMapped(b, bytes.NewReader(b), int64(len(b)), false)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	return after.TotalAlloc - before.TotalAlloc, f
}

// worstCases are the headers a hostile file can pick, each with the most
// its parse may allocate as a multiple of a plain header of the same size
// parsed in the same run (which allocates about its own size: the string).
// The multiples are what gguf/limits.go documents.
var worstCases = []struct {
	name  string
	gen   func(int) []byte
	bound float64
}{
	// 3.8x at 2^20 (make stress); the race detector's builds allocate a
	// little more, hence the margin.
	{"2^n one-byte tensors", manyTensors, 4.5},
	{"2^n one-byte metadata keys", manyKeys, 4},
	{"2^n empty strings", manyEmptyStrings, 1.25},
	{"2^n empty nested arrays", manyNestedArrays, 1.25},
}

// Each worst case parses (mapped, as Open does) within its bound of a plain
// header of the same size: memory proportional to the header, by a small
// constant.
func TestWorstCaseHeadersAllocateInProportion(t *testing.T) {
	for _, c := range worstCases {
		for _, n := range []int{1 << 12, 1 << 14} {
			b := c.gen(n)
			worst, f := parseAllocs(t, b)
			plain, _ := parseAllocs(t, plainHeader(int(f.HeaderSize)))
			ratio := float64(worst) / float64(plain)
			t.Logf("%s, n=%d: header %d bytes, parse %d bytes, plain header %d: %.2fx", c.name, n, f.HeaderSize, worst, plain, ratio)
			if ratio > c.bound {
				t.Errorf("%s, n=%d: parse allocated %.2fx a plain header of the same size; bound %.2fx", c.name, n, ratio, c.bound)
			}
		}
	}
}

func BenchmarkWorstKeys(b *testing.B) {
	h := manyKeys(1 << 16)
	for b.Loop() {
		parseMapped(h, bytes.NewReader(h), int64(len(h)), false)
	}
}

func BenchmarkWorstNested(b *testing.B) {
	h := manyNestedArrays(1 << 16)
	for b.Loop() {
		parseMapped(h, bytes.NewReader(h), int64(len(h)), false)
	}
}

// TestWorstCaseHeadersFullSize parses each worst case at the size the limits
// allow (2^20 tensors, 2^20 keys, 2^26 empty strings, 2^20 nested arrays)
// and reports allocation and time against a plain header of the same size.
// Minutes and gigabytes of test data: only with GGUFS_STRESS=1 (make stress).
func TestWorstCaseHeadersFullSize(t *testing.T) {
	if os.Getenv("GGUFS_STRESS") != "1" {
		t.Skip("full-size worst cases run with GGUFS_STRESS=1 (make stress)")
	}
	for _, c := range []struct {
		name string
		gen  func(int) []byte
		n    int
	}{
		{"2^20 one-byte tensors", manyTensors, 1 << 20},
		{"2^20 one-byte metadata keys", manyKeys, 1 << 20},
		{"2^26 empty strings", manyEmptyStrings, 1 << 26},
		{"2^20 empty nested arrays", manyNestedArrays, 1 << 20},
	} {
		b := c.gen(c.n)
		start := time.Now()
		worst, f := parseAllocs(t, b)
		took := time.Since(start)
		start = time.Now()
		plain, _ := parseAllocs(t, plainHeader(int(f.HeaderSize)))
		plainTook := time.Since(start)
		t.Logf("%s: header %d MiB; parse allocated %.2fx the header, %.2fx a plain header; time %.2fx a plain header's (%v)",
			c.name, f.HeaderSize>>20, float64(worst)/float64(f.HeaderSize), float64(worst)/float64(plain),
			float64(took)/float64(plainTook), took.Round(time.Millisecond))
	}
}
