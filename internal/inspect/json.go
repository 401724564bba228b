package inspect

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"github.com/ggufs/ggufs/gguf"
)

// WriteJSON writes the JSON form of m's report (docs/inspect-json.md) to w
// as it goes, byte for byte what a json.Encoder indenting by two spaces
// (HTML characters unescaped) makes of New(path, m, true, maxArray), but
// without building the report, its values or the document: each metadata
// value and each tensor row is written and forgotten, and arrays stream
// element by element (gguf's Value.WriteJSON), so memory stays a buffer and
// the longest element whatever the header holds.
func WriteJSON(w io.Writer, path string, m *gguf.Model, maxArray int) error {
	r := newHeader(path, m)
	r.sumTensors(m)
	// The header's fields are few and small: encode them whole, then
	// stream the two long lists in the places they leave empty.
	sc := newScratch()
	head, err := sc.encode(r)
	if err != nil {
		return err
	}
	const lists = `"metadata":[],"tensors":[]`
	before, after, ok := bytes.Cut(head, []byte(lists))
	if !ok {
		return fmt.Errorf("inspect: the report's JSON lacks %s", lists)
	}
	out := newIndenter(w, "", "  ")
	out.Write(before)
	io.WriteString(out, `"metadata":[`)
	i := 0
	for key, v := range m.Metadata.All() {
		if i > 0 {
			io.WriteString(out, ",")
		}
		i++
		if err := sc.writeKV(out, key, v, maxArray); err != nil {
			return fmt.Errorf("metadata key %q: %w", key, err)
		}
	}
	io.WriteString(out, `],"tensors":[`)
	for i, t := range m.Tensors {
		if i > 0 {
			io.WriteString(out, ",")
		}
		sc.row = tensorOf(t)
		row, err := sc.encode(&sc.row)
		if err != nil {
			return err
		}
		out.Write(row)
	}
	io.WriteString(out, "]")
	out.Write(after)
	out.w.WriteByte('\n') // as json.Encoder ends a value (the indenter drops whitespace)
	return out.Flush()
}

// scratch is WriteJSON's reused memory: an encoder and its buffer, and
// the escaper of nested arrays, so that a row costs no allocation of its
// own whatever the number of rows.
type scratch struct {
	buf bytes.Buffer
	enc *json.Encoder
	esc htmlEscaper
	row Tensor
	kv  KV
	num []byte
}

func newScratch() *scratch {
	s := &scratch{}
	s.enc = json.NewEncoder(&s.buf)
	s.enc.SetEscapeHTML(false)
	return s
}

// encode is v's JSON as the report's encoder writes it: HTML characters
// unescaped, no trailing newline. It is valid until the next call.
func (s *scratch) encode(v any) ([]byte, error) {
	s.buf.Reset()
	if err := s.enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(s.buf.Bytes(), []byte{'\n'}), nil
}

// writeKV writes one metadata entry as KV's JSON with its value.
func (s *scratch) writeKV(w io.Writer, key string, v gguf.Value, maxArray int) error {
	var err error
	if s.kv, err = entry(key, v, false, 0); err != nil { // key, type, elem_type, len
		return err
	}
	b, err := s.encode(&s.kv)
	if err != nil {
		return err
	}
	// {"key":...,"len":N,"value":null}: the value goes where null is.
	b, ok := bytes.CutSuffix(b, []byte(`"value":null}`))
	if !ok {
		return fmt.Errorf("inspect: a metadata entry's JSON does not end in its value: %s", b)
	}
	w.Write(b)
	io.WriteString(w, `"value":`)
	truncated, err := s.writeValue(w, v, maxArray)
	if err != nil {
		return err
	}
	if truncated {
		io.WriteString(w, `,"truncated":true`)
	}
	_, err = io.WriteString(w, "}")
	return err
}

