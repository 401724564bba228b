package hip

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// fileCopies writes data to a file and returns copies of odd ranges of it
// whose mapping is a decoy of zeros: only a pread of the file yields data.
func fileCopies(t *testing.T, g *GPU, data []byte) (*os.File, []Copy) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "src")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	decoy := make([]byte, len(data))
	_, copies := uploadCase(t, g, decoy)
	for i := range copies {
		mapped := copies[i].Src.Bytes()
		src, err := FileRange(f, int64(addressOf(mapped)-addressOf(decoy)), mapped)
		if err != nil {
			t.Fatal(err)
		}
		copies[i].Src = src
	}
	return f, copies
}

func TestGPUStagingReadsSourceFile(t *testing.T) {
	data := randomBytes(9, 2<<20)
	for _, path := range []string{PathStaged} {
		for _, noPread := range []bool{false, true} {
			cfg := withPath(path)
			cfg.NoPread = noPread
			g, f := newFakeGPU(t, cfg)
			_, copies := fileCopies(t, g, data)
			if err := g.Upload(context.Background(), copies); err != nil {
				t.Fatal(err)
			}
			checkIdle(t, g, f)
			for i, c := range copies {
				got := make([]byte, c.Src.Len())
				if err := g.Download(got, c.Dst); err != nil {
					t.Fatal(err)
				}
				_, off := c.Src.File()
				want := data[off : off+int64(c.Src.Len())]
				if noPread {
					want = c.Src.Bytes() // from the mapping: the decoy
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("%s (NoPread %v): copy %d of %d bytes came from the wrong source", path, noPread, i, c.Src.Len())
				}
			}
		}
	}
}

func TestGPUStagingFromTruncatedFileFails(t *testing.T) {
	g, f := newFakeGPU(t, withPath(PathStaged))
	file, copies := fileCopies(t, g, randomBytes(4, 1<<20))
	if err := os.Truncate(file.Name(), 100); err != nil {
		t.Fatal(err)
	}
	if err := g.Upload(context.Background(), copies); !errors.Is(err, ErrSourceFault) {
		t.Fatalf("upload from a truncated file: %v, want ErrSourceFault", err)
	}
	checkIdle(t, g, f)
}

// The host backend reads a copy's source file too, and a file cut short under
// it is ErrSourceFault, not a crash.
func TestHostUploadReadsSourceFile(t *testing.T) {
	data := randomBytes(5, 3<<20)
	path := filepath.Join(t.TempDir(), "src")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := NewHost(HostOptions{Capacity: 8 << 20})
	defer h.Close()
	p, err := h.Malloc(1 << 20)
	if err != nil {
		t.Fatal(err)
	}
	const off = 12345
	decoy := make([]byte, 1<<20)
	src, err := FileRange(f, off, decoy)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Upload(context.Background(), []Copy{{Dst: p, Src: src}}); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(decoy))
	if err := h.Download(got, p); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data[off:off+len(decoy)]) {
		t.Fatal("host upload did not read the source file")
	}
	if err := os.Truncate(path, off+100); err != nil {
		t.Fatal(err)
	}
	if err := h.Upload(context.Background(), []Copy{{Dst: p, Src: src}}); !errors.Is(err, ErrSourceFault) {
		t.Fatalf("upload from a truncated file: %v, want ErrSourceFault", err)
	}
	if _, err := FileRange(f, off, decoy); err == nil {
		t.Fatal("FileRange past the end of a truncated file: no error")
	}
}
