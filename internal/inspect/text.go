package inspect

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ggufs/ggufs/internal/units"
)

// WriteText renders the report for people: a header summary, the
// metadata (long arrays summarized by type, length and first elements), the
// tensor table and totals by dtype.
func WriteText(out io.Writer, r *Report) error {
	w := bufio.NewWriter(out)
	first := r.Shards[0]
	if len(r.Shards) == 1 {
		fmt.Fprintf(w, "%s: GGUF v%d, %s-endian, alignment %d, %s (%d bytes); data section at byte %d\n",
			r.Path, r.Version, r.ByteOrder, r.Alignment, units.Text(uint64(r.FileSize)), r.FileSize, r.DataOffset)
	} else {
		var all uint64
		for _, s := range r.Shards {
			all += uint64(s.FileSize)
		}
		fmt.Fprintf(w, "%s: part of a split model of %d shards, %s in all; metadata from the first shard, %s\n",
			r.Path, len(r.Shards), units.Text(all), first.Path)
	}
	fmt.Fprintf(w, "%d metadata keys; %d tensors, %s elements, %s of data\n",
		len(r.Metadata), r.Total.Tensors, groupDigits(r.Total.Elements), units.Text(r.Total.NBytes))
	if len(r.Shards) > 1 {
		fmt.Fprintf(w, "\nshards (%d)\n", len(r.Shards))
		rows := [][]string{{"shard", "path", "version", "order", "alignment", "data offset", "tensors", "size"}}
		for _, s := range r.Shards {
			rows = append(rows, []string{strconv.Itoa(s.Index), s.Path, "v" + strconv.FormatUint(uint64(s.Version), 10), s.ByteOrder,
				strconv.FormatUint(s.Alignment, 10), strconv.FormatUint(s.DataOffset, 10), strconv.Itoa(s.Tensors), units.Text(uint64(s.FileSize))})
		}
		writeColumns(w, rows, []bool{true, false, false, false, true, true, true, true})
	}

	fmt.Fprintf(w, "\nmetadata (%d keys)\n", len(r.Metadata))
	keyW := 0
	for _, kv := range r.Metadata {
		keyW = max(keyW, min(len([]rune(kv.Key)), maxKeyColumn))
	}
	for _, kv := range r.Metadata {
		fmt.Fprintf(w, "  %-*s  %-7s  %s\n", keyW, oneLine(kv.Key), kv.Type, oneLine(kv.value.Summary()))
	}

	writeTensorTable(w, r)

	fmt.Fprintf(w, "\ntotals by dtype\n")
	rows := [][]string{{"dtype", "tensors", "elements", "bytes", ""}}
	for _, t := range append(r.Totals, Total{Type: "all", Sum: r.Total}) {
		rows = append(rows, []string{t.Type, strconv.Itoa(t.Tensors), groupDigits(t.Elements), groupDigits(t.NBytes), units.Text(t.NBytes)})
	}
	writeColumns(w, rows, []bool{false, true, true, true, true})
	if r.UnknownTensors > 0 {
		fmt.Fprintf(w, "\n! %d tensor(s) of a type without a known layout: their size is taken from the file's layout, and they cannot be uploaded\n", r.UnknownTensors)
	}
	return w.Flush()
}

