package fs

import (
	"encoding/binary"
	"strconv"
	"strings"

	"github.com/ggufs/ggufs/gguf"
)

// npyAlign is the alignment numpy (≥ 1.9) pads its header to, so that the
// array data that follows can be memory-mapped aligned.
const npyAlign = 64

// npyMaxV1Header is the largest header a version 1.0 file can describe (its
// length field is a uint16); longer headers need version 2.0.
const npyMaxV1Header = 65535

// npyKind is the numpy type code (without byte order) of a ggml type that
// numpy can represent element for element (bf16 as its bits); the quantized types have none.
func npyKind(t gguf.Type) (string, bool) {
	switch t {
	case gguf.TypeF32:
		return "f4", true
	case gguf.TypeF16:
		return "f2", true
	case gguf.TypeF64:
		return "f8", true
	case gguf.TypeI8:
		return "i1", true
	case gguf.TypeI16:
		return "i2", true
	case gguf.TypeI32:
		return "i4", true
	case gguf.TypeI64:
		return "i8", true
	case gguf.TypeBF16:
		// numpy has no bfloat16: the elements are their uint16 bit patterns
		// (a.astype('<u4') << 16 viewed as '<f4' gives the values; f32.npy
		// has them converted).
		return "u2", true
	}
	return "", false
}

// npyHeader returns the .npy header (magic, version, length, dict and padding)
// for a tensor of type t and ggml dims stored in byte order order, or false
// when numpy cannot represent the type. The shape is the reverse of ggml's
// order (ne0 varies fastest, as numpy's last axis does in C order).
func npyHeader(t gguf.Type, dims []uint64, order binary.ByteOrder) ([]byte, bool) {
	kind, ok := npyKind(t)
	if !ok {
		return nil, false
	}
	endian := "<"
	switch {
	case kind == "i1":
		endian = "|" // one byte: no byte order
	case order == binary.BigEndian:
		endian = ">"
	}

	var dict strings.Builder
	dict.WriteString("{'descr': '" + endian + kind + "', 'fortran_order': False, 'shape': (")
	for i := len(dims) - 1; i >= 0; i-- {
		dict.WriteString(strconv.FormatUint(dims[i], 10))
		if i > 0 || len(dims) == 1 {
			dict.WriteString(",")
		}
		if i > 0 {
			dict.WriteString(" ")
		}
	}
	dict.WriteString("), }")

	// Version 1.0: 6 magic + 2 version + 2 length bytes; 2.0 has a 4-byte length.
	prefix := 10
	if pad(prefix+dict.Len()+1) > npyMaxV1Header {
		prefix = 12
	}
	total := pad(prefix + dict.Len() + 1)
	h := make([]byte, 0, total)
	h = append(h, "\x93NUMPY"...)
	if prefix == 10 {
		h = append(h, 1, 0)
		h = binary.LittleEndian.AppendUint16(h, uint16(total-prefix))
	} else {
		h = append(h, 2, 0)
		h = binary.LittleEndian.AppendUint32(h, uint32(total-prefix))
	}
	h = append(h, dict.String()...)
	for len(h) < total-1 {
		h = append(h, ' ')
	}
	return append(h, '\n'), true
}

func pad(n int) int { return (n + npyAlign - 1) / npyAlign * npyAlign }
