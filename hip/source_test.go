package hip

import (
	"os"
	"path/filepath"
	"testing"
)

func TestFileRangeDescribesOneRange(t *testing.T) {
	path := filepath.Join(t.TempDir(), "src")
	if err := os.WriteFile(path, make([]byte, 100), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	mapped := make([]byte, 40)
	s, err := FileRange(f, 60, mapped)
	if err != nil {
		t.Fatal(err)
	}
	if got, off := s.File(); got != f || off != 60 || s.Len() != 40 || &s.Bytes()[0] != &mapped[0] {
		t.Fatalf("FileRange(f, 60, 40 bytes) = file %v at %d, %d bytes", got, off, s.Len())
	}
	if _, err := FileRange(f, 61, mapped); err == nil {
		t.Error("a range past the file's end: no error")
	}
	if _, err := FileRange(f, -1, mapped); err == nil {
		t.Error("a negative offset: no error")
	}
	m, err := FileRange(nil, 0, mapped)
	if file, _ := m.File(); err != nil || file != nil || m.Len() != 40 {
		t.Errorf("FileRange with no file = %v (file %v), want a memory source", err, file)
	}
	if file, _ := Memory(mapped).File(); file != nil {
		t.Error("a memory source names a file")
	}
}
