package hip

import (
	"fmt"
	"os"
)

// Source is where one Copy's bytes come from, described once: host memory,
// or a range of an open file together with the same range of that file's
// mapping. The backend reads a file range by pread into its staging buffers
// (a first upload from a fresh mapping otherwise spends most of its time
// faulting the mapping's pages in) and uses the mapping where it copies or
// pins in place. The zero Source is empty.
type Source struct {
	mem  []byte   // the bytes; for a file range, that range of the file's mapping
	file *os.File // when set, mem[0] is at off in file
	off  int64
}

// Memory is a source of host bytes that no file backs.
func Memory(b []byte) Source { return Source{mem: b} }

// FileRange is the len(mapped) bytes at off in f, where mapped is that range
// of a mapping of f: the two are one description of the same bytes, so a
// caller takes both from one place (a shard and a tensor's offset in it).
// It fails when the range does not lie inside the file.
func FileRange(f *os.File, off int64, mapped []byte) (Source, error) {
	if f == nil {
		return Memory(mapped), nil
	}
	if off < 0 {
		return Source{}, fmt.Errorf("hip: source at offset %d of %s", off, f.Name())
	}
	fi, err := f.Stat()
	if err != nil {
		return Source{}, fmt.Errorf("hip: source file: %w", err)
	}
	if end := off + int64(len(mapped)); end > fi.Size() {
		return Source{}, fmt.Errorf("hip: source %d..%d past the end of %s (%d bytes)", off, end, f.Name(), fi.Size())
	}
	return Source{mem: mapped, file: f, off: off}, nil
}

// Len is the number of bytes the source holds.
func (s Source) Len() int { return len(s.mem) }

// Bytes is the source's bytes in host memory (for a file range, its mapping).
func (s Source) Bytes() []byte { return s.mem }

// File is the file and offset the bytes are at, f nil for a memory source.
func (s Source) File() (f *os.File, off int64) { return s.file, s.off }
