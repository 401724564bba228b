package gguf

import (
	"bufio"
	"encoding/json"
	"io"
)

// WriteJSON writes the metadata as one JSON object in file order, indented
// by two spaces an array level (the form of json.Indent): the metadata.json
// of a mount. It writes as it goes, each array element by element, so its
// memory is a bounded buffer whatever the arrays' lengths, rather than the
// document built whole and then indented (two or three copies of it).
func (m *Metadata) WriteJSON(w io.Writer) error {
	bw := bufio.NewWriterSize(w, jsonFlushAt)
	if m.Len() == 0 {
		bw.WriteString("{}\n")
		return bw.Flush()
	}
	bw.WriteString("{\n")
	i := 0
	var buf []byte
	for key, v := range m.All() {
		k, err := json.Marshal(key) // as encoding/json writes keys: HTML characters escaped
		if err != nil {
			return err
		}
		bw.WriteString("  ")
		bw.Write(k)
		bw.WriteString(": ")
		if buf, err = writeIndentedJSON(bw, v, 1, buf[:0]); err != nil {
			return err
		}
		if i++; i < m.Len() {
			bw.WriteByte(',')
		}
		bw.WriteByte('\n')
	}
	bw.WriteString("}\n")
	return bw.Flush()
}

// writeIndentedJSON writes v at indent level depth, arrays one element a
// line; buf is scratch space, returned for reuse.
func writeIndentedJSON(bw *bufio.Writer, v Value, depth int, buf []byte) ([]byte, error) {
	if v.typ != ValueArray || v.arr == nil || v.arr.n == 0 {
		buf = v.appendJSON(buf[:0])
		_, err := bw.Write(buf)
		return buf, err
	}
	a := v.arr
	indent := func(d int) {
		for range d {
			bw.WriteString("  ")
		}
	}
	bw.WriteString("[\n")
	var err error
	elem := func(i int, write func()) {
		indent(depth + 1)
		write()
		if i < a.n-1 {
			bw.WriteByte(',')
		}
		bw.WriteByte('\n')
	}
	if a.elem == ValueString {
		a.eachStr(func(i int, s []byte) bool {
			elem(i, func() {
				buf = appendJSONString(buf[:0], s)
				_, err = bw.Write(buf)
			})
			return err == nil
		})
	} else {
		for i := 0; i < a.n && err == nil; i++ {
			elem(i, func() {
				if a.elem == ValueArray {
					buf, err = writeIndentedJSON(bw, a.child(i), depth+1, buf)
					return
				}
				buf = a.at(i).appendJSON(buf[:0])
				_, err = bw.Write(buf)
			})
		}
	}
	if err != nil {
		return buf, err
	}
	indent(depth)
	_, err = bw.WriteString("]")
	return buf, err
}
