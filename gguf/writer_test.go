package gguf

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func twoTensors() []TensorSpec {
	return []TensorSpec{
		{Name: "a", Type: TypeF32, Dims: []uint64{4}},
		{Name: "b", Type: TypeQ8_0, Dims: []uint64{32, 2}},
	}
}

func TestWriterRejectsBadInput(t *testing.T) {
	cases := []struct {
		name  string
		md    []KV
		specs []TensorSpec
		opts  WriterOptions
		want  error
	}{
		{"duplicate tensor", nil, []TensorSpec{{Name: "a", Type: TypeF32, Dims: []uint64{1}}, {Name: "a", Type: TypeF32, Dims: []uint64{1}}}, WriterOptions{}, ErrDuplicate},
		{"duplicate key", []KV{{"k", NewUint8(1)}, {"k", NewUint8(2)}}, nil, WriterOptions{}, ErrDuplicate},
		{"empty name", nil, []TensorSpec{{Name: "", Type: TypeF32, Dims: []uint64{1}}}, WriterOptions{}, ErrBadName},
		{"NUL in name", nil, []TensorSpec{{Name: "a\x00", Type: TypeF32, Dims: []uint64{1}}}, WriterOptions{}, ErrBadName},
		{"invalid UTF-8 name", nil, []TensorSpec{{Name: "a\xff", Type: TypeF32, Dims: []uint64{1}}}, WriterOptions{}, ErrBadName},
		{"65-byte name", nil, []TensorSpec{{Name: strings.Repeat("x", 65), Type: TypeF32, Dims: []uint64{1}}}, WriterOptions{}, ErrBadName},
		{"five dims", nil, []TensorSpec{{Name: "a", Type: TypeF32, Dims: []uint64{1, 1, 1, 1, 1}}}, WriterOptions{}, ErrDims},
		{"zero dim", nil, []TensorSpec{{Name: "a", Type: TypeF32, Dims: []uint64{4, 0}}}, WriterOptions{}, ErrDims},
		{"ne0 not a block multiple", nil, []TensorSpec{{Name: "a", Type: TypeQ4_K, Dims: []uint64{100}}}, WriterOptions{}, ErrDims},
		{"overflowing dims", nil, []TensorSpec{{Name: "a", Type: TypeF32, Dims: []uint64{1 << 32, 1 << 32}}}, WriterOptions{}, ErrDims},
		{"unknown type without size", nil, []TensorSpec{{Name: "a", Type: 142, Dims: []uint64{4}}}, WriterOptions{}, ErrDims},
		{"unknown type, elements overflow", nil, []TensorSpec{{Name: "a", Type: 142, Dims: []uint64{1 << 62, 4}, Size: 32}}, WriterOptions{}, ErrOverflow},
		{"size disagrees", nil, []TensorSpec{{Name: "a", Type: TypeF32, Dims: []uint64{4}, Size: 17}}, WriterOptions{}, ErrWriteSize},
		{"version 4", nil, nil, WriterOptions{Version: 4}, ErrVersion},
		{"alignment 0 in metadata", []KV{{"general.alignment", NewUint32(0)}}, nil, WriterOptions{}, ErrAlignment},
		{"alignment 48", nil, nil, WriterOptions{Alignment: 48}, ErrAlignment},
		{"alignment 2^32", nil, nil, WriterOptions{Alignment: 1 << 32}, ErrAlignment},
		{"alignment as uint64", []KV{{"general.alignment", NewUint64(64)}}, nil, WriterOptions{}, ErrAlignment},
		{"alignment disagrees", []KV{{"general.alignment", NewUint32(64)}}, nil, WriterOptions{Alignment: 128}, ErrAlignment},
		{"v1 dim over 32 bits", nil, []TensorSpec{{Name: "a", Type: TypeI8, Dims: []uint64{1 << 33}}}, WriterOptions{Version: 1}, ErrDims},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			_, err := NewWriter(&buf, c.md, c.specs, c.opts)
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
			if buf.Len() != 0 {
				t.Errorf("wrote %d bytes before failing", buf.Len())
			}
		})
	}
}

