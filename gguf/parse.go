package gguf

import (
	"encoding/binary"
	"io"
	"math/bits"
	"runtime/debug"
	"slices"
	"unsafe"
)

var magic = [4]byte{'G', 'G', 'U', 'F'}

// parse reads and validates the header: magic, version, counts, metadata,
// tensor infos; then checks the layout of the data section.
func parse(r io.ReaderAt, size int64) (*File, error) {
	if size < 0 {
		return nil, &FormatError{Offset: -1, TensorIndex: -1, Err: detail(ErrTruncated, "negative file size %d", size)}
	}
	return parseCursor(newCursor(r, size))
}

// parseMapped parses through m, a mapping of the whole file (size bytes),
// which is cheaper than reading: no copy into a window, no system calls.
// A file that shrinks under the mapping while it is parsed faults; the
// fault is turned into an error rather than a crash. With borrow, arrays
// are left pointing into m, listed in the cursor's borrowed.
func parseMapped(m []byte, r io.ReaderAt, size int64, borrow bool) (f *File, c *cursor, err error) {
	if int64(len(m)) != size {
		return nil, nil, &FormatError{Offset: -1, TensorIndex: -1, Err: detail(ErrTruncated, "mapping of %d bytes for a %d-byte file", len(m), size)}
	}
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if p := recover(); p != nil {
			fault, ok := p.(interface{ Addr() uintptr })
			if !ok {
				panic(p)
			}
			addr := int64(fault.Addr() - uintptr(unsafe.Pointer(unsafe.SliceData(m))))
			f, err = nil, &FormatError{Offset: addr, TensorIndex: -1,
				Err: detail(ErrTruncated, "file shrank while its header was parsed")}
		}
	}()
	c = newCursorBytes(m, r, size)
	c.borrow = borrow
	f, err = parseCursor(c)
	return f, c, err
}

// parseCursor parses the file through c.
func parseCursor(c *cursor) (*File, error) {
	size := c.size
	p := &parser{c: c}
	b, err := c.need(4, "magic")
	if err != nil {
		return nil, err
	}
	if [4]byte(b) != magic {
		return nil, &FormatError{Offset: 0, TensorIndex: -1, Err: detail(ErrBadMagic, "magic %q is not \"GGUF\"", b)}
	}
	vb, err := c.need(4, "version")
	if err != nil {
		return nil, err
	}
	f := &File{Size: size, Alignment: DefaultAlignment}
	// The version tells the byte order: ggml writes it in the file's order,
	// so a small number read one way is the answer.
	switch le, be := binary.LittleEndian.Uint32(vb), binary.BigEndian.Uint32(vb); {
	case le >= 1 && le <= 3:
		f.Version, f.ByteOrder = le, binary.LittleEndian
	case be >= 1 && be <= 3:
		f.Version, f.ByteOrder = be, binary.BigEndian
	default:
		return nil, &FormatError{Offset: 4, TensorIndex: -1,
			Err: detail(ErrVersion, "version %d (0x%08x) is not 1, 2 or 3 in either byte order", le, le)}
	}
	c.order = f.ByteOrder
	c.v1 = f.Version == 1

	nTensorsAt := c.off
	nTensors, err := c.count("tensor count")
	if err != nil {
		return nil, err
	}
	nKVsAt := c.off
	nKVs, err := c.count("metadata count")
	if err != nil {
		return nil, err
	}
	// Least sizes: a key is a length and a type; a tensor info is a name
	// length, n_dims, type and offset.
	if err := c.checkCount(nKVs, c.countSize()+4, "metadata count", nKVsAt); err != nil {
		return nil, err
	}
	if nKVs > maxKVs {
		return nil, &FormatError{Offset: nKVsAt, TensorIndex: -1, Err: detail(ErrTooLarge, "metadata count %d exceeds the limit of %d", nKVs, maxKVs)}
	}
	if err := c.checkCount(nTensors, c.countSize()+4+4+8, "tensor count", nTensorsAt); err != nil {
		return nil, err
	}
	if nTensors > maxTensors {
		return nil, &FormatError{Offset: nTensorsAt, TensorIndex: -1, Err: detail(ErrTooLarge, "tensor count %d exceeds the limit of %d", nTensors, maxTensors)}
	}

	if f.Metadata, err = p.metadata(int(nKVs)); err != nil {
		return nil, err
	}
	if err := f.applyAlignment(p.alignmentAt); err != nil {
		return nil, err
	}
	split, err := f.Split()
	if err != nil {
		return nil, err
	}
	if f.Tensors, err = p.tensorInfos(int(nTensors), split.No); err != nil {
		return nil, err
	}
	f.HeaderSize = uint64(c.off)
	// pad = (A - off%A) % A; cannot overflow: off < 2^30, A <= 2^31.
	f.DataOffset = f.HeaderSize + (f.Alignment-f.HeaderSize%f.Alignment)%f.Alignment
	if err := f.layout(); err != nil {
		return nil, err
	}
	return f, nil
}

