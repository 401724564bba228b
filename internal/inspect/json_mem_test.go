package inspect

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/ggufs/ggufs/gguf"
	"github.com/ggufs/ggufs/synth"
)

// writeHeader writes a model of md and n one-byte tensors (holes) and
// opens it as inspect does.
func writeHeader(t *testing.T, md []gguf.KV, n int) (*gguf.Model, uint64) {
	t.Helper()
	specs := make([]gguf.TensorSpec, n)
	for i := range specs {
		specs[i] = gguf.TensorSpec{Name: fmt.Sprintf("t%d", i), Type: gguf.TypeI8, Dims: []uint64{1}}
	}
	path := filepath.Join(t.TempDir(), "m.gguf")
	st, err := synth.WriteSparse(path, md, specs)
	if err != nil {
		t.Fatal(err)
	}
	m, err := gguf.OpenModelWith(path, gguf.Options{BorrowArrays: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m, st.DataOffset
}

// allocated is the bytes the heap allocated while f ran.
func allocated(f func()) uint64 {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// inspect --json allocates in all (an upper bound on what it holds at once)
// at most bound times the header's size for each worst case, where building
// the report and encoding it allocated 12 to 96 times the header: rows and
// elements are written from reused buffers. Nested arrays are the
// exception: gguf's Value.Index makes each inner array's value anew (about
// 170 bytes, garbage at once, never held together), 16x the header in all.
func TestWriteJSONAllocatesLessThanTheHeader(t *testing.T) {
	const n = 1 << 15
	emptyStrings, err := gguf.NewStringArray(make([]string, 8*n))
	if err != nil {
		t.Fatal(err)
	}
	empties := make([]gguf.Value, n)
	for i := range empties {
		empties[i] = gguf.NewUint8Array(nil)
	}
	nested, err := gguf.NewArray(gguf.ValueArray, empties)
	if err != nil {
		t.Fatal(err)
	}
	keys := make([]gguf.KV, n)
	for i := range keys {
		keys[i] = gguf.KV{Key: fmt.Sprintf("k%d", i), Value: gguf.NewUint8(1)}
	}
	for _, c := range []struct {
		name    string
		md      []gguf.KV
		tensors int
		bound   float64
	}{
		{"2^15 one-byte tensors", nil, n, 1},
		{"2^15 one-byte keys", keys, 0, 1.5},
		{"2^18 empty strings", []gguf.KV{{Key: "k", Value: emptyStrings}}, 0, 1},
		{"2^15 empty nested arrays", []gguf.KV{{Key: "k", Value: nested}}, 0, 20},
	} {
		m, header := writeHeader(t, c.md, c.tensors)
		var werr error
		streamed := allocated(func() { werr = WriteJSON(io.Discard, "m.gguf", m, 0) })
		if werr != nil {
			t.Fatal(werr)
		}
		built := allocated(func() {
			r, err := New("m.gguf", m, true, 0)
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			enc := json.NewEncoder(&b)
			enc.SetIndent("", "  ")
			if err := enc.Encode(r); err != nil {
				t.Fatal(err)
			}
		})
		ratio := float64(streamed) / float64(header)
		if raceBuild {
			c.bound *= 8 // encoding/json's pooled buffers are dropped at random
		}
		t.Logf("%s: header %d bytes; WriteJSON allocated %.2fx the header, building and encoding the report %.2fx",
			c.name, header, ratio, float64(built)/float64(header))
		if ratio > c.bound {
			t.Errorf("%s: WriteJSON allocated %.2fx the header; bound %.2fx", c.name, ratio, c.bound)
		}
	}
}

// manyEmptyStringsFile writes a header of one array of n empty strings by
// hand (building it as a Value would take 16 bytes a string) and opens it.
func manyEmptyStringsFile(t *testing.T, n int) (*gguf.Model, uint64) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "strings.gguf")
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	bw := bufio.NewWriter(out)
	le := binary.LittleEndian
	bw.WriteString("GGUF")
	for _, x := range []any{uint32(3), uint64(0), uint64(1), uint64(1), byte('k'), uint32(gguf.ValueArray), uint32(gguf.ValueString), uint64(n)} {
		binary.Write(bw, le, x)
	}
	zero := make([]byte, 8)
	for range n {
		bw.Write(zero)
	}
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
	st, _ := out.Stat()
	out.Close()
	m, err := gguf.OpenModelWith(path, gguf.Options{BorrowArrays: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m, uint64(st.Size())
}

// TestWriteJSONFullSize writes inspect --json of each worst case at the
// size the limits allow and reports allocation and time against a plain
// header of the same size. Only with GGUFS_STRESS=1 (make stress).
func TestWriteJSONFullSize(t *testing.T) {
	if os.Getenv("GGUFS_STRESS") != "1" {
		t.Skip("full-size worst cases run with GGUFS_STRESS=1 (make stress)")
	}
	const n = 1 << 20
	run := func(m *gguf.Model) (uint64, time.Duration) {
		start := time.Now()
		var err error
		a := allocated(func() { err = WriteJSON(io.Discard, "m.gguf", m, 0) })
		if err != nil {
			t.Fatal(err)
		}
		return a, time.Since(start)
	}
	for _, c := range []struct {
		name string
		open func() (*gguf.Model, uint64)
	}{
		{"2^20 one-byte tensors", func() (*gguf.Model, uint64) { return writeHeader(t, nil, n) }},
		{"2^20 one-byte keys", func() (*gguf.Model, uint64) {
			keys := make([]gguf.KV, n)
			for i := range keys {
				keys[i] = gguf.KV{Key: fmt.Sprintf("k%d", i), Value: gguf.NewUint8(1)}
			}
			return writeHeader(t, keys, 0)
		}},
		{"2^26 empty strings", func() (*gguf.Model, uint64) { return manyEmptyStringsFile(t, 1<<26) }},
		{"2^20 empty nested arrays", func() (*gguf.Model, uint64) {
			empties := make([]gguf.Value, n)
			for i := range empties {
				empties[i] = gguf.NewUint8Array(nil)
			}
			nested, err := gguf.NewArray(gguf.ValueArray, empties)
			if err != nil {
				t.Fatal(err)
			}
			return writeHeader(t, []gguf.KV{{Key: "k", Value: nested}}, 0)
		}},
	} {
		m, header := c.open()
		worst, took := run(m)
		plain, _ := writeHeader(t, []gguf.KV{{Key: "k", Value: gguf.NewString(strings.Repeat("x", int(header)))}}, 0)
		plainAlloc, plainTook := run(plain)
		t.Logf("%s: header %d MiB; WriteJSON allocated %.2fx the header (a plain header's: %.2fx), took %v, %.2fx a plain header's %v",
			c.name, header>>20, float64(worst)/float64(header), float64(plainAlloc)/float64(header),
			took.Round(time.Millisecond), float64(took)/float64(plainTook), plainTook.Round(time.Millisecond))
	}
}
