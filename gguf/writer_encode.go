package gguf

import (
	"bufio"
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
			e.array(a.child(i)) // an element's payload is its own element type, count and elements
		}
	case a.order == e.order || a.elem.fixedSize() == 1:
		e.bytes(a.raw[:a.n*a.elem.fixedSize()])
	default:
		for i := 0; i < a.n && e.err == nil; i++ {
			e.value(a.at(i))
		}
	}
}

// writeHeader writes magic, counts, metadata, tensor infos and the padding
// up to the data section, and fixes the tensors' absolute offsets.
func (w *Writer) writeHeader(md []KV) error {
	bw := bufio.NewWriterSize(w.dst, 1<<20)
	e := &headerEncoder{w: bw, order: w.order, version: w.version}
	e.bytes([]byte("GGUF"))
	e.u32(w.version)
	e.count(uint64(len(w.tensors)))
	e.count(uint64(len(md)))
	for _, kv := range md {
		e.str(kv.Key)
		e.u32(uint32(kv.Value.Type()))
		e.value(kv.Value)
	}
	for _, t := range w.tensors {
		e.str(t.Name)
		e.u32(uint32(len(t.Dims)))
		for _, d := range t.Dims {
			e.count(d)
		}
		e.u32(uint32(t.Type))
		e.u64(t.Offset)
	}
	if e.err != nil {
		return fmt.Errorf("gguf: writer: header: %w", e.err)
	}
	dataOff, ok := alignUp(e.n, w.align)
	if !ok {
		return fmt.Errorf("gguf: writer: %w: header", ErrOverflow)
	}
	for i := range w.tensors {
		t := &w.tensors[i]
		t.FileOffset, ok = addU64(dataOff, t.Offset)
		if !ok || t.FileOffset > math.MaxInt64 {
			return fmt.Errorf("gguf: writer: tensor %d %q: %w: file exceeds 2^63 bytes", i, t.Name, ErrOverflow)
		}
	}
	if _, ok := addU64(dataOff, w.dataSize()); !ok || dataOff+w.dataSize() > math.MaxInt64 {
		return fmt.Errorf("gguf: writer: %w: file exceeds 2^63 bytes", ErrOverflow)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("gguf: writer: header: %w", err)
	}
	w.pos, w.written, w.dataOff = e.n, e.n, dataOff
	return w.pad(dataOff)
}

// dataSize is the data section's length, padding after the last tensor included.
func (w *Writer) dataSize() uint64 {
	if len(w.tensors) == 0 {
		return 0
	}
	last := w.tensors[len(w.tensors)-1]
	end, _ := alignUp(last.Offset+last.Size, w.align) // checked in layout
	return end
}
