package gguf

import (
	"errors"
	"fmt"
	"io"
	"runtime/debug"
)

// ErrNoDequantizer is returned for a type that has no float conversion here:
// integer types, removed types, and types ggml defines no dequantizer for.
var ErrNoDequantizer = errors.New("gguf: no float32 conversion for this type")

// blockDecoder converts whole blocks: len(src) is a multiple of the type's
// block bytes and len(dst) is the matching number of elements. Decoders read
// only src and write only dst, so any bytes are safe input.
type blockDecoder func(dst []float32, src []byte)

// dequantizers lists the types with a conversion, each matching ggml's
// dequantize_row_* (ggml/src/ggml-quants.c) or its to_float trait.
var dequantizers = map[Type]blockDecoder{
	TypeF32:     decodeF32,
	TypeF16:     decodeF16,
	TypeBF16:    decodeBF16,
	TypeQ4_0:    decodeQ4_0,
	TypeQ4_1:    decodeQ4_1,
	TypeQ5_0:    decodeQ5_0,
	TypeQ5_1:    decodeQ5_1,
	TypeQ8_0:    decodeQ8_0,
	TypeQ2_K:    decodeQ2_K,
	TypeQ3_K:    decodeQ3_K,
	TypeQ4_K:    decodeQ4_K,
	TypeQ5_K:    decodeQ5_K,
	TypeQ6_K:    decodeQ6_K,
	TypeQ8_K:    decodeQ8_K,
	TypeIQ2_XXS: decodeIQ2_XXS,
	TypeIQ2_XS:  decodeIQ2_XS,
	TypeIQ2_S:   decodeIQ2_S,
	TypeIQ3_XXS: decodeIQ3_XXS,
	TypeIQ3_S:   decodeIQ3_S,
	TypeIQ1_S:   decodeIQ1_S,
	TypeIQ1_M:   decodeIQ1_M,
	TypeIQ4_NL:  decodeIQ4_NL,
	TypeIQ4_XS:  decodeIQ4_XS,
	TypeTQ1_0:   decodeTQ1_0,
	TypeTQ2_0:   decodeTQ2_0,
	TypeMXFP4:   decodeMXFP4,
	TypeNVFP4:   decodeNVFP4,
	TypeQ1_0:    decodeQ1_0,
	TypeQ2_0:    decodeQ2_0,
}

// CanDequantize reports whether tensors of type t convert to float32.
func CanDequantize(t Type) bool {
	_, ok := dequantizers[t]
	return ok
}

// DequantizeTypes lists the types that convert to float32, in number order.
func DequantizeTypes() []Type {
	var out []Type
	for t := Type(0); t < TypeCount; t++ {
		if CanDequantize(t) {
			out = append(out, t)
		}
	}
	return out
}

func lookupDequantizer(t Type) (blockDecoder, TypeTraits, error) {
	d, ok := dequantizers[t]
	if !ok {
		return nil, TypeTraits{}, fmt.Errorf("%w: %s", ErrNoDequantizer, t)
	}
	tr, _ := t.Traits()
	return d, tr, nil
}

// DequantizeF32 converts the elements of src, of type t, into dst: len(dst)
// elements, a whole number of t's blocks, from exactly the bytes they take.
// Every value is bit-exact with ggml's dequantize_row_* for t.
func DequantizeF32(dst []float32, src []byte, t Type) error {
	d, tr, err := lookupDequantizer(t)
	if err != nil {
		return err
	}
	n := uint64(len(dst))
	if n%tr.BlockSize != 0 {
		return fmt.Errorf("gguf: dequantize %s: %d elements is not a whole number of %d-element blocks", t, n, tr.BlockSize)
	}
	if want := n / tr.BlockSize * tr.BlockBytes; uint64(len(src)) != want {
		return fmt.Errorf("gguf: dequantize %s: %d elements take %d bytes, got %d", t, n, want, len(src))
	}
	d(dst, src)
	return nil
}

// maxBlockElems is the largest block size of a type with a dequantizer
// (the K and IQ types), so a partial block fits a stack buffer.
const maxBlockElems = 256

