package gguf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"runtime"
	"testing"
	"unsafe"

	"github.com/edsrzf/mmap-go"
)

// Borrowed arrays read the same as copied ones, point into the header
// mapping rather than the heap, and stay readable after Close (the mapping
// lives while they do).
func TestBorrowArrays(t *testing.T) {
	tf := typicalFile()
	path := writeTemp(t, "b.gguf", manyPageHeader())
	f, err := OpenWith(path, Options{BorrowArrays: true})
	if err != nil {
		t.Fatal(err)
	}
	toks, err := f.Metadata.Array("tokenizer.ggml.tokens")
	if err != nil {
		t.Fatal(err)
	}
	if toks.arr.keep == nil || !inside(toks.arr.raw, toks.arr.keep.b) {
		t.Fatal("the string array was copied, not borrowed")
	}
	if uint64(len(toks.arr.keep.b)) != f.HeaderSize {
		t.Errorf("header mapping of %d bytes for a %d-byte header", len(toks.arr.keep.b), f.HeaderSize)
	}
	want, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer want.Close()
	wantToks, _ := want.Metadata.Array("tokenizer.ggml.tokens")
	if wantToks.arr.keep != nil {
		t.Fatal("Open borrowed")
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	f = nil
	runtime.GC()
	runtime.GC()
	if !toks.Equal(wantToks) || toks.Len() != 20000 {
		t.Fatal("borrowed array differs after Close")
	}
	var got, exp bytes.Buffer
	if err := toks.WriteText(&got); err != nil {
		t.Fatal(err)
	}
	wantToks.WriteText(&exp)
	if !bytes.Equal(got.Bytes(), exp.Bytes()) {
		t.Error("WriteText of the borrowed array differs")
	}

	// Every value type, borrowed, equals what was written.
	g, err := OpenWith(writeTemp(t, "t.gguf", tf.bytes()), Options{BorrowArrays: true})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	checkMetadata(t, g, tf.kvs)
	checkTensors(t, g, tf.tensors)
}

// inside reports whether b lies within m.
func inside(b, m []byte) bool {
	p, lo := uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(unsafe.Pointer(unsafe.SliceData(m)))
	return p >= lo && p+uintptr(len(b)) <= lo+uintptr(len(m))
}

// With BorrowArrays, a file that cannot be mapped is parsed by copying, as
// without the option.
func TestBorrowFallback(t *testing.T) {
	tf := typicalFile()
	path := writeTemp(t, "p.gguf", tf.bytes())
	refuse := func(*os.File, int64) (mmap.MMap, error) { return nil, errors.New("no mmap here") }
	f, err := open(path, refuse, Options{BorrowArrays: true})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	checkMetadata(t, f, tf.kvs)
	for _, v := range f.Metadata.All() {
		if v.arr != nil && v.arr.keep != nil {
			t.Error("borrowed without a mapping")
		}
	}
}

// Every element of a parsed string array is found from its mark, in each
// length size and byte order, through the mapping and through reads (the
// array spans several read windows).
func TestStringArrayMarks(t *testing.T) {
	strs := make([]string, 30000)
	for i := range strs {
		strs[i] = pseudoWord(i, i%37) // empty strings too
	}
	arr, _ := NewStringArray(strs)
	for _, tf := range []tfile{
		{kvs: []KV{{"a", arr}}},
		{version: 1, kvs: []KV{{"a", arr}}},
		{order: binary.BigEndian, kvs: []KV{{"a", arr}}},
	} {
		b := tf.bytes()
		mapped, err := OpenWith(writeTemp(t, "m.gguf", b), Options{BorrowArrays: true})
		if err != nil {
			t.Fatal(err)
		}
		defer mapped.Close()
		read, err := NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range []*File{mapped, read} {
			v, _ := f.Metadata.Array("a")
			for i, want := range strs {
				if e, err := v.Index(i); err != nil || e.str != want {
					t.Fatalf("v%d %v: element %d is %q (%v), want %q", f.Version, f.ByteOrder, i, e.str, err, want)
				}
			}
			if !v.Equal(arr) || !arr.Equal(v) {
				t.Errorf("v%d %v: not equal to the array written", f.Version, f.ByteOrder)
			}
		}
	}
}
