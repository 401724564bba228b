package gguf

import (
	"math"
)

// parser holds the state of one parse: the cursor and running totals that
// bound what the file can make us allocate.
type parser struct {
	c            *cursor
	key          string // key whose value is being parsed, for errors
	nestedArrays int
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
		s, err := p.c.str("string")
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
	at := p.c.off
	if depth > maxArrayDepth {
		return Value{}, p.errAt(at, detail(ErrNesting, "arrays nested more than %d deep", maxArrayDepth))
	}
	elem, err := p.valueType("array element type")
	if err != nil {
		return Value{}, err
	}
	countAt := p.c.off
	n, err := p.c.count("array count")
	if err != nil {
		return Value{}, p.fail(err)
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
	if err := p.c.checkCount(n, each, "array of "+elem.String()+": count", countAt); err != nil {
		return Value{}, p.fail(err)
	}
	switch elem {
	case ValueString:
		return p.stringArray(int(n))
	case ValueArray:
		return p.nestedArray(int(n), depth, countAt)
	}
	raw := make([]byte, int(n)*int(each))
	if err := p.readFull(raw); err != nil {
		return Value{}, err
	}
	if elem == ValueBool {
		for i, b := range raw {
			if b > 1 {
				return Value{}, p.errAt(p.c.off-int64(len(raw)-i), detail(ErrBadValue, "bool element %d is %d, neither 0 nor 1", i, b))
			}
		}
	}
	return newFixedArray(elem, int(n), p.c.order, raw), nil
}

// readFull copies the next len(dst) bytes (known to be there) into dst.
func (p *parser) readFull(dst []byte) error {
	for len(dst) > 0 {
		w := p.c.window()
		if len(w) == 0 {
			n := len(dst)
			if n > readChunk {
				n = readChunk
			}
			if err := p.c.fill(n); err != nil {
				return p.fail(err)
			}
			continue
		}
		k := copy(dst, w)
		p.c.skip(k)
		dst = dst[k:]
	}
	return nil
}

// stringArray reads n strings into one slab plus an offset table, without
// an allocation per string. n*lengthSize bytes are known to be there.
func (p *parser) stringArray(n int) (Value, error) {
	c := p.c
	offs := make([]uint32, n+1)
	// Guess ~8 bytes a string (typical tokens); append grows it if not.
	guess := int64(n) * 8
	if guess > c.left() {
		guess = c.left()
	}
	raw := make([]byte, 0, guess)
	lenSize := int(c.countSize())
	for i := 0; i < n; {
		// Fast path: every string wholly inside the window.
		w := c.window()
		j := 0
		for i < n && len(w)-j >= lenSize {
			var l uint64
			if lenSize == 8 {
				l = c.order.Uint64(w[j:])
			} else {
				l = uint64(c.order.Uint32(w[j:]))
			}
			if l > uint64(len(w)-j-lenSize) {
				break
			}
			offs[i] = uint32(len(raw))
			raw = append(raw, w[j+lenSize:j+lenSize+int(l)]...)
			j += lenSize + int(l)
			i++
		}
		c.skip(j)
		if i == n {
			break
		}
		// Slow path: the next string straddles the window's end.
		at := c.off
		l, err := c.count("string length")
		if err != nil {
			return Value{}, p.fail(err)
		}
		if err := c.checkCount(l, 1, "string length", at); err != nil {
			return Value{}, p.fail(err)
		}
		if uint64(len(raw))+l > math.MaxUint32 {
			return Value{}, p.errAt(at, detail(ErrTooLarge, "string array holds more than 4 GiB"))
		}
		s, err := c.next(int(l))
		if err != nil {
			return Value{}, p.fail(err)
		}
		offs[i] = uint32(len(raw))
		raw = append(raw, s...)
		i++
	}
	if len(raw) > math.MaxUint32 {
		return Value{}, p.errAt(c.off, detail(ErrTooLarge, "string array holds more than 4 GiB"))
	}
	offs[n] = uint32(len(raw))
	return newStringArray(n, raw, offs), nil
}

// nestedArray reads n arrays.
func (p *parser) nestedArray(n, depth int, at int64) (Value, error) {
	if p.nestedArrays+n > maxNestedArrays {
		return Value{}, p.errAt(at, detail(ErrTooLarge, "more than %d arrays inside arrays", maxNestedArrays))
	}
	p.nestedArrays += n
	vals := make([]Value, n)
	for i := range vals {
		v, err := p.array(depth + 1)
		if err != nil {
			return Value{}, err
		}
		vals[i] = v
	}
	return newNestedArray(vals), nil
}
