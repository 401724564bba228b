package gguf

import (
	"encoding/binary"
	"slices"
)

// parser holds the state of one parse: the cursor and running totals that
// bound what the file can make us allocate.
type parser struct {
	c            *cursor
	key          string // key whose value is being parsed, for errors
	nestedArrays int
	touched      byte  // sum of prefetch loads, kept so they are not elided
	alignmentAt  int64 // where the general.alignment entry starts
}

// fail wraps a parse error with the key being parsed.
func (p *parser) fail(err error) error {
	if fe, ok := err.(*FormatError); ok && fe.Key == "" {
		fe.Key = p.key
	}
	return err
}

func (p *parser) errAt(at int64, err error) error {
	return &FormatError{Offset: at, Key: p.key, TensorIndex: -1, Err: err}
}

// valueType reads a value type field.
func (p *parser) valueType(what string) (ValueType, error) {
	at := p.c.off
	x, err := p.c.u32(what)
	if err != nil {
		return 0, p.fail(err)
	}
	t := ValueType(x)
	if !t.Valid() {
		return 0, p.errAt(at, detail(ErrValueType, "%s %d is not a metadata value type (0-12)", what, x))
	}
	return t, nil
}

// value reads one value of type t; depth counts enclosing arrays.
func (p *parser) value(t ValueType, depth int) (Value, error) {
	switch t {
	case ValueString:
		s, err := p.c.str("string length")
		if err != nil {
			return Value{}, p.fail(err)
		}
		return Value{typ: ValueString, str: s}, nil
	case ValueArray:
		return p.array(depth + 1)
	}
	at := p.c.off
	size := t.fixedSize()
	b, err := p.c.need(size, t.String())
	if err != nil {
		return Value{}, p.fail(err)
	}
	bits := getFixed(b, t, p.c.order)
	if t == ValueBool && bits > 1 {
		return Value{}, p.errAt(at, detail(ErrBadValue, "bool value %d is neither 0 nor 1", bits))
	}
	return Value{typ: t, bits: bits}, nil
}

// array reads an array's element type, count and elements.
func (p *parser) array(depth int) (Value, error) {
	elem, n, countAt, err := p.arrayHead(depth)
	if err != nil {
		return Value{}, err
	}
	switch elem {
	case ValueString:
		return p.stringArray(n)
	case ValueArray:
		return p.nestedArray(n, depth, countAt)
	}
	raw, err := p.fixedBytes(n * elem.fixedSize())
	if err != nil {
		return Value{}, err
	}
	if err := p.checkBools(elem, raw); err != nil {
		return Value{}, err
	}
	v := newFixedArray(elem, n, p.c.order, raw)
	p.c.lend(v.arr, p.c.off-int64(len(raw)))
	return v, nil
}

// arrayHead reads an array's element type and count, checking the count
// against the bytes left; countAt is where the count is.
func (p *parser) arrayHead(depth int) (elem ValueType, n int, countAt int64, err error) {
	at := p.c.off
	if depth > maxArrayDepth {
		return 0, 0, 0, p.errAt(at, detail(ErrNesting, "arrays nested more than %d deep", maxArrayDepth))
	}
	elem, err = p.valueType("array element type")
	if err != nil {
		return 0, 0, 0, err
	}
	countAt = p.c.off
	count, err := p.c.count("array count")
	if err != nil {
		return 0, 0, 0, p.fail(err)
	}
	// The least each element can take: its fixed size, a string's length,
	// or a nested array's type and count.
	each := int64(elem.fixedSize())
	switch elem {
	case ValueString:
		each = p.c.countSize()
	case ValueArray:
		each = 4 + p.c.countSize()
	}
	if err := p.c.checkCount(count, each, arrayCountWhat[elem], countAt); err != nil {
		return 0, 0, 0, p.fail(err)
	}
	return elem, int(count), countAt, nil
}

// arrayCountWhat names each element type's array count field in errors,
// built once so that no text is built per array.
var arrayCountWhat = func() (w [valueTypeCount]string) {
	for t := range w {
		w[t] = "array of " + ValueType(t).String() + ": count"
	}
	return w
}()

