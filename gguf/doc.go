// Package gguf reads and writes GGUF files, the model format of ggml and
// llama.cpp: versions 1-3, little- and big-endian, every metadata value
// type including arrays of arrays.
//
// Reading: Open maps a file read-only (falling back to pread, see
// File.MapError) and parses and validates its header; NewReader does the
// same over any io.ReaderAt. The data section is never read while parsing.
// File.TensorBytes returns a tensor's bytes, zero-copy from the mapping;
// OpenModel opens every shard of a split model (NAME-00001-of-00005.gguf)
// as one tensor set. Parsed Files, Models, Metadata and Values are
// immutable and safe for concurrent use.
//
// Validation happens at open, before anything large is allocated: every
// count and length is checked against the bytes left (and the limits in
// limits.go), every product, sum and padding with checked arithmetic. A
// malformed file gives a *FormatError that says what and where (byte
// offset, key, tensor index and name) and wraps one sentinel (ErrBadMagic,
// ErrVersion, ErrTruncated, ErrCount, ErrAlignment, ErrMisaligned,
// ErrOverlap, ErrDuplicate, ErrBadName, ErrDims, ErrOutOfBounds,
// ErrOverflow, ErrValueType, ErrBadValue, ErrNesting, ErrTooLarge,
// ErrSplit). Choices where the format leaves room:
//
//   - general.alignment is honoured only as a uint32, non-zero power of
//     two, under any position among the keys; any other type or value is
//     an error, not ignored. Default 32.
//   - Tensor names and metadata keys must be non-empty valid UTF-8 without
//     NUL; names are at most 64 bytes, keys at most 65535. '/', "." and
//     ".." are allowed, as ggml allows them (the filesystem escapes them).
//     Metadata string values are not checked for UTF-8.
//   - A bool must be 0 or 1 (ErrBadValue otherwise).
//   - n_dims 0 is a one-element scalar; more than 4 is an error, as is a
//     dimension of 0 or above 2^63-1, or an element count or byte size
//     that overflows int64.
//   - Tensors need not be in offset order or back to back, but each must
//     be aligned, inside the file and overlap no other.
//   - A tensor of a removed (4, 5, 31-33, 36-38) or unknown type number
//     does not fail the file: it is listed with its old name or
//     unknown(N), its Size taken from the layout (up to the next tensor or
//     the end of the file, SizeFromLayout set), and Uploadable reports
//     ErrUnknownType for it.
//   - Version 1 has 32-bit counts, lengths and dimensions; a file is
//     big-endian when its version reads as 1-3 only big-endian.
//
// Values: large arrays (tokenizer vocabularies, merges) keep their encoded
// bytes and decode elements on demand, a few allocations per array; a
// string array marks where every 16th string starts rather than indexing
// each. OpenWith and OpenModelWith with Options.BorrowArrays leave those
// bytes in a mapping of the header instead of copying them (for
// short-lived readers: the copy is most of a fresh process's open). Typed
// accessors (Value.Uint, Metadata.String, …) return errors wrapping
// ErrTypeMismatch or ErrKeyNotFound. Value.MarshalJSON encodes NaN and
// infinities as the strings "NaN", "+Inf" and "-Inf" (JSON has no such
// numbers); Value.WriteText writes one array element a line, escaping '\\',
// newline and carriage return in strings.
package gguf