// writeValue writes a value as entry and arrayJSON encode it: scalars and
// strings as gguf writes them, arrays cut to maxArray elements (reporting
// whether they were), nested arrays as Array objects.
func (s *scratch) writeValue(w io.Writer, v gguf.Value, maxArray int) (truncated bool, err error) {
	if v.Type() != gguf.ValueArray {
		return false, writeWhole(w, v)
	}
	n := v.Len()
	truncated = maxArray > 0 && n > maxArray
	if truncated {
		n = maxArray
	}
	if v.ElemType() != gguf.ValueArray && !truncated {
		return false, writeWhole(w, v)
	}
	io.WriteString(w, "[")
	for i := 0; i < n; i++ {
		if i > 0 {
			io.WriteString(w, ",")
		}
		e, err := v.Index(i)
		if err != nil {
			return false, err
		}
		if e.Type() != gguf.ValueArray {
			if err := writeWhole(w, e); err != nil {
				return false, err
			}
			continue
		}
		// Type names are plain ASCII: quoted as they are.
		io.WriteString(w, `{"elem_type":"`)
		io.WriteString(w, e.ElemType().String())
		io.WriteString(w, `","len":`)
		s.num = strconv.AppendInt(s.num[:0], int64(e.Len()), 10)
		w.Write(s.num)
		io.WriteString(w, `,"value":`)
		// New encodes an Array object with json.Marshal, which escapes
		// HTML characters in it; the same bytes come from escaping here
		// (once: escaping escaped text changes nothing).
		var inner bool
		if _, escaping := w.(*htmlEscaper); escaping {
			inner, err = s.writeValue(w, e, maxArray)
		} else {
			s.esc.w = w
			inner, err = s.writeValue(&s.esc, e, maxArray)
			if err == nil {
				err = s.esc.flush()
			}
		}
		if err != nil {
			return false, err
		}
		if inner {
			io.WriteString(w, `,"truncated":true`)
		}
		io.WriteString(w, "}")
	}
	_, err = io.WriteString(w, "]")
	return truncated, err
}

// streamFrom is the array length from which writeWhole streams: each
// Value.WriteJSON sets up a buffer of its own, more than a short value's
// bytes (2^20 nested empty arrays would allocate 64 GiB of buffers).
const streamFrom = 1024

// writeWhole writes v's JSON (gguf's form): long arrays element by element
// (Value.WriteJSON), anything shorter through its bytes.
func writeWhole(w io.Writer, v gguf.Value) error {
	if v.Type() == gguf.ValueArray && v.Len() >= streamFrom {
		return v.WriteJSON(w)
	}
	b, err := v.MarshalJSON()
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// htmlEscaper escapes what json.Marshal escapes in a JSON text and
// json.Encoder with SetEscapeHTML(false) does not: <, > and & as \u003c,
// \u003e and \u0026, and U+2028 and U+2029 (held across writes while
// their three bytes are incomplete).
type htmlEscaper struct {
	w       io.Writer
	pending []byte // a prefix of U+2028/9's encoding, e2 or e2 80
	out     []byte
}

func (h *htmlEscaper) Write(p []byte) (int, error) {
	h.out = h.out[:0]
	for _, c := range p {
		h.put(c)
	}
	if _, err := h.w.Write(h.out); err != nil {
		return 0, err
	}
	return len(p), nil
}

// WriteString is Write without a copy of s.
func (h *htmlEscaper) WriteString(s string) (int, error) {
	h.out = h.out[:0]
	for i := 0; i < len(s); i++ {
		h.put(s[i])
	}
	if _, err := h.w.Write(h.out); err != nil {
		return 0, err
	}
	return len(s), nil
}

// put appends c's escaped form to out.
func (h *htmlEscaper) put(c byte) {
	{
		switch {
		case len(h.pending) == 0 && c == 0xe2, len(h.pending) == 1 && c == 0x80:
			h.pending = append(h.pending, c)
			return
		case len(h.pending) == 2 && (c == 0xa8 || c == 0xa9):
			h.out = append(h.out, `\u202`...)
			h.out = append(h.out, hex[c&0xf])
			h.pending = h.pending[:0]
			return
		}
		h.out = append(h.out, h.pending...)
		h.pending = h.pending[:0]
		if c == 0xe2 {
			h.pending = append(h.pending, c)
			return
		}
		if c == '<' || c == '>' || c == '&' {
			h.out = append(h.out, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			return
		}
		h.out = append(h.out, c)
	}
}

// flush writes an incomplete sequence held at the end.
func (h *htmlEscaper) flush() error {
	_, err := h.w.Write(h.pending)
	h.pending = h.pending[:0]
	return err
}

const hex = "0123456789abcdef"
