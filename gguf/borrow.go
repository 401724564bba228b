package gguf

import (
	"os"
	"runtime"

	"github.com/edsrzf/mmap-go"
)

// Options change how OpenWith and OpenModelWith read a file.
type Options struct {
	// BorrowArrays leaves the elements of metadata arrays (vocabularies,
	// merges, scores) in a read-only mapping of the file's header rather
	// than copying them to the heap. The header is parsed and validated in
	// full either way, and Values behave the same, also after Close: the
	// mapping stays until no Value refers to it. What it saves is the copy,
	// which in a fresh process costs more than the parse (every page of the
	// copy is new memory; the mapping's pages are already in the page
	// cache). What it risks: reading a borrowed element faults if the file
	// shrinks meanwhile, as reading a TensorBytes slice does, so a caller
	// that must survive that reads under runtime/debug.SetPanicOnFault.
	// Meant for short-lived readers (ggufs inspect); ignored when the file
	// cannot be mapped.
	BorrowArrays bool
}

// OpenWith is Open with options.
func OpenWith(path string, o Options) (*File, error) { return open(path, mapFile, o) }

// headerMapping is a read-only mapping of the start of a file (as much as
// a header may take) that borrowed arrays point into. It is unmapped once
// it is unreachable: every borrowed array holds it, and the accessors that
// read an array's bytes keep the array alive until they are done.
type headerMapping struct {
	b mmap.MMap
}

// mapHeader maps the first min(size, maxHeaderBytes) bytes of osf.
func mapHeader(osf *os.File, size int64) (*headerMapping, error) {
	m, err := mapFile(osf, min(size, maxHeaderBytes))
	if err != nil {
		return nil, err
	}
	h := &headerMapping{b: m}
	runtime.AddCleanup(h, func(m mmap.MMap) { m.Unmap() }, m)
	return h, nil
}