// checkBools fails when a bool array's raw holds a byte other than 0 or 1;
// raw ends at the cursor.
func (p *parser) checkBools(elem ValueType, raw []byte) error {
	if elem != ValueBool {
		return nil
	}
	for i, b := range raw {
		if b > 1 {
			return p.errAt(p.c.off-int64(len(raw)-i), detail(ErrBadValue, "bool element %d is %d, neither 0 nor 1", i, b))
		}
	}
	return nil
}

// fixedBytes returns a copy of the next n bytes (known to be there).
func (p *parser) fixedBytes(n int) ([]byte, error) {
	c := p.c
	if len(c.window()) >= n {
		b, err := c.copyOut(c.off, n)
		c.skip(n)
		return b, err
	}
	b := make([]byte, n)
	if err := c.readInto(b, "array"); err != nil {
		return nil, p.fail(err)
	}
	return b, nil
}

// stringArray reads n strings (n length fields are known to be there)
// without an allocation per string: a first pass over the read window
// checks every length and marks where every markStride-th string starts;
// then the whole array is kept as one slab (copied, or borrowed from the
// mapping).
func (p *parser) stringArray(n int) (Value, error) {
	c := p.c
	lenSize := int(c.countSize())
	marks := make([]uint32, 0, (n+markStride-1)/markStride)
	start := c.off
	for i := 0; i < n; {
		// Fast path: every string wholly inside the window.
		base := uint32(c.off - start) // < maxHeaderBytes, so fits
		var j, k int
		if lenSize == 8 && c.order == binary.LittleEndian {
			var t byte
			j, k, marks, t = scanStringsLE64(c.window(), n-i, i, base, marks)
			p.touched += t
		} else {
			j, k, marks = scanStrings(c.window(), n-i, i, base, marks, lenSize, c.order)
		}
		i += k
		c.skip(j)
		if i == n {
			break
		}
		// The next string straddles the window's end: check its length,
		// then refill so that it fits and the fast path takes it.
		at := c.off
		if err := c.ensure(lenSize, "string length"); err != nil {
			return Value{}, p.fail(err)
		}
		var l uint64
		if lenSize == 8 {
			l = c.order.Uint64(c.window())
		} else {
			l = uint64(c.order.Uint32(c.window()))
		}
		c.skip(lenSize)
		err := c.checkCount(l, 1, "string length", at)
		c.off = at
		if err != nil {
			return Value{}, p.fail(err)
		}
		if err := c.ensure(lenSize+int(l), "string"); err != nil {
			return Value{}, p.fail(err)
		}
	}
	raw, err := c.copyOut(start, int(c.off-start))
	if err != nil {
		return Value{}, p.fail(err)
	}
	v := newParsedStringArray(n, raw, marks, uint32(lenSize), c.order)
	c.lend(v.arr, start)
	return v, nil
}

// scanStringsLE64 walks the strings wholly inside w (little-endian, 64-bit
// lengths: nearly every file), at most max of them, the first being string
// first of the array; it appends to marks the position (base + its
// position in w) of each whose index is a multiple of markStride. It
// returns the bytes and the strings it consumed, and marks.
//
// Each length gives the next one's position, a chain of dependent loads:
// the loop keeps that chain short (no slicing, one bounds check, the
// position unsigned so that no check of it can overflow). Touching a byte
// prefetchAhead bytes on (off the chain) brings the lines into cache before
// the chain needs them: the hardware prefetcher stops at page boundaries,
// and a mapping's pages are scattered. It touches only bytes the rest of
// the array must cover (each string left takes 8 bytes at least), so never
// the data section. It returns the sum of the bytes touched, kept so that
// the loads are not elided.
func scanStringsLE64(w []byte, max, first int, base uint32, marks []uint32) (int, int, []uint32, byte) {
	const lenSize = 8
	n := uint64(len(w))
	var j uint64
	k := 0
	var touched byte
	prefetchUntil := max - (prefetchAhead/lenSize + 1)
	for k < max && lenSize <= n-j {
		l := binary.LittleEndian.Uint64(w[j : j+lenSize])
		if l > n-j-lenSize {
			break
		}
		if p := j + prefetchAhead; k < prefetchUntil && p < n {
			touched += w[p]
		}
		if (first+k)%markStride == 0 {
			marks = append(marks, base+uint32(j))
		}
		j += lenSize + l
		k++
	}
	return int(j), k, marks, touched
}

