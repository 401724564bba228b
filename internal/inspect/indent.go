package inspect

import (
	"bufio"
	"io"
)

// indenter indents compact JSON as it is written to it, byte for byte as
// json.Indent (and so a json.Encoder with SetIndent) would indent the whole
// document, but holding only a buffer: it is how WriteJSON writes a report
// of any size without building it first.
type indenter struct {
	w          *bufio.Writer
	prefix     string
	indent     string
	depth      int
	needIndent bool // after '{' or '[': a newline unless the next byte closes it
	inString   bool
	escaped    bool // inside a string, after a backslash
}

func newIndenter(w io.Writer, prefix, indent string) *indenter {
	return &indenter{w: bufio.NewWriterSize(w, 64<<10), prefix: prefix, indent: indent}
}

func (d *indenter) newline() {
	d.w.WriteByte('\n')
	d.w.WriteString(d.prefix)
	for range d.depth {
		d.w.WriteString(d.indent)
	}
}

// Write takes any split of a compact JSON text; its errors are the
// underlying writer's (bufio keeps the first).
func (d *indenter) Write(p []byte) (int, error) {
	for _, c := range p {
		d.put(c)
	}
	return len(p), d.err()
}

// WriteString is Write without a copy of s.
func (d *indenter) WriteString(s string) (int, error) {
	for i := 0; i < len(s); i++ {
		d.put(s[i])
	}
	return len(s), d.err()
}

// err is the underlying writer's first error: it sticks in the
// bufio.Writer, and a write of nothing reports it.
func (d *indenter) err() error {
	_, err := d.w.Write(nil)
	return err
}

// put writes c and the layout json.Indent puts around it.
func (d *indenter) put(c byte) {
	{
		if d.inString {
			d.w.WriteByte(c)
			switch {
			case d.escaped:
				d.escaped = false
			case c == '\\':
				d.escaped = true
			case c == '"':
				d.inString = false
			}
			return
		}
		switch c {
		case ' ', '\t', '\n', '\r':
			return
		}
		if d.needIndent && c != '}' && c != ']' {
			d.needIndent = false
			d.depth++
			d.newline()
		}
		switch c {
		case '{', '[':
			d.needIndent = true // {} and [] stay on one line
			d.w.WriteByte(c)
		case ',':
			d.w.WriteByte(c)
			d.newline()
		case ':':
			d.w.WriteString(": ")
		case '}', ']':
			if d.needIndent {
				d.needIndent = false
			} else {
				d.depth--
				d.newline()
			}
			d.w.WriteByte(c)
		case '"':
			d.inString = true
			d.w.WriteByte(c)
		default:
			d.w.WriteByte(c)
		}
	}
}

// Flush writes what is buffered.
func (d *indenter) Flush() error { return d.w.Flush() }
