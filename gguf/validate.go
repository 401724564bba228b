package gguf

import (
	"math/bits"
	"slices"
	"strings"
	"unicode/utf8"
)

// checkName validates a tensor name as ggml does: non-empty valid UTF-8 of at
// most maxNameBytes bytes, without NUL. '/', "." and ".." are valid GGUF
// (ggml and gguf-py accept them): the filesystem escapes them (fs/names.go).
func checkName(name string) error {
	switch {
	case name == "":
		return detail(ErrBadName, "empty tensor name")
	case len(name) > maxNameBytes:
		return detail(ErrBadName, "tensor name is %d bytes (limit %d)", len(name), maxNameBytes)
	}
	return checkPathComponent(name, "tensor name")
}

// checkKey validates a metadata key: the same rules, with the spec's
// 65535-byte limit.
func checkKey(key string) error {
	switch {
	case key == "":
		return detail(ErrBadName, "empty metadata key")
	case len(key) > maxKeyBytes:
		return detail(ErrBadName, "metadata key is %d bytes (limit %d)", len(key), maxKeyBytes)
	}
	return checkPathComponent(key, "metadata key")
}

// checkPathComponent rejects what no name may hold: invalid UTF-8 and NUL,
// which C readers would cut the name at.
func checkPathComponent(s, what string) error {
	switch {
	case !utf8.ValidString(s):
		return detail(ErrBadName, "%s %q is not valid UTF-8", what, s)
	case strings.IndexByte(s, 0) >= 0:
		return detail(ErrBadName, "%s %q contains NUL", what, s)
	}
	return nil
}

// layout checks the tensors against the data section: unique names, each
// offset aligned, each tensor's bytes inside the file and overlapping no
// other. A tensor of a type with no known layout gets its Size from the
// start of the next tensor (or the end of the file).
func (f *File) layout() error {
	name := func(i int) string { return f.Tensors[i].Name }
	f.byName = newNameIndex(len(f.Tensors), name)
	if first, second, dup := f.byName.duplicate(name); dup {
		t := f.Tensors[second]
		return &FormatError{Offset: t.offsetAt, Tensor: t.Name, TensorIndex: t.Index,
			Err: detail(ErrDuplicate, "duplicate tensor name (also tensor %d)", first)}
	}
	for _, t := range f.Tensors {
		if t.Offset%f.Alignment != 0 {
			return &FormatError{Offset: t.offsetAt, Tensor: t.Name, TensorIndex: t.Index,
				Err: detail(ErrMisaligned, "data offset %d is not a multiple of the alignment %d", t.Offset, f.Alignment)}
		}
		start, carry := bits.Add64(f.DataOffset, t.Offset, 0)
		if carry != 0 || start > uint64(f.Size) {
			return &FormatError{Offset: t.offsetAt, Tensor: t.Name, TensorIndex: t.Index,
				Err: detail(ErrOutOfBounds, "data offset %d (data section at %d) beyond end of file (size %d)", t.Offset, f.DataOffset, f.Size)}
		}
		t.FileOffset = start
	}
	// Sort by position to find each tensor's successor; ties by index so
	// the result does not depend on the sort.
	order := make([]*TensorInfo, len(f.Tensors))
	copy(order, f.Tensors)
	slices.SortFunc(order, func(a, b *TensorInfo) int {
		if a.FileOffset != b.FileOffset {
			if a.FileOffset < b.FileOffset {
				return -1
			}
			return 1
		}
		return a.Index - b.Index
	})
	for i, t := range order {
		next := uint64(f.Size)
		if i+1 < len(order) {
			next = order[i+1].FileOffset
		}
		if !t.Type.Known() {
			t.Size, t.SizeFromLayout = next-t.FileOffset, true
			if t.Size == 0 && i+1 < len(order) {
				return &FormatError{Offset: t.offsetAt, Tensor: t.Name, TensorIndex: t.Index,
					Err: detail(ErrOverlap, "type %s: data at %d shares its start with tensor %d", t.Type, t.FileOffset, order[i+1].Index)}
			}
			if t.Size == 0 {
				return &FormatError{Offset: t.offsetAt, Tensor: t.Name, TensorIndex: t.Index,
					Err: detail(ErrOutOfBounds, "type %s: data starts at the end of the file (size %d)", t.Type, f.Size)}
			}
			continue
		}
		end, carry := bits.Add64(t.FileOffset, t.Size, 0)
		if carry != 0 || end > uint64(f.Size) {
			return &FormatError{Offset: t.offsetAt, Tensor: t.Name, TensorIndex: t.Index,
				Err: detail(ErrOutOfBounds, "data [%d, %d) beyond end of file (size %d)", t.FileOffset, t.FileOffset+t.Size, f.Size)}
		}
		if end > next {
			o := order[i+1]
			return &FormatError{Offset: t.offsetAt, Tensor: t.Name, TensorIndex: t.Index,
				Err: detail(ErrOverlap, "data [%d, %d) overlaps tensor %d %q at %d", t.FileOffset, end, o.Index, o.Name, o.FileOffset)}
		}
	}
	return nil
}
