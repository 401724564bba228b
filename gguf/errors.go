package gguf

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Sentinels for what is wrong with a file. A parse error is always a
// *FormatError whose Err wraps exactly one of these; test with errors.Is.
var (
	ErrBadMagic    = errors.New("gguf: bad magic (not a GGUF file)")
	ErrVersion     = errors.New("gguf: unsupported version")
	ErrTruncated   = errors.New("gguf: file truncated")
	ErrAlignment   = errors.New("gguf: bad alignment")
	ErrOverlap     = errors.New("gguf: tensor data overlaps")
	ErrDuplicate   = errors.New("gguf: duplicate name")
	ErrBadName     = errors.New("gguf: invalid name")
	ErrDims        = errors.New("gguf: invalid dimensions")
	ErrOutOfBounds = errors.New("gguf: data beyond end of file")
	ErrMisaligned  = errors.New("gguf: tensor data not aligned")
	ErrOverflow    = errors.New("gguf: arithmetic overflow")
	ErrValueType   = errors.New("gguf: unknown metadata value type")
	ErrBadValue    = errors.New("gguf: invalid metadata value")
	ErrNesting     = errors.New("gguf: arrays nested too deeply")
	ErrTooLarge    = errors.New("gguf: header exceeds size limit")
	ErrSplit       = errors.New("gguf: inconsistent split model")

	// ErrCount: a declared count or length needs more bytes than the file has
	// left. It is a kind of truncation, so errors.Is(err, ErrTruncated) holds too.
	ErrCount error = &subError{msg: "gguf: count or length exceeds the bytes left in the file", parent: ErrTruncated}
)

// Sentinels for misuse of a parsed value (not file errors).
var (
	ErrTypeMismatch = errors.New("gguf: type mismatch")
	ErrKeyNotFound  = errors.New("gguf: metadata key not found")
	ErrIndex        = errors.New("gguf: index out of range")
	ErrUnknownType  = errors.New("gguf: tensor type has no known layout")
	ErrClosed       = errors.New("gguf: file is closed")
)

// subError is a sentinel that also matches a more general one.
type subError struct {
	msg    string
	parent error
}

func (e *subError) Error() string { return e.msg }
func (e *subError) Unwrap() error { return e.parent }

// FormatError reports a malformed or hostile file: what is wrong (Err) and
// where (byte Offset, and the metadata Key or tensor it concerns).
type FormatError struct {
	Path        string // file path when known (set by Open)
	Offset      int64  // byte offset in the file of the offending field; -1 if none
	Key         string // metadata key concerned, if any
	Tensor      string // tensor name concerned, if any
	TensorIndex int    // tensor index concerned; -1 if none
	Err         error  // wraps one of the Err* sentinels, with detail
}

// quoteMax bounds how much of a name or key an error message quotes: a
// hostile file's 64 KiB key should not make every message that long.
const quoteMax = 80

// quoteShort quotes s, cut to its first quoteMax bytes (on a rune boundary)
// followed by its whole length when longer.
func quoteShort(s string) string {
	if len(s) <= quoteMax {
		return strconv.Quote(s)
	}
	cut := quoteMax
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + "… (" + strconv.Itoa(len(s)) + " bytes)"
}

func (e *FormatError) Error() string {
	var b strings.Builder
	b.WriteString("gguf: ")
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	if e.TensorIndex >= 0 {
		b.WriteString("tensor ")
		b.WriteString(strconv.Itoa(e.TensorIndex))
		if e.Tensor != "" {
			b.WriteByte(' ')
			b.WriteString(quoteShort(e.Tensor))
		}
		b.WriteString(": ")
	}
	if e.Key != "" {
		b.WriteString("key ")
		b.WriteString(quoteShort(e.Key))
		b.WriteString(": ")
	}
	if e.Err != nil {
		b.WriteString(strings.TrimPrefix(e.Err.Error(), "gguf: "))
	} else {
		b.WriteString("malformed file")
	}
	if e.Offset >= 0 {
		b.WriteString(" (at byte ")
		b.WriteString(strconv.FormatInt(e.Offset, 10))
		b.WriteByte(')')
	}
	return b.String()
}

func (e *FormatError) Unwrap() error { return e.Err }

// detailError is a specific message standing for a sentinel: it prints only
// the message and matches the sentinel with errors.Is.
type detailError struct {
	sentinel error
	msg      string
}

func (e *detailError) Error() string { return e.msg }
func (e *detailError) Unwrap() error { return e.sentinel }

// detail makes a specific message that matches sentinel.
func detail(sentinel error, format string, args ...any) error {
	return &detailError{sentinel: sentinel, msg: fmt.Sprintf(format, args...)}
}

// withArticle puts "a" or "an" before a type's name: "an int32", "an
// array of uint8", "a uint32" (said "you-int").
func withArticle(name string) string {
	if name != "" && strings.IndexByte("aeio", name[0]) >= 0 {
		return "an " + name
	}
	return "a " + name
}