func writeTensorTable(w io.Writer, r *Report) {
	where := "the file"
	if len(r.Shards) > 1 {
		where = "its shard's file"
	}
	fmt.Fprintf(w, "\ntensors (%d; shape in ggml order, ne0 first; offset is the absolute byte offset in %s)\n", len(r.Tensors), where)
	header := []string{"#", "name", "dtype", "shape", "offset", "nbytes", ""}
	right := []bool{true, false, false, false, true, true, false}
	if len(r.Shards) > 1 {
		header = append([]string{"shard"}, header...)
		right = append([]bool{true}, right...)
	}
	// Every cell's text goes into one buffer, cut into strings after: a
	// few allocations for the table rather than several a tensor.
	cols := len(header)
	text := make([]byte, 0, 64*len(r.Tensors))
	ends := make([]int, 0, cols*len(r.Tensors))
	for _, t := range r.Tensors {
		if len(r.Shards) > 1 {
			text = strconv.AppendInt(text, int64(t.Shard), 10)
			ends = append(ends, len(text))
		}
		text = strconv.AppendInt(text, int64(t.Index), 10)
		ends = append(ends, len(text))
		text = appendOneLine(text, t.Name)
		ends = append(ends, len(text))
		text = append(text, t.Type...)
		ends = append(ends, len(text))
		text = appendDims(text, t.Dims)
		ends = append(ends, len(text))
		text = strconv.AppendUint(text, t.FileOffset, 10)
		ends = append(ends, len(text))
		text = strconv.AppendUint(text, t.NBytes, 10)
		ends = append(ends, len(text))
		if !t.Known {
			text = append(text, "! unknown type"...)
		}
		ends = append(ends, len(text))
	}
	all := string(text)
	cells := make([]string, 0, cols*(len(r.Tensors)+1))
	cells = append(cells, header...)
	start := 0
	for _, end := range ends {
		cells = append(cells, all[start:end])
		start = end
	}
	rows := make([][]string, 0, len(r.Tensors)+1)
	for i := 0; i < len(cells); i += cols {
		rows = append(rows, cells[i:i+cols:i+cols])
	}
	writeColumns(w, rows, right)
}

// writeColumns prints rows as aligned columns, two spaces apart, indented.
func writeColumns(w io.Writer, rows [][]string, right []bool) {
	widths := make([]int, len(right))
	cellWidths := make([]int, 0, len(rows)*len(right)) // row by row: counted once
	for _, row := range rows {
		for i, c := range row {
			n := textWidth(c)
			cellWidths = append(cellWidths, n)
			widths[i] = max(widths[i], n)
		}
	}
	var line []byte
	for _, row := range rows {
		line = append(line[:0], ' ')
		for i, c := range row {
			pad := widths[i] - cellWidths[0]
			cellWidths = cellWidths[1:]
			line = append(line, ' ')
			if i > 0 {
				line = append(line, ' ')
			}
			switch {
			case right[i]:
				line = append(appendSpaces(line, pad), c...)
			case i < len(row)-1:
				line = appendSpaces(append(line, c...), pad)
			default:
				line = append(line, c...)
			}
		}
		line = append(bytes.TrimRight(line, " "), '\n')
		w.Write(line)
	}
}

// textWidth is the number of runes in s (its width in a terminal, near
// enough), counted quickly when s is ASCII, as cells nearly always are.
func textWidth(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return i + utf8.RuneCountInString(s[i:])
		}
	}
	return len(s)
}

const spaces = "                                                                "

func appendSpaces(b []byte, n int) []byte {
	for n > len(spaces) {
		b = append(b, spaces...)
		n -= len(spaces)
	}
	return append(b, spaces[:max(n, 0)]...)
}

// appendDims appends a shape: [4096, 32000].
func appendDims(b []byte, dims []uint64) []byte {
	b = append(b, '[')
	for i, d := range dims {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = strconv.AppendUint(b, d, 10)
	}
	return append(b, ']')
}

// groupDigits writes n with thousands separators: 6738415616 → 6,738,415,616.
func groupDigits(n uint64) string {
	s := strconv.FormatUint(n, 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// maxKeyColumn caps the key column, so one very long key (up to 64 KiB are
// legal) does not push every value off the screen.
const maxKeyColumn = 48

// oneLine keeps text from the file on its line and out of the terminal's
// control: control characters (C0, DEL and C1, whose U+009B is CSI on many
// terminals) become U+FFFD.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if isControl(r) {
			return '�'
		}
		return r
	}, s)
}

func isControl(r rune) bool { return r < 0x20 || (r >= 0x7f && r <= 0x9f) }

// appendOneLine appends oneLine(s). Invalid UTF-8 becomes U+FFFD, as in
// strings.Map.
func appendOneLine(b []byte, s string) []byte {
	for _, r := range s {
		if isControl(r) {
			r = '�'
		}
		b = utf8.AppendRune(b, r)
	}
	return b
}
