package gguf

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/edsrzf/mmap-go"
)

func writeTemp(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestOpenMapped(t *testing.T) {
	tf := typicalFile()
	path := writeTemp(t, "m.gguf", tf.bytes())
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if !f.Mapped() || f.MapError() != nil || f.Path != path {
		t.Fatalf("Mapped %v MapError %v Path %q", f.Mapped(), f.MapError(), f.Path)
	}
	checkMetadata(t, f, tf.kvs)
	checkTensors(t, f, tf.tensors)
	// Zero-copy: two calls see the same memory.
	b1, _ := f.TensorBytes(f.Tensors[1])
	b2, _ := f.TensorBytes(f.Tensors[1])
	if &b1[0] != &b2[0] || cap(b1) != len(b1) {
		t.Error("mapped TensorBytes copied, or its capacity reaches past the tensor")
	}
}

func TestOpenConcurrentReads(t *testing.T) {
	tf := typicalFile()
	f, err := Open(writeTemp(t, "c.gguf", tf.bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, ti := range f.Tensors {
				if _, err := f.TensorBytes(ti); err != nil {
					t.Error(err)
				}
				if _, ok := f.Tensor(ti.Name); !ok {
					t.Error("lookup failed")
				}
			}
			for _, v := range f.Metadata.All() {
				_ = v.Summary()
			}
		}()
	}
	wg.Wait()
}

// A file that shrinks under the mapping gives an error, not SIGBUS.
func TestOpenShrunkFile(t *testing.T) {
	path := writeTemp(t, "s.gguf", typicalFile().bytes())
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := os.Truncate(path, int64(f.DataOffset)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.TensorBytes(f.Tensors[0]); !errors.Is(err, ErrTruncated) {
		t.Fatalf("TensorBytes after truncation: %v", err)
	}
	r, err := f.TensorReader(f.Tensors[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Read(make([]byte, 8)); err == nil {
		t.Error("TensorReader read past the truncated end")
	}
}

func TestOpenErrors(t *testing.T) {
	if _, err := Open(filepath.Join(t.TempDir(), "missing.gguf")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	if _, err := Open(t.TempDir()); err == nil {
		t.Error("opened a directory")
	}
	b := typicalFile().bytes()
	b[0] = 'X'
	path := writeTemp(t, "bad.gguf", b)
	_, err := Open(path)
	var fe *FormatError
	if !errors.As(err, &fe) || fe.Path != path || !errors.Is(err, ErrBadMagic) {
		t.Errorf("bad magic through Open: %v", err)
	}
	// An empty file is truncated, and cannot be mapped.
	_, err = Open(writeTemp(t, "empty.gguf", nil))
	wantFormatError(t, err, ErrTruncated)
}

func TestOpenUnmappableFallsBack(t *testing.T) {
	tf := typicalFile()
	path := writeTemp(t, "p.gguf", tf.bytes())
	refuse := func(*os.File, int64) (mmap.MMap, error) { return nil, errors.New("no mmap here") }
	f, err := open(path, refuse, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Mapped() || f.MapError() == nil {
		t.Fatalf("Mapped %v MapError %v", f.Mapped(), f.MapError())
	}
	checkTensors(t, f, tf.tensors)
	if err := os.Truncate(path, int64(f.DataOffset)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.TensorBytes(f.Tensors[0]); !errors.Is(err, ErrTruncated) {
		t.Fatalf("pread TensorBytes after truncation: %v", err)
	}
	if _, err := mapFile(nil, 0); err == nil {
		t.Error("mapped an empty file")
	}
}

func TestCloseTwice(t *testing.T) {
	f, err := Open(writeTemp(t, "c2.gguf", typicalFile().bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := f.TensorBytes(f.Tensors[0]); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
}

// A file truncated under the mapping while its header is parsed gives
// ErrTruncated, not SIGBUS.
func TestParseMappedFault(t *testing.T) {
	b := manyPageHeader()
	path := writeTemp(t, "f.gguf", b)
	osf, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer osf.Close()
	m, err := mapFile(osf, int64(len(b)))
	if err != nil {
		t.Skipf("cannot map: %v", err)
	}
	defer m.Unmap()
	if err := os.Truncate(path, 4096); err != nil {
		t.Fatal(err)
	}
	_, _, err = parseMapped(m, osf, int64(len(b)), false)
	fe := wantFormatError(t, err, ErrTruncated)
	if fe.Offset < 4096 {
		t.Errorf("fault offset %d, want at or past the new end 4096", fe.Offset)
	}
}

// manyPageHeader is a file whose header spans many pages.
func manyPageHeader() []byte {
	strs := make([]string, 20000)
	for i := range strs {
		strs[i] = pseudoWord(i, 8)
	}
	arr, _ := NewStringArray(strs)
	return tfile{kvs: []KV{{"tokenizer.ggml.tokens", arr}}}.bytes()
}
