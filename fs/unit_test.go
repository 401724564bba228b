package fs

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"log"
	"syscall"
	"testing"

	"github.com/ggufs/ggufs/cache"
	"github.com/ggufs/ggufs/gguf"
	"github.com/ggufs/ggufs/hip"
)

func TestXattrReply(t *testing.T) {
	v := []byte("q4_K")
	if n, errno := xattrReply(nil, v); n != 4 || errno != syscall.ERANGE {
		t.Errorf("size query = %d, %v; want 4, ERANGE (go-fuse reports the size)", n, errno)
	}
	if n, errno := xattrReply(make([]byte, 3), v); n != 4 || errno != syscall.ERANGE {
		t.Errorf("short buffer = %d, %v; want 4, ERANGE", n, errno)
	}
	dest := make([]byte, 10)
	if n, errno := xattrReply(dest, v); n != 4 || errno != 0 || !bytes.Equal(dest[:4], v) {
		t.Errorf("copy = %d, %v, %q", n, errno, dest[:n])
	}
}

func TestValidName(t *testing.T) {
	for _, bad := range []string{"", ".", "..", "a/b", "/", "../x", "a\x00b", string(make([]byte, 256))} {
		if validName(bad) {
			t.Errorf("validName(%q) = true", bad)
		}
	}
	for _, good := range []string{"blk.0.attn_q.weight", "...", "a..b", "ünï", string(bytes.Repeat([]byte("x"), 255))} {
		if !validName(good) {
			t.Errorf("validName(%q) = false", good)
		}
	}
}

func TestToErrno(t *testing.T) {
	var logged bytes.Buffer
	logger := log.New(&logged, "", 0)
	cases := []struct {
		err  error
		want syscall.Errno
	}{
		{fmt.Errorf("x: %w", cache.ErrNoSpace), syscall.ENOMEM},
		{fmt.Errorf("%w: %w", cache.ErrNoSpace, hip.ErrOutOfMemory), syscall.ENOMEM},
		{cache.ErrNotFound, syscall.ENOENT},
		{fmt.Errorf("x: %w", cache.ErrPinned), syscall.EBUSY},
		{context.Canceled, syscall.EINTR},
		{fmt.Errorf("x: %w", context.DeadlineExceeded), syscall.EINTR},
		{fmt.Errorf("upload: %w: %w", cache.ErrSourceFault, hip.ErrSourceFault), syscall.EIO},
		{fmt.Errorf("x: %w", gguf.ErrTruncated), syscall.EIO},
		{fmt.Errorf("%w: %w", cache.ErrDevice, &hip.RuntimeError{Call: "cudaMemcpy", Code: 700}), syscall.EIO},
		{fmt.Errorf("%w: %w", cache.ErrDevice, hip.ErrOutOfMemory), syscall.EIO}, // a device error is not ENOMEM unless the cache says so
		{fmt.Errorf("pread: %w", syscall.EACCES), syscall.EACCES},
		{errors.New("something new"), syscall.EIO},
	}
	for _, c := range cases {
		if got := toErrno(logger, "read", "t", c.err); got != c.want {
			t.Errorf("toErrno(%v) = %v, want %v", c.err, got, c.want)
		}
	}
	for _, want := range []string{`fs: read "t": something new`, `fs: read "t": x: gguf: `} {
		if !bytes.Contains(logged.Bytes(), []byte(want)) {
			t.Errorf("an EIO was not logged with op and tensor (%q): %q", want, logged.String())
		}
	}
	if bytes.Contains(logged.Bytes(), []byte("ENOMEM")) || bytes.Contains(logged.Bytes(), []byte("pinned")) {
		t.Errorf("a condition with its own errno was logged: %q", logged.String())
	}
}

// parseNpy reads back a header the way numpy does: magic, version, length,
// then a dict literal padded to the alignment.
func parseNpy(t *testing.T, h []byte) string {
	t.Helper()
	if !bytes.HasPrefix(h, []byte("\x93NUMPY\x01\x00")) {
		t.Fatalf("bad magic/version: %q", h[:8])
	}
	n := int(binary.LittleEndian.Uint16(h[8:10]))
	if 10+n != len(h) || len(h)%npyAlign != 0 || h[len(h)-1] != '\n' {
		t.Fatalf("header length %d (field %d) not aligned to %d or not ending in newline", len(h), n, npyAlign)
	}
	return string(bytes.TrimRight(h[10:], " \n"))
}

func TestNpyHeader(t *testing.T) {
	cases := []struct {
		typ   gguf.Type
		dims  []uint64
		order binary.ByteOrder
		want  string
	}{
		{gguf.TypeF32, []uint64{4096, 32000}, binary.LittleEndian, "{'descr': '<f4', 'fortran_order': False, 'shape': (32000, 4096), }"},
		{gguf.TypeF16, []uint64{7}, binary.LittleEndian, "{'descr': '<f2', 'fortran_order': False, 'shape': (7,), }"},
		{gguf.TypeF32, nil, binary.LittleEndian, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }"},
		{gguf.TypeI8, []uint64{2, 3, 4, 5}, binary.BigEndian, "{'descr': '|i1', 'fortran_order': False, 'shape': (5, 4, 3, 2), }"},
		{gguf.TypeI64, []uint64{3}, binary.BigEndian, "{'descr': '>i8', 'fortran_order': False, 'shape': (3,), }"},
		{gguf.TypeF64, []uint64{1, 1}, binary.LittleEndian, "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 1), }"},
		// numpy has no bfloat16: the elements are their uint16 bits (docs/views.md).
		{gguf.TypeBF16, []uint64{8, 2}, binary.LittleEndian, "{'descr': '<u2', 'fortran_order': False, 'shape': (2, 8), }"},
	}
	for _, c := range cases {
		h, ok := npyHeader(c.typ, c.dims, c.order)
		if !ok {
			t.Fatalf("%v: no header", c.typ)
		}
		if got := parseNpy(t, h); got != c.want {
			t.Errorf("%v %v: %s, want %s", c.typ, c.dims, got, c.want)
		}
	}
	for _, typ := range []gguf.Type{gguf.TypeQ4_K, gguf.TypeQ8_0, gguf.Type(142)} {
		if _, ok := npyHeader(typ, []uint64{32}, binary.LittleEndian); ok {
			t.Errorf("%v has an npy header; numpy has no such type", typ)
		}
	}
}

// Each load of every tensor reports its own bytes from zero, never the
// last one's, and its progress never goes back.
func TestLoadAllReportStartsFromZero(t *testing.T) {
	var l loadAllState
	if l.status() != nil {
		t.Fatal("a report before any load")
	}
	l.begin(func() {}, 1)
	l.progress(300, 500)
	l.progress(200, 500)
	if s := l.status(); s.BytesDone != 300 || s.BytesTotal != 500 || !s.Running || s.Skipped != 1 {
		t.Fatalf("first load: %+v", *s)
	}
	l.progress(500, 500)
	l.report.Running = false
	l.begin(func() {}, 0)
	if s := l.status(); s.BytesDone != 0 || !s.Running {
		t.Errorf("second load starts at %+v, want 0 bytes done, running", *s)
	}
}
