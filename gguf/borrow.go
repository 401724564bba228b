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

// borrowedArray is an array whose raw was left in the file's mapping at
// byte off, to be moved to the header mapping once the header is parsed.
type borrowedArray struct {
	a   *array
	off int64
}

// lend records that a's raw, at byte off of the file, is borrowed (when
// the cursor borrows).
func (c *cursor) lend(a *array, off int64) {
	if c.borrow {
		c.borrowed = append(c.borrowed, borrowedArray{a, off})
	}
}

// headerMapping is a read-only mapping of a file's header that borrowed
// arrays point into. It is unmapped once it is unreachable: every borrowed
// array holds it, and the accessors that read an array's bytes keep the
// array alive until they are done.
type headerMapping struct {
	b mmap.MMap
}

// lendHeader moves the borrowed arrays from the mapping of the whole file
// (which Close unmaps) to a mapping of its first n bytes, the header, that
// lives as long as they do. Its pages are mapped only as elements are
// read, so a File that is closed, its Values dropped, holds no memory
// until the collector unmaps it. When the header cannot be mapped, the
// arrays get copies.
func lendHeader(osf *os.File, n uint64, borrowed []borrowedArray) {
	m, err := mapFile(osf, int64(n))
	if err != nil {
		for _, b := range borrowed {
			b.a.raw = append([]byte(nil), b.a.raw...)
		}
		return
	}
	h := &headerMapping{b: m}
	runtime.AddCleanup(h, func(m mmap.MMap) { m.Unmap() }, m)
	for _, b := range borrowed {
		end := b.off + int64(len(b.a.raw))
		b.a.raw, b.a.keep = m[b.off:end:end], h
	}
}
