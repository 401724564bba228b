package gguf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
)

// changingReader serves b, except that a read big enough to be the copy of
// a whole string array (after its lengths were checked) sees the first
// length changed to 1 GiB: a file rewritten in place during the parse.
type changingReader struct{ b []byte }

func (r *changingReader) ReadAt(p []byte, off int64) (int, error) {
	n := copy(p, r.b[off:])
	if len(p) > 300<<10 {
		binary.LittleEndian.PutUint64(p, 1<<30)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// Strings whose lengths changed after they were checked read as wrong
// strings, never as an index panic (which nothing above would recover).
func TestStringArrayChangedAfterParseDoesNotPanic(t *testing.T) {
	strs := make([]string, 40000)
	for i := range strs {
		strs[i] = "abcdefgh"
	}
	tok, err := NewStringArray(strs)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w, err := NewWriter(&buf, []KV{{Key: "tok", Value: tok}}, nil, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := NewReader(&changingReader{b: buf.Bytes()}, int64(buf.Len()))
	if err != nil {
		// Catching the change at parse time is as good.
		var fe *FormatError
		if !errors.As(err, &fe) {
			t.Fatalf("parse: %v (%T), want a *FormatError", err, err)
		}
		return
	}
	v, err := f.Metadata.Array("tok")
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, 1, 17, v.Len() - 1} {
		if _, err := v.Index(i); err != nil {
			t.Logf("Index(%d): %v", i, err)
		}
	}
	var text bytes.Buffer
	_ = v.WriteText(&text)
	_, _ = v.MarshalJSON()
}
