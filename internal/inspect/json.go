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
	head, err := compactJSON(r)
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
	out.Write([]byte(`"metadata":[`))
	i := 0
	for key, v := range m.Metadata.All() {
		if i > 0 {
			out.Write([]byte{','})
		}
		i++
		if err := writeKV(out, key, v, maxArray); err != nil {
			return fmt.Errorf("metadata key %q: %w", key, err)
		}
	}
	out.Write([]byte(`],"tensors":[`))
	for i, t := range m.Tensors {
		if i > 0 {
			out.Write([]byte{','})
		}
		row, err := compactJSON(tensorOf(t))
		if err != nil {
			return err
		}
		out.Write(row)
	}
	out.Write([]byte{']'})
	out.Write(after)
	out.w.WriteByte('\n') // as json.Encoder ends a value (the indenter drops whitespace)
	return out.Flush()
}

// compactJSON is v's JSON as the report's encoder writes it: HTML
// characters unescaped, no trailing newline.
func compactJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte{'\n'}), nil
}

// writeKV writes one metadata entry as KV's JSON with its value.
func writeKV(w io.Writer, key string, v gguf.Value, maxArray int) error {
	kv, err := entry(key, v, false, 0) // key, type, elem_type, len
	if err != nil {
		return err
	}
	b, err := compactJSON(kv)
	if err != nil {
		return err
	}
	// {"key":...,"len":N,"value":null}: the value goes where null is.
	b, ok := bytes.CutSuffix(b, []byte(`"value":null}`))
	if !ok {
		return fmt.Errorf("inspect: a metadata entry's JSON does not end in its value: %s", b)
	}
	w.Write(b)
	w.Write([]byte(`"value":`))
	truncated, err := writeValue(w, v, maxArray)
	if err != nil {
		return err
	}
	if truncated {
		w.Write([]byte(`,"truncated":true`))
	}
	_, err = w.Write([]byte{'}'})
	return err
}

// writeValue writes a value as entry and arrayJSON encode it: scalars and
// strings as gguf writes them, arrays cut to maxArray elements (reporting
// whether they were), nested arrays as Array objects.
func writeValue(w io.Writer, v gguf.Value, maxArray int) (truncated bool, err error) {
	if v.Type() != gguf.ValueArray {
		return false, v.WriteJSON(w)
	}
	n := v.Len()
	truncated = maxArray > 0 && n > maxArray
	if truncated {
		n = maxArray
	}
	if v.ElemType() != gguf.ValueArray && !truncated {
		return false, v.WriteJSON(w)
	}
	w.Write([]byte{'['})
	for i := 0; i < n; i++ {
		if i > 0 {
			w.Write([]byte{','})
		}
		e, err := v.Index(i)
		if err != nil {
			return false, err
		}
		if e.Type() != gguf.ValueArray {
			if err := e.WriteJSON(w); err != nil {
				return false, err
			}
			continue
		}
		et, err := compactJSON(e.ElemType().String())
		if err != nil {
			return false, err
		}
		w.Write([]byte(`{"elem_type":`))
		w.Write(et)
		w.Write([]byte(`,"len":` + strconv.Itoa(e.Len()) + `,"value":`))
		// New encodes an Array object with json.Marshal, which escapes
		// HTML characters in it; the same bytes come from escaping here.
		esc := &htmlEscaper{w: w}
		inner, err := writeValue(esc, e, maxArray)
		if err == nil {
			err = esc.flush()
		}
		if err != nil {
			return false, err
		}
		if inner {
			w.Write([]byte(`,"truncated":true`))
		}
		w.Write([]byte{'}'})
	}
	_, err = w.Write([]byte{']'})
	return truncated, err
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
		switch {
		case len(h.pending) == 0 && c == 0xe2, len(h.pending) == 1 && c == 0x80:
			h.pending = append(h.pending, c)
			continue
		case len(h.pending) == 2 && (c == 0xa8 || c == 0xa9):
			h.out = append(h.out, `\u202`...)
			h.out = append(h.out, hex[c&0xf])
			h.pending = h.pending[:0]
			continue
		}
		h.out = append(h.out, h.pending...)
		h.pending = h.pending[:0]
		if c == 0xe2 {
			h.pending = append(h.pending, c)
			continue
		}
		if c == '<' || c == '>' || c == '&' {
			h.out = append(h.out, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			continue
		}
		h.out = append(h.out, c)
	}
	if _, err := h.w.Write(h.out); err != nil {
		return 0, err
	}
	return len(p), nil
}

// flush writes an incomplete sequence held at the end.
func (h *htmlEscaper) flush() error {
	_, err := h.w.Write(h.pending)
	h.pending = h.pending[:0]
	return err
}

const hex = "0123456789abcdef"
