package gguf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"runtime/metrics"
	"slices"
	"testing"
)

var updateSeeds = flag.Bool("update-seeds", false, "rewrite gguf/testdata/*.gguf from the test encoder")

// seedFiles are the fuzz seeds kept in testdata/: small files covering
// versions, byte orders, alignments, every value type, unknown tensor types.
func seedFiles() map[string][]byte {
	seeds := map[string][]byte{}
	for _, v := range []uint32{1, 2, 3} {
		for _, o := range []binary.AppendByteOrder{binary.LittleEndian, binary.BigEndian} {
			tf := typicalFile()
			tf.version, tf.order = v, o
			name := "v" + string(rune('0'+v)) + map[bool]string{true: "le", false: "be"}[o == binary.LittleEndian]
			seeds[name+".gguf"] = tf.bytes()
		}
	}
	kvs := append(everyValue(), KV{"general.alignment", NewUint32(64)})
	seeds["align64.gguf"] = tfile{align: 64, kvs: kvs, tensors: sequential(64, typicalTensors()...)}.bytes()
	kvs = append(everyValue(), KV{"general.alignment", NewUint32(1)})
	seeds["align1.gguf"] = tfile{align: 1, kvs: kvs, tensors: sequential(1, typicalTensors()...)}.bytes()
	seeds["unknown-types.gguf"] = tfile{tensors: []tspec{
		{name: "a", dims: []uint64{32}, typ: TypeF32, offset: 0},
		{name: "fork", dims: []uint64{100}, typ: Type(142), offset: 128},
		{name: "old", dims: []uint64{32}, typ: Type(4), offset: 256},
	}, dataSize: 288}.bytes()
	seeds["empty.gguf"] = tfile{}.bytes()
	return seeds
}

// TestSeedFiles keeps testdata/ in step with the encoder (go test
// -run SeedFiles -update-seeds rewrites it) and checks every seed parses.
func TestSeedFiles(t *testing.T) {
	for name, b := range seedFiles() {
		path := filepath.Join("testdata", name)
		if *updateSeeds {
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run with -update-seeds)", err)
		}
		if !bytes.Equal(got, b) {
			t.Errorf("%s differs from the encoder's output (run with -update-seeds)", path)
		}
		if _, err := parseBytes(got); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func FuzzOpen(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "*.gguf"))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		before := allocatedBytes()
		file, err := parseBytes(data)
		allocated := allocatedBytes() - before
		// What a file can make the parser allocate is bounded by its size:
		// the read window, and per-entry structures a small multiple of
		// the bytes that declare them.
		if limit := uint64(64*len(data) + 1<<20); allocated > limit {
			t.Fatalf("parsing %d bytes allocated %d (limit %d)", len(data), allocated, limit)
		}
		if err != nil {
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("error is not a *FormatError: %v", err)
			}
			return
		}
		exerciseValues(t, file)
		checkBorrowed(t, data, file)
		if file.Alignment > 1<<16 && len(file.Tensors) == 0 {
			// The Writer pads the data section to the alignment; with no
			// tensors the original need not be, so the copy could be GBs.
			return
		}
		out := rewrite(t, file)
		again, err := parseBytes(out)
		if err != nil {
			t.Fatalf("re-encoded file does not parse: %v", err)
		}
		compareFiles(t, file, again)
	})
}

// checkBorrowed parses data as a mapping with arrays borrowed: the same
// metadata as file (parsed with copies), each borrowed array's bytes where
// it says they are in the file.
func checkBorrowed(t *testing.T, data []byte, file *File) {
	g, c, err := parseMapped(data, bytes.NewReader(data), int64(len(data)), true)
	if err != nil {
		t.Fatalf("parses with copies but not borrowing: %v", err)
	}
	for _, b := range c.borrowed {
		if b.off < 0 || b.off+int64(len(b.a.raw)) > int64(g.HeaderSize) ||
			!bytes.Equal(b.a.raw, data[b.off:b.off+int64(len(b.a.raw))]) {
			t.Fatalf("borrowed array at %d (%d bytes) is not the file's bytes there", b.off, len(b.a.raw))
		}
	}
	for i := 0; i < file.Metadata.Len(); i++ {
		x, y := file.Metadata.At(i), g.Metadata.At(i)
		if x.Key != y.Key || !x.Value.Equal(y.Value) {
			t.Fatalf("key %d: %q = %v copied, %q = %v borrowed", i, x.Key, x.Value, y.Key, y.Value)
		}
	}
}

