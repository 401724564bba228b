package gguf

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// headerEncoder writes header fields in a file's byte order and version,
// counting bytes and keeping the first error.
type headerEncoder struct {
	w       io.Writer
	order   binary.ByteOrder
	version uint32
	n       uint64 // bytes written
	err     error
	scratch [8]byte
}

func (e *headerEncoder) bytes(b []byte) {
	if e.err != nil {
		return
	}
	if _, err := e.w.Write(b); err != nil {
		e.err = err
		return
	}
	e.n += uint64(len(b))
}

func (e *headerEncoder) u32(x uint32) {
	e.order.PutUint32(e.scratch[:4], x)
	e.bytes(e.scratch[:4])
}

func (e *headerEncoder) u64(x uint64) {
	e.order.PutUint64(e.scratch[:8], x)
	e.bytes(e.scratch[:8])
}

// count writes a count, length or dim: uint64 in versions 2 and 3, uint32 in version 1.
func (e *headerEncoder) count(x uint64) {
	if e.version != 1 {
		e.u64(x)
		return
	}
	if x > math.MaxUint32 {
		if e.err == nil {
			e.err = fmt.Errorf("%w: %d does not fit version 1's 32-bit counts", ErrOverflow, x)
		}
		return
	}
	e.u32(uint32(x))
}

func (e *headerEncoder) str(s string) {
	e.count(uint64(len(s)))
	if e.err == nil {
		if _, err := io.WriteString(e.w, s); err != nil {
			e.err = err
			return
		}
		e.n += uint64(len(s))
	}
}

// value writes a metadata value's payload (its type was written before it).
func (e *headerEncoder) value(v Value) {
	switch v.typ {
	case ValueString:
		e.str(v.str)
	case ValueArray:
		e.array(v)
	default:
		size := v.typ.fixedSize()
		putFixed(e.scratch[:size], v.typ, e.order, v.bits)
		e.bytes(e.scratch[:size])
	}
}

// array writes element type, count and elements. Fixed-size elements stored
// in the file's byte order are copied as one block.
func (e *headerEncoder) array(v Value) {
	a := v.arr
	if a == nil {
		e.u32(uint32(ValueUint8))
		e.count(0)
		return
	}
	e.u32(uint32(a.elem))
	e.count(uint64(a.n))
	switch {
	case a.elem == ValueString:
		for i := 0; i < a.n && e.err == nil; i++ {
			b := a.strBytes(i)
			e.count(uint64(len(b)))
			e.bytes(b)
		}
	case a.elem == ValueArray:
		for i := 0; i < a.n && e.err == nil; i++ {
			e.array(a.vals[i]) // an element's payload is its own element type, count and elements
		}
	case a.order == e.order || a.elem.fixedSize() == 1:
		e.bytes(a.raw[:a.n*a.elem.fixedSize()])
	default:
		for i := 0; i < a.n && e.err == nil; i++ {
			e.value(a.at(i))
		}
	}
}