func newTestWriter(t *testing.T, dst io.Writer) *Writer {
	t.Helper()
	w, err := NewWriter(dst, nil, twoTensors(), WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestWriterOrderAndSizeErrors(t *testing.T) {
	t.Run("out of order", func(t *testing.T) {
		w := newTestWriter(t, io.Discard)
		if err := w.WriteTensorBytes("b", make([]byte, 68)); !errors.Is(err, ErrWriteOrder) {
			t.Fatalf("got %v, want ErrWriteOrder", err)
		}
		// A refused call leaves the Writer usable.
		if err := w.WriteTensorBytes("a", make([]byte, 16)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("unknown name", func(t *testing.T) {
		w := newTestWriter(t, io.Discard)
		if err := w.WriteTensor("zzz", bytes.NewReader(nil)); !errors.Is(err, ErrWriteOrder) {
			t.Fatalf("got %v, want ErrWriteOrder", err)
		}
	})
	t.Run("after the last", func(t *testing.T) {
		w := newTestWriter(t, io.Discard)
		w.WriteTensorBytes("a", make([]byte, 16))
		w.WriteTensorBytes("b", make([]byte, 68))
		if err := w.WriteTensorBytes("a", make([]byte, 16)); !errors.Is(err, ErrWriteOrder) {
			t.Fatalf("got %v, want ErrWriteOrder", err)
		}
	})
	t.Run("wrong length bytes", func(t *testing.T) {
		w := newTestWriter(t, io.Discard)
		if err := w.WriteTensorBytes("a", make([]byte, 15)); !errors.Is(err, ErrWriteSize) {
			t.Fatalf("got %v, want ErrWriteSize", err)
		}
	})
	t.Run("short reader", func(t *testing.T) {
		w := newTestWriter(t, io.Discard)
		if err := w.WriteTensor("a", bytes.NewReader(make([]byte, 15))); !errors.Is(err, ErrWriteSize) {
			t.Fatalf("got %v, want ErrWriteSize", err)
		}
		if err := w.Close(); !errors.Is(err, ErrWriteClosed) {
			t.Fatalf("Close after a failed write: got %v, want ErrWriteClosed", err)
		}
	})
	t.Run("long reader", func(t *testing.T) {
		w := newTestWriter(t, io.Discard)
		if err := w.WriteTensor("a", bytes.NewReader(make([]byte, 17))); !errors.Is(err, ErrWriteSize) {
			t.Fatalf("got %v, want ErrWriteSize", err)
		}
	})
	t.Run("short plain reader", func(t *testing.T) {
		w := newTestWriter(t, io.Discard)
		if err := w.WriteTensor("a", struct{ io.Reader }{bytes.NewReader(make([]byte, 15))}); !errors.Is(err, ErrWriteSize) {
			t.Fatalf("got %v, want ErrWriteSize", err)
		}
	})
	t.Run("long plain reader", func(t *testing.T) {
		w := newTestWriter(t, io.Discard)
		if err := w.WriteTensor("a", struct{ io.Reader }{bytes.NewReader(make([]byte, 17))}); !errors.Is(err, ErrWriteSize) {
			t.Fatalf("got %v, want ErrWriteSize", err)
		}
	})
	t.Run("close early", func(t *testing.T) {
		w := newTestWriter(t, io.Discard)
		w.WriteTensorBytes("a", make([]byte, 16))
		if err := w.Close(); !errors.Is(err, ErrWriteIncomplete) {
			t.Fatalf("got %v, want ErrWriteIncomplete", err)
		}
	})
	t.Run("skip without seeker", func(t *testing.T) {
		w := newTestWriter(t, &bytes.Buffer{})
		if err := w.SkipTensor("a"); !errors.Is(err, ErrWriteNoSeek) {
			t.Fatalf("got %v, want ErrWriteNoSeek", err)
		}
	})
	t.Run("destination fails", func(t *testing.T) {
		w, err := NewWriter(&failAfter{n: 1 << 20}, nil, twoTensors(), WriterOptions{})
		if err != nil {
			t.Fatal(err)
		}
		w.dst = &failAfter{} // fail from now on
		if err := w.WriteTensorBytes("a", make([]byte, 16)); !errors.Is(err, errDiskFull) {
			t.Fatalf("got %v, want the destination's error", err)
		}
	})
}

var errDiskFull = errors.New("disk full")

// failAfter accepts n bytes, then fails.
type failAfter struct{ n int }

func (f *failAfter) Write(p []byte) (int, error) {
	if len(p) > f.n {
		return 0, errDiskFull
	}
	f.n -= len(p)
	return len(p), nil
}

// TestWriterStreams writes a tensor far larger than the Writer's buffer
// from a reader that produces it on the fly, and checks every byte.
func TestWriterStreams(t *testing.T) {
	const ne0 = 3 << 20 // 12 MiB of f32, three copy buffers' worth
	specs := []TensorSpec{{Name: "big", Type: TypeF32, Dims: []uint64{ne0}}, {Name: "tail", Type: TypeF32, Dims: []uint64{1}}}
	var buf bytes.Buffer
	w, err := NewWriter(&buf, nil, specs, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteTensor("big", &countingReader{n: 4 * ne0}); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteTensorBytes("tail", []byte{1, 2, 3, 4}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	data, _ := f.TensorBytes(f.Tensors[0])
	for i, b := range data {
		if b != byte(i%251) {
			t.Fatalf("byte %d = %d, want %d", i, b, byte(i%251))
		}
	}
}

// countingReader yields byte i%251 at position i, n bytes in all, in
// uneven pieces.
type countingReader struct{ off, n int }

func (r *countingReader) Read(p []byte) (int, error) {
	if r.off >= r.n {
		return 0, io.EOF
	}
	k := min(len(p), r.n-r.off, 1000003)
	for i := range p[:k] {
		p[i] = byte((r.off + i) % 251)
	}
	r.off += k
	return k, nil
}

// TestWriterSparse skips every tensor: the file has its full size, reads
// back as zeros, parses, and takes (almost) no disk blocks.
func TestWriterSparse(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sparse.gguf")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	specs := []TensorSpec{
		{Name: "x", Type: TypeF32, Dims: []uint64{64 << 20}}, // 256 MiB hole
		{Name: "y", Type: TypeF32, Dims: []uint64{3}},
	}
	w, err := NewWriter(f, []KV{{"general.architecture", NewString("hole")}}, specs, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, ti := range w.Tensors() {
		if err := w.SkipTensor(ti.Name); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if uint64(st.Size()) != w.Size() {
		t.Fatalf("file is %d bytes, want %d", st.Size(), w.Size())
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && sys.Blocks*512 > 1<<20 {
		t.Errorf("sparse file uses %d bytes of disk, want < 1 MiB", sys.Blocks*512)
	}
	g, err := NewReader(f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	data, err := g.TensorBytes(g.Tensors[1])
	if err != nil || !bytes.Equal(data, make([]byte, 12)) {
		t.Fatalf("hole reads %v, %v; want zeros", data, err)
	}
}

// TestWriterHoleThenData mixes skipped and written tensors: the written
// ones land at their offsets after the holes.
func TestWriterHoleThenData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mixed.gguf")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	specs := []TensorSpec{
		{Name: "hole", Type: TypeF32, Dims: []uint64{1000}},
		{Name: "data", Type: TypeI8, Dims: []uint64{5}},
		{Name: "end", Type: TypeI8, Dims: []uint64{3}},
	}
	w, err := NewWriter(f, nil, specs, WriterOptions{Alignment: 64})
	if err != nil {
		t.Fatal(err)
	}
	steps := []error{w.SkipTensor("hole"), w.WriteTensorBytes("data", []byte{1, 2, 3, 4, 5}), w.SkipTensor("end"), w.Close()}
	for i, err := range steps {
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	g, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if uint64(g.Size) != w.Size() {
		t.Errorf("file is %d bytes, want %d", g.Size, w.Size())
	}
	got, err := g.TensorBytes(g.Tensors[1])
	if err != nil || !bytes.Equal(got, []byte{1, 2, 3, 4, 5}) {
		t.Errorf("data tensor = %v, %v", got, err)
	}
}

func TestWriterRejectsBadKeysAndNesting(t *testing.T) {
	deep := NewUint8Array(nil)
	for i := 0; i < maxArrayDepth; i++ {
		next, err := NewArray(ValueArray, []Value{deep})
		if err != nil {
			t.Fatal(err)
		}
		deep = next
	}
	cases := []struct {
		name string
		md   []KV
		want error
	}{
		{"empty key", []KV{{"", NewUint8(1)}}, ErrBadName},
		{"invalid UTF-8 key", []KV{{"k\xfe", NewUint8(1)}}, ErrBadName},
		{"too deep", []KV{{"deep", deep}}, ErrNesting},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := NewWriter(io.Discard, c.md, nil, WriterOptions{}); !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
	// One level less is what the reader accepts, so the Writer writes it.
	inner, _ := deep.Index(0)
	file := rtWrite(t, []KV{{"deep", inner}}, nil, WriterOptions{})
	if _, err := NewReader(bytes.NewReader(file), int64(len(file))); err != nil {
		t.Fatalf("reader refuses the deepest nesting the Writer writes: %v", err)
	}
}

// TestWriterHugeAlignment: padding to a 1 GiB alignment becomes holes on a
// file rather than gigabytes of zeros, and the file still parses.
func TestWriterHugeAlignment(t *testing.T) {
	path := filepath.Join(t.TempDir(), "aligned.gguf")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	specs := []TensorSpec{{Name: "a", Type: TypeI8, Dims: []uint64{3}}, {Name: "b", Type: TypeI8, Dims: []uint64{2}}}
	w, err := NewWriter(f, nil, specs, WriterOptions{Alignment: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteTensorBytes("a", []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteTensorBytes("b", []byte{4, 5}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	st, _ := f.Stat()
	if uint64(st.Size()) != 3<<30 {
		t.Errorf("file is %d bytes, want 3 GiB (header, a, b each padded to 1 GiB)", st.Size())
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && sys.Blocks*512 > 1<<20 {
		t.Errorf("padding took %d bytes of disk", sys.Blocks*512)
	}
	g, err := NewReader(f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	got, err := g.TensorBytes(g.Tensors[1])
	if err != nil || !bytes.Equal(got, []byte{4, 5}) {
		t.Errorf("tensor b = %v, %v", got, err)
	}
}