// allocatedBytes is the bytes allocated so far by the process, read
// without stopping the world (unlike runtime.ReadMemStats).
func allocatedBytes() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// exerciseValues reads every value every way, which must not panic.
func exerciseValues(t *testing.T, f *File) {
	for _, v := range f.Metadata.All() {
		_ = v.Summary()
		if _, err := v.MarshalJSON(); err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := v.WriteText(&buf); err != nil {
			t.Fatal(err)
		}
		for i := range v.Len() { // string elements from their marks
			if _, err := v.Index(i); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, ti := range f.Tensors {
		if _, err := f.TensorBytes(ti); err != nil {
			t.Fatalf("tensor %q: %v", ti.Name, err)
		}
	}
}

// rewrite writes f back out through the Writer.
func rewrite(t *testing.T, f *File) []byte {
	md := make([]KV, f.Metadata.Len())
	for i := range md {
		md[i] = f.Metadata.At(i)
	}
	specs := make([]TensorSpec, len(f.Tensors))
	for i, ti := range f.Tensors {
		specs[i] = TensorSpec{Name: ti.Name, Type: ti.Type, Dims: ti.Dims}
		if !ti.Type.Known() {
			specs[i].Size = ti.Size
		}
	}
	var out bytes.Buffer
	w, err := NewWriter(&out, md, specs, WriterOptions{Version: f.Version, ByteOrder: f.ByteOrder, Alignment: f.Alignment})
	if err != nil {
		t.Fatalf("the Writer refuses what the reader accepted: %v", err)
	}
	for _, ti := range f.Tensors {
		b, err := f.TensorBytes(ti)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.WriteTensorBytes(ti.Name, b); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// compareFiles checks that b, re-encoded from a, reads the same: header
// fields, metadata in order, tensors and their bytes. A tensor of unknown
// type is compared up to its original size (the Writer pads it).
func compareFiles(t *testing.T, a, b *File) {
	if a.Version != b.Version || a.ByteOrder != b.ByteOrder || a.Alignment != b.Alignment {
		t.Fatalf("header: v%d %v align %d became v%d %v align %d", a.Version, a.ByteOrder, a.Alignment, b.Version, b.ByteOrder, b.Alignment)
	}
	if a.Metadata.Len() != b.Metadata.Len() {
		t.Fatalf("%d keys became %d", a.Metadata.Len(), b.Metadata.Len())
	}
	for i := 0; i < a.Metadata.Len(); i++ {
		x, y := a.Metadata.At(i), b.Metadata.At(i)
		if x.Key != y.Key || !x.Value.Equal(y.Value) {
			t.Fatalf("key %d: %q = %v became %q = %v", i, x.Key, x.Value, y.Key, y.Value)
		}
	}
	if len(a.Tensors) != len(b.Tensors) {
		t.Fatalf("%d tensors became %d", len(a.Tensors), len(b.Tensors))
	}
	for i, x := range a.Tensors {
		y := b.Tensors[i]
		if x.Name != y.Name || x.Type != y.Type || !slices.Equal(x.Dims, y.Dims) {
			t.Fatalf("tensor %d: %q %s %v became %q %s %v", i, x.Name, x.Type, x.Dims, y.Name, y.Type, y.Dims)
		}
		if x.Type.Known() && x.Size != y.Size || !x.Type.Known() && y.Size < x.Size {
			t.Fatalf("tensor %q: size %d became %d", x.Name, x.Size, y.Size)
		}
		xb, _ := a.TensorBytes(x)
		yb, _ := b.TensorBytes(y)
		if !bytes.Equal(xb, yb[:len(xb)]) {
			t.Fatalf("tensor %q: bytes differ", x.Name)
		}
	}
}