// metadata reads n key-value pairs, rejecting bad and duplicate keys.
func (p *parser) metadata(n int) (*Metadata, error) {
	m := &Metadata{}
	// Where each key starts, to name a duplicate's offset; dropped after.
	// Exactly n: each entry takes at least 12 file bytes (checked before).
	keyAt := make([]uint32, 0, n)
	for range n {
		p.key = ""
		at := p.c.off
		key, err := p.c.strUpTo("key length", maxKeyBytes)
		if err != nil {
			return nil, err
		}
		if err := checkKey(key); err != nil {
			return nil, &FormatError{Offset: at, Key: key, TensorIndex: -1, Err: err}
		}
		p.key = key
		if key == alignmentKey && p.alignmentAt == 0 {
			p.alignmentAt = at
		}
		t, err := p.valueType("value type")
		if err != nil {
			return nil, err
		}
		v, err := p.value(t, 0)
		if err != nil {
			return nil, err
		}
		keyAt = append(keyAt, uint32(at)) // at < maxHeaderBytes
		m.add(KV{Key: key, Value: v})
	}
	p.key = ""
	if first, second, dup := m.buildIndex(); dup {
		return nil, &FormatError{Offset: int64(keyAt[second]), Key: m.key(second), TensorIndex: -1,
			Err: detail(ErrDuplicate, "duplicate metadata key (also entry %d at byte %d)", first, keyAt[first])}
	}
	return m, nil
}

// applyAlignment honours general.alignment (whose entry starts at byte at):
// a uint32, non-zero power of two.
func (f *File) applyAlignment(at int64) error {
	v, ok := f.Metadata.Get(alignmentKey)
	if !ok {
		return nil
	}
	if v.typ != ValueUint32 {
		return &FormatError{Offset: at, Key: alignmentKey, TensorIndex: -1,
			Err: detail(ErrAlignment, "alignment is %s; GGUF requires a uint32", withArticle(v.describe()))}
	}
	if v.bits == 0 || bits.OnesCount64(v.bits) != 1 {
		return &FormatError{Offset: at, Key: alignmentKey, TensorIndex: -1,
			Err: detail(ErrAlignment, "alignment %d is not a non-zero power of two", v.bits)}
	}
	f.Alignment = v.bits
	return nil
}

// tensorInfos reads n tensor info records. Names and dims are checked here;
// offsets against the layout later.
func (p *parser) tensorInfos(n, shard int) ([]*TensorInfo, error) {
	c := p.c
	// Records are allocated in slabs as they are read, so a count the
	// file's bytes allow but its records do not back costs little.
	var slab []TensorInfo
	var dimSlab []uint64
	// Pointers as records are read, doubling (append grows a long slice by
	// a quarter, allocating five times its final size on the way).
	ptrs := make([]*TensorInfo, 0, min(n, allocAhead))
	for i := range n {
		if len(slab) == cap(slab) {
			slab = make([]TensorInfo, 0, min(n-i, allocAhead))
		}
		if cap(dimSlab)-len(dimSlab) < maxDims {
			dimSlab = make([]uint64, 0, min(n-i, allocAhead)*maxDims)
		}
		slab = append(slab, TensorInfo{Index: i, Shard: shard})
		t := &slab[len(slab)-1]
		if len(ptrs) == cap(ptrs) {
			ptrs = slices.Grow(ptrs, min(n, 2*cap(ptrs))-len(ptrs))
		}
		ptrs = append(ptrs, t)
		at := c.off
		name, err := c.strUpTo("tensor name length", maxNameBytes)
		if err != nil {
			return nil, tensorErr(err, i, "")
		}
		t.Name = name
		if err := checkName(name); err != nil {
			return nil, &FormatError{Offset: at, Tensor: name, TensorIndex: i, Err: err}
		}
		at = c.off
		nd, err := c.u32("n_dims")
		if err != nil {
			return nil, tensorErr(err, i, name)
		}
		if nd > maxDims {
			return nil, &FormatError{Offset: at, Tensor: name, TensorIndex: i, Err: detail(ErrDims, "n_dims %d exceeds %d", nd, maxDims)}
		}
		start := len(dimSlab)
		for d := 0; d < int(nd); d++ {
			at = c.off
			var x uint64
			if c.v1 {
				var x32 uint32
				x32, err = c.u32("dim")
				x = uint64(x32)
			} else {
				x, err = c.u64("dim")
			}
			if err != nil {
				return nil, tensorErr(err, i, name)
			}
			if x == 0 || x > 1<<63-1 {
				return nil, &FormatError{Offset: at, Tensor: name, TensorIndex: i,
					Err: detail(ErrDims, "dim %d is %d (must be 1 to 2^63-1)", d, x)}
			}
			dimSlab = append(dimSlab, x)
		}
		t.Dims = dimSlab[start:len(dimSlab):len(dimSlab)]
		at = c.off
		typ, err := c.u32("type")
		if err != nil {
			return nil, tensorErr(err, i, name)
		}
		t.Type = Type(typ)
		if err := checkElements(t.Dims); err != nil {
			return nil, &FormatError{Offset: at, Tensor: name, TensorIndex: i, Err: err}
		}
		if t.Type.Known() {
			size, err := ByteSize(t.Type, t.Dims)
			if err != nil {
				return nil, &FormatError{Offset: at, Tensor: name, TensorIndex: i, Err: err}
			}
			t.Size = size
		}
		t.offsetAt = c.off
		if t.Offset, err = c.u64("offset"); err != nil {
			return nil, tensorErr(err, i, name)
		}
	}
	return ptrs, nil
}

// tensorErr attaches a tensor to a cursor error.
func tensorErr(err error, i int, name string) error {
	if fe, ok := err.(*FormatError); ok {
		fe.TensorIndex, fe.Tensor = i, name
	}
	return err
}

// checkElements fails when the element count overflows int64.
func checkElements(dims []uint64) error {
	n := uint64(1)
	for i, d := range dims {
		hi, lo := bits.Mul64(n, d)
		if hi != 0 || lo > 1<<63-1 {
			return detail(ErrOverflow, "element count overflows int64 at dim %d", i)
		}
		n = lo
	}
	return nil
}