// prefetchAhead is how far scanStringsLE64 touches: a few cache lines.
const prefetchAhead = 512

// scanStrings is scanStringsLE64 for any byte order and length size
// (big-endian files, version 1).
func scanStrings(w []byte, max, first int, base uint32, marks []uint32, lenSize int, order binary.ByteOrder) (j, k int, _ []uint32) {
	for k < max && len(w)-j >= lenSize {
		var l uint64
		if lenSize == 8 {
			l = order.Uint64(w[j:])
		} else {
			l = uint64(order.Uint32(w[j:]))
		}
		if l > uint64(len(w)-j-lenSize) {
			break
		}
		if (first+k)%markStride == 0 {
			marks = append(marks, base+uint32(j))
		}
		j += lenSize + int(l)
		k++
	}
	return j, k, marks
}

// nestedArray reads n arrays. While they are arrays of fixed-size
// elements (the common case, and a hostile header's cheapest element: 12
// bytes for an empty one) they are kept compact, their bytes back to back
// in one buffer with 12 bytes of bookkeeping each; from the first that is
// not, every element is a Value of its own.
func (p *parser) nestedArray(n, depth int, at int64) (Value, error) {
	if p.nestedArrays+n > maxNestedArrays {
		return Value{}, p.errAt(at, detail(ErrTooLarge, "more than %d arrays inside arrays", maxNestedArrays))
	}
	p.nestedArrays += n
	a := &array{elem: ValueArray, n: n, order: p.c.order}
	// Exactly n: each takes at least 8 file bytes (a type and a v1 count),
	// checked before, for 12 bytes here; growing by append would allocate
	// five times that on the way.
	a.subs = make([]subArray, 0, n)
	for range n {
		elem, count, countAt, err := p.arrayHead(depth + 1)
		if err != nil {
			return Value{}, err
		}
		if a.vals == nil && elem != ValueString && elem != ValueArray {
			size := count * elem.fixedSize()
			start := len(a.raw)
			if a.raw, err = p.appendFixed(a.raw, size); err != nil {
				return Value{}, err
			}
			if err := p.checkBools(elem, a.raw[start:]); err != nil {
				return Value{}, err
			}
			// Both fit: counts and offsets are bounded by the header size.
			a.subs = append(a.subs, subArray{elem: elem, n: uint32(count), start: uint32(start)})
			continue
		}
		if a.vals == nil {
			a.vals = make([]Value, 0, min(n, allocAhead))
			for k := range a.subs {
				a.vals = append(a.vals, a.sub(k))
			}
			a.subs, a.raw = nil, nil
		}
		var v Value
		switch elem {
		case ValueString:
			v, err = p.stringArray(count)
		case ValueArray:
			v, err = p.nestedArray(count, depth+1, countAt)
		default:
			var raw []byte
			if raw, err = p.fixedBytes(count * elem.fixedSize()); err == nil {
				if err = p.checkBools(elem, raw); err == nil {
					v = newFixedArray(elem, count, p.c.order, raw)
				}
			}
		}
		if err != nil {
			return Value{}, err
		}
		a.vals = append(a.vals, v)
	}
	return Value{typ: ValueArray, arr: a}, nil
}

// appendFixed appends the next n bytes (known to be in the file) to b.
func (p *parser) appendFixed(b []byte, n int) ([]byte, error) {
	c := p.c
	if w := c.window(); len(w) >= n {
		c.skip(n)
		return append(b, w[:n]...), nil
	}
	b = slices.Grow(b, n)
	if err := c.readInto(b[len(b):len(b)+n], "array"); err != nil {
		return nil, p.fail(err)
	}
	return b[:len(b)+n], nil
}
