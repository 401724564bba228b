package gguf

import (
	"bufio"
	"io"
)

// jsonFlushAt is how much WriteJSON buffers before writing: its memory is
// this plus the longest element, whatever the array's length.
const jsonFlushAt = 64 << 10

// WriteJSON writes the value's JSON form (as MarshalJSON) to w
// incrementally: an array of 2^26 strings is written element by element
// rather than built whole in memory first (which took 4 GB for inspect
// --json of such a file).
func (v Value) WriteJSON(w io.Writer) error {
	bw := bufio.NewWriterSize(w, jsonFlushAt)
	buf := make([]byte, 0, 512)
	var err error
	// emit writes buf once it is large, keeping memory bounded.
	emit := func(force bool) {
		if err == nil && (force || len(buf) >= jsonFlushAt) {
			_, err = bw.Write(buf)
			buf = buf[:0]
		}
	}
	if v.typ != ValueArray || v.arr == nil {
		buf = v.appendJSON(buf)
		emit(true)
	} else {
		a := v.arr
		buf = append(buf, '[')
		if a.elem == ValueString {
			a.eachStr(func(i int, s []byte) bool {
				if i > 0 {
					buf = append(buf, ',')
				}
				buf = appendJSONString(buf, s)
				emit(false)
				return err == nil
			})
		} else {
			for i := 0; i < a.n && err == nil; i++ {
				if i > 0 {
					buf = append(buf, ',')
				}
				if a.elem == ValueArray {
					emit(true)
					if err == nil {
						err = a.child(i).WriteJSON(bw)
					}
					continue
				}
				buf = a.at(i).appendJSON(buf)
				emit(false)
			}
		}
		buf = append(buf, ']')
		emit(true)
	}
	if err != nil {
		return err
	}
	return bw.Flush()
}