// DequantizeRange converts elements [first, first+len(dst)) of a tensor of
// type t whose data (all of it) is data. Only the blocks the range touches
// are read; partial blocks at either end are converted into a scratch block
// and the wanted part copied out.
func DequantizeRange(dst []float32, data []byte, t Type, first uint64) error {
	d, tr, err := lookupDequantizer(t)
	if err != nil {
		return err
	}
	if uint64(len(data))%tr.BlockBytes != 0 {
		return fmt.Errorf("gguf: dequantize %s: %d data bytes is not a whole number of %d-byte blocks", t, len(data), tr.BlockBytes)
	}
	total := uint64(len(data)) / tr.BlockBytes * tr.BlockSize
	n := uint64(len(dst))
	if first > total || n > total-first {
		return fmt.Errorf("gguf: dequantize %s: elements [%d, %d) beyond the tensor's %d", t, first, first+n, total)
	}
	bs, bb := tr.BlockSize, tr.BlockBytes
	var scratch [maxBlockElems]float32
	for n > 0 {
		blk := first / bs
		within := first % bs
		if within == 0 && n >= bs {
			// As many whole blocks as dst holds, straight into dst.
			whole := n / bs
			d(dst[:whole*bs], data[blk*bb:(blk+whole)*bb])
			dst, first, n = dst[whole*bs:], first+whole*bs, n-whole*bs
			continue
		}
		block := scratch[:bs]
		d(block, data[blk*bb:(blk+1)*bb])
		c := uint64(copy(dst, block[within:]))
		dst, first, n = dst[c:], first+c, n-c
	}
	return nil
}

// DequantizeTensor converts elements [first, first+len(dst)) of t, read from
// f's mapping or file. A file that shrinks while it is read faults on the
// mapping; the fault becomes an error wrapping ErrTruncated, not a crash.
func (f *File) DequantizeTensor(t *TensorInfo, dst []float32, first uint64) error {
	if f.BigEndian() {
		return fmt.Errorf("gguf: tensor %q: %w: the file is big-endian", t.Name, ErrNoDequantizer)
	}
	if f.Mapped() {
		data, err := f.TensorBytes(t)
		if err != nil {
			return err
		}
		return dequantizeGuarded(t.Name, dst, data, t.Type, first)
	}
	return f.dequantizeRead(t, dst, first)
}

// dequantizeRead is DequantizeTensor for a file that is not mapped: it
// reads only the blocks the range touches, not the whole tensor per call.
func (f *File) dequantizeRead(t *TensorInfo, dst []float32, first uint64) error {
	tr, ok := t.Type.Traits()
	if !ok || !CanDequantize(t.Type) {
		return fmt.Errorf("gguf: tensor %q: %w: %s", t.Name, ErrNoDequantizer, t.Type)
	}
	n := uint64(len(dst))
	if total := t.Size / tr.BlockBytes * tr.BlockSize; first > total || n > total-first {
		return fmt.Errorf("gguf: tensor %q: elements [%d, %d) beyond its %d", t.Name, first, first+n, total)
	}
	b0, b1 := first/tr.BlockSize, (first+n+tr.BlockSize-1)/tr.BlockSize
	r, err := f.TensorReader(t)
	if err != nil {
		return err
	}
	buf := make([]byte, (b1-b0)*tr.BlockBytes)
	if _, err := r.ReadAt(buf, int64(b0*tr.BlockBytes)); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("gguf: tensor %q: %w: file ends within blocks %d-%d", t.Name, ErrTruncated, b0, b1)
		}
		return fmt.Errorf("gguf: tensor %q: %w", t.Name, err)
	}
	if err := f.CheckUnchanged(); err != nil {
		return fmt.Errorf("gguf: tensor %q: %w", t.Name, err)
	}
	if err := DequantizeRange(dst, buf, t.Type, first-b0*tr.BlockSize); err != nil {
		return fmt.Errorf("gguf: tensor %q: %w", t.Name, err)
	}
	return nil
}

// dequantizeGuarded is DequantizeRange over bytes that may fault (a mapping
// whose file shrank): the fault becomes an error wrapping ErrTruncated.
func dequantizeGuarded(name string, dst []float32, data []byte, typ Type, first uint64) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if p := recover(); p != nil {
			if _, ok := p.(interface{ Addr() uintptr }); !ok {
				panic(p)
			}
			err = fmt.Errorf("gguf: tensor %q: %w: the file shrank while it was read", name, ErrTruncated)
		}
	}()
	if err := DequantizeRange(dst, data, typ, first); err != nil {
		return fmt.Errorf("gguf: tensor %q: %w", name, err)
	}
	return nil
}
