package gguf

import (
	"bufio"
	"io"
	"math"
	"strconv"
	"unicode/utf8"
)

// Text and JSON forms of a Value.
//
// Text (WriteText, for metadata/<key> files): a scalar is written as text
// and "\n"; a string scalar verbatim. An array is written one element a
// line; string elements escape '\\' as `\\`, '\n' as `\n` and '\r' as `\r`
// so that every element stays on its own line and the form is reversible.
// Nested arrays are written as one JSON array a line.
//
// JSON (MarshalJSON): numbers as JSON numbers (64-bit integers exactly),
// bools, strings (invalid UTF-8 becomes U+FFFD, as encoding/json does),
// arrays as JSON arrays. JSON has no non-finite numbers, so NaN, +Inf and
// -Inf floats are encoded as the strings "NaN", "+Inf" and "-Inf".

// summaryElems is how many leading elements Summary shows of an array.
const summaryElems = 3

// summaryStrMax is how many bytes of a string Summary shows before "…".
const summaryStrMax = 48

// appendScalarText appends a non-array, non-string value's text form.
func (v Value) appendScalarText(dst []byte) []byte {
	switch {
	case v.typ.unsigned():
		return strconv.AppendUint(dst, v.bits, 10)
	case v.typ.signed():
		return strconv.AppendInt(dst, int64(v.bits), 10)
	case v.typ == ValueFloat32:
		return strconv.AppendFloat(dst, float64(math.Float32frombits(uint32(v.bits))), 'g', -1, 32)
	case v.typ == ValueFloat64:
		return strconv.AppendFloat(dst, math.Float64frombits(v.bits), 'g', -1, 64)
	case v.typ == ValueBool:
		return strconv.AppendBool(dst, v.bits != 0)
	}
	return dst
}

// WriteText writes the value's text form (see above) to w.
func (v Value) WriteText(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	var line []byte
	switch {
	case v.typ == ValueString:
		if _, err := bw.WriteString(v.str); err != nil {
			return err
		}
		if err := bw.WriteByte('\n'); err != nil {
			return err
		}
	case v.typ == ValueArray && v.arr != nil:
		a := v.arr
		if a.elem == ValueString {
			var err error
			a.eachStr(func(_ int, s []byte) bool {
				line = append(appendEscapedLine(line[:0], s), '\n')
				_, err = bw.Write(line)
				return err == nil
			})
			if err != nil {
				return err
			}
			break
		}
		for i := 0; i < a.n; i++ {
			line = line[:0]
			if a.elem == ValueArray {
				line = a.child(i).appendJSON(line)
			} else {
				line = a.at(i).appendScalarText(line)
			}
			line = append(line, '\n')
			if _, err := bw.Write(line); err != nil {
				return err
			}
		}
	case v.typ != ValueArray:
		line = append(v.appendScalarText(line), '\n')
		if _, err := bw.Write(line); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// appendEscapedLine appends s with '\\', '\n' and '\r' escaped.
func appendEscapedLine(dst, s []byte) []byte {
	for _, c := range s {
		switch c {
		case '\\':
			dst = append(dst, '\\', '\\')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// Summary is a one-line description: a scalar's text (strings quoted and
// cut after 48 bytes), or for an array its type, length and first elements:
// `[string × 128256] "<unk>", "<s>", "</s>", …`.
func (v Value) Summary() string {
	if v.typ != ValueArray {
		return string(v.appendSummaryElem(nil))
	}
	var b []byte
	b = append(b, '[')
	if v.arr == nil {
		return "[uint8 × 0]"
	}
	b = append(b, v.arr.elem.String()...)
	b = append(b, " × "...)
	b = strconv.AppendInt(b, int64(v.arr.n), 10)
	b = append(b, ']')
	for i := 0; i < v.arr.n && i < summaryElems; i++ {
		if i == 0 {
			b = append(b, ' ')
		} else {
			b = append(b, ", "...)
		}
		e := v.arr.at(i)
		if e.typ == ValueArray {
			b = append(b, e.Summary()...)
		} else {
			b = e.appendSummaryElem(b)
		}
	}
	if v.arr.n > summaryElems {
		b = append(b, ", …"...)
	}
	return string(b)
}

func (v Value) appendSummaryElem(dst []byte) []byte {
	if v.typ != ValueString {
		return v.appendScalarText(dst)
	}
	s := v.str
	cut := false
	if len(s) > summaryStrMax {
		n := summaryStrMax
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		s, cut = s[:n], true
	}
	dst = strconv.AppendQuote(dst, s)
	if cut {
		dst = append(dst, "…"...)
	}
	return dst
}

// String is the value's Summary.
func (v Value) String() string { return v.Summary() }

// MarshalJSON encodes the value as described above.
func (v Value) MarshalJSON() ([]byte, error) { return v.appendJSON(nil), nil }

func (v Value) appendJSON(dst []byte) []byte {
	switch v.typ {
	case ValueString:
		return appendJSONString(dst, []byte(v.str))
	case ValueFloat32, ValueFloat64:
		f, _ := v.Float()
		switch {
		case math.IsNaN(f):
			return append(dst, `"NaN"`...)
		case math.IsInf(f, 1):
			return append(dst, `"+Inf"`...)
		case math.IsInf(f, -1):
			return append(dst, `"-Inf"`...)
		}
		return v.appendScalarText(dst)
	case ValueArray:
		dst = append(dst, '[')
		if a := v.arr; a != nil && a.elem == ValueString {
			a.eachStr(func(i int, s []byte) bool {
				if i > 0 {
					dst = append(dst, ',')
				}
				dst = appendJSONString(dst, s)
				return true
			})
		} else if a != nil {
			for i := 0; i < a.n; i++ {
				if i > 0 {
					dst = append(dst, ',')
				}
				dst = a.at(i).appendJSON(dst)
			}
		}
		return append(dst, ']')
	}
	return v.appendScalarText(dst)
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string, replacing invalid UTF-8 with
// U+FFFD and escaping what JSON requires (plus <, >, & and U+2028/9 are left
// as they are: the output is not meant for HTML).
func appendJSONString(dst, s []byte) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, "\ufffd"...)
			i++
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
