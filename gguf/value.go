package gguf

import (
	"encoding/binary"
	"fmt"
	"math"
	"runtime"
	"strconv"
)

// ValueType is a metadata value type (0-12 in the file).
type ValueType uint32

const (
	ValueUint8 ValueType = iota
	ValueInt8
	ValueUint16
	ValueInt16
	ValueUint32
	ValueInt32
	ValueFloat32
	ValueBool
	ValueString
	ValueArray
	ValueUint64
	ValueInt64
	ValueFloat64

	valueTypeCount // first number that is not a value type
)

var valueTypeNames = [valueTypeCount]string{
	"uint8", "int8", "uint16", "int16", "uint32", "int32", "float32",
	"bool", "string", "array", "uint64", "int64", "float64",
}

// String returns the type's name ("uint8", …, "float64"), or "valuetype(N)".
func (t ValueType) String() string {
	if t < valueTypeCount {
		return valueTypeNames[t]
	}
	return "valuetype(" + strconv.FormatUint(uint64(t), 10) + ")"
}

// Valid reports whether t is one of the 13 value types.
func (t ValueType) Valid() bool { return t < valueTypeCount }

// fixedSize is the encoded size of a scalar of type t, or 0 for strings,
// arrays and unknown types.
func (t ValueType) fixedSize() int {
	switch t {
	case ValueUint8, ValueInt8, ValueBool:
		return 1
	case ValueUint16, ValueInt16:
		return 2
	case ValueUint32, ValueInt32, ValueFloat32:
		return 4
	case ValueUint64, ValueInt64, ValueFloat64:
		return 8
	}
	return 0
}

func (t ValueType) unsigned() bool {
	return t == ValueUint8 || t == ValueUint16 || t == ValueUint32 || t == ValueUint64
}

func (t ValueType) signed() bool {
	return t == ValueInt8 || t == ValueInt16 || t == ValueInt32 || t == ValueInt64
}

// Value is one metadata value: a scalar, a string, or an array (of scalars,
// strings or arrays). Values are immutable and safe for concurrent use; the
// zero Value is a uint8 0.
//
// Arrays read from a file keep their encoded bytes and decode elements on
// demand, so a 128k-entry tokenizer costs a few allocations, not one per
// element.
type Value struct {
	typ  ValueType
	bits uint64 // integer scalars (signed ones sign-extended), float bits (float32 as Float32bits), bool 0/1
	str  string // string scalar
	arr  *array // arrays
}

// array holds the elements of an array value in one of three forms:
//   - fixed-size scalars: raw is n encoded elements in byte order order;
//   - constructed strings: string i is raw[offs[i]:offs[i+1]] (offs has
//     n+1 entries), the strings lying back to back;
//   - parsed strings: raw is the encoded array as it was in the file, each
//     string after its skip-byte length in byte order order (skip is 4 or
//     8), and marks[k] is where string k*markStride starts: string i is
//     found by stepping over at most markStride-1 lengths from its mark.
//     An index of every string would be 4 bytes a string of new memory,
//     which a fresh process pays more for than for the steps;
//   - arrays: vals holds the element arrays; or, for parsed arrays whose
//     elements are all arrays of fixed-size scalars, subs says where each
//     lies in raw (their encoded elements back to back): 12 bytes an
//     element instead of a Value and an array of its own.
//
// raw may be borrowed from a header mapping (Options.BorrowArrays), which
// keep then holds: code that reads raw keeps the array alive until done
// (runtime.KeepAlive), so the mapping is not unmapped under it.
type array struct {
	elem  ValueType
	n     int
	order binary.ByteOrder
	raw   []byte
	offs  []uint32
	marks []uint32
	skip  uint32
	vals  []Value
	subs  []subArray // arrays of fixed-size elements, compact: see sub
	keep  *headerMapping
}

// subArray is an element of a compact array of arrays: n elements of type
// elem at raw[start:] of the enclosing array.
type subArray struct {
	elem     ValueType
	n, start uint32
}

// sub returns element k of a compact array of arrays, as an array of its own
// (sharing raw).
func (a *array) sub(k int) Value {
	s := a.subs[k]
	lo := int(s.start)
	hi := lo + int(s.n)*s.elem.fixedSize()
	return newFixedArray(s.elem, int(s.n), a.order, a.raw[lo:hi:hi])
}

// child returns element i of an array of arrays.
func (a *array) child(i int) Value {
	if a.subs != nil {
		return a.sub(i)
	}
	return a.vals[i]
}

// Scalar constructors.

func NewUint8(x uint8) Value     { return Value{typ: ValueUint8, bits: uint64(x)} }
func NewInt8(x int8) Value       { return Value{typ: ValueInt8, bits: uint64(int64(x))} }
func NewUint16(x uint16) Value   { return Value{typ: ValueUint16, bits: uint64(x)} }
func NewInt16(x int16) Value     { return Value{typ: ValueInt16, bits: uint64(int64(x))} }
func NewUint32(x uint32) Value   { return Value{typ: ValueUint32, bits: uint64(x)} }
func NewInt32(x int32) Value     { return Value{typ: ValueInt32, bits: uint64(int64(x))} }
func NewUint64(x uint64) Value   { return Value{typ: ValueUint64, bits: x} }
func NewInt64(x int64) Value     { return Value{typ: ValueInt64, bits: uint64(x)} }
func NewFloat32(x float32) Value { return Value{typ: ValueFloat32, bits: uint64(math.Float32bits(x))} }
func NewFloat64(x float64) Value { return Value{typ: ValueFloat64, bits: math.Float64bits(x)} }
func NewString(s string) Value   { return Value{typ: ValueString, str: s} }

func NewBool(b bool) Value {
	v := Value{typ: ValueBool}
	if b {
		v.bits = 1
	}
	return v
}

// NewArray builds an array of elem from vals, which must all be of type elem
// (arrays of arrays are allowed; their element types may differ).
func NewArray(elem ValueType, vals []Value) (Value, error) {
	if !elem.Valid() {
		return Value{}, fmt.Errorf("gguf: new array: %w: element type %s", ErrTypeMismatch, elem)
	}
	for i, v := range vals {
		if v.typ != elem {
			return Value{}, fmt.Errorf("gguf: new array of %s: element %d: %w: is %s", elem, i, ErrTypeMismatch, v.typ)
		}
	}
	switch {
	case elem == ValueArray:
		return Value{typ: ValueArray, arr: &array{elem: elem, n: len(vals), vals: append([]Value(nil), vals...)}}, nil
	case elem == ValueString:
		strs := make([]string, len(vals))
		for i, v := range vals {
			strs[i] = v.str
		}
		return NewStringArray(strs)
	default:
		size := elem.fixedSize()
		raw := make([]byte, len(vals)*size)
		for i, v := range vals {
			putFixed(raw[i*size:], elem, binary.LittleEndian, v.bits)
		}
		return newFixedArray(elem, len(vals), binary.LittleEndian, raw), nil
	}
}

// NewStringArray builds an array of strings. It fails only when the strings
// total 4 GiB or more.
func NewStringArray(strs []string) (Value, error) {
	total := 0
	for _, s := range strs {
		total += len(s)
	}
	if total > math.MaxUint32 {
		return Value{}, fmt.Errorf("gguf: new string array: %w: %d bytes of strings (limit 4 GiB)", ErrBadValue, total)
	}
	raw := make([]byte, 0, total)
	offs := make([]uint32, len(strs)+1)
	for i, s := range strs {
		offs[i] = uint32(len(raw))
		raw = append(raw, s...)
	}
	offs[len(strs)] = uint32(len(raw))
	return Value{typ: ValueArray, arr: &array{elem: ValueString, n: len(strs), raw: raw, offs: offs}}, nil
}

// NewUint8Array builds an array of uint8.
func NewUint8Array(xs []uint8) Value {
	return newFixedArray(ValueUint8, len(xs), binary.LittleEndian, append([]byte(nil), xs...))
}

// NewInt8Array builds an array of int8.
func NewInt8Array(xs []int8) Value {
	raw := make([]byte, len(xs))
	for i, x := range xs {
		raw[i] = byte(x)
	}
	return newFixedArray(ValueInt8, len(xs), binary.LittleEndian, raw)
}

// NewInt32Array builds an array of int32.
func NewInt32Array(xs []int32) Value {
	raw := make([]byte, 4*len(xs))
	for i, x := range xs {
		binary.LittleEndian.PutUint32(raw[4*i:], uint32(x))
	}
	return newFixedArray(ValueInt32, len(xs), binary.LittleEndian, raw)
}

// NewUint32Array builds an array of uint32.
func NewUint32Array(xs []uint32) Value {
	raw := make([]byte, 4*len(xs))
	for i, x := range xs {
		binary.LittleEndian.PutUint32(raw[4*i:], x)
	}
	return newFixedArray(ValueUint32, len(xs), binary.LittleEndian, raw)
}

// NewInt64Array builds an array of int64.
func NewInt64Array(xs []int64) Value {
	raw := make([]byte, 8*len(xs))
	for i, x := range xs {
		binary.LittleEndian.PutUint64(raw[8*i:], uint64(x))
	}
	return newFixedArray(ValueInt64, len(xs), binary.LittleEndian, raw)
}

// NewFloat32Array builds an array of float32.
func NewFloat32Array(xs []float32) Value {
	raw := make([]byte, 4*len(xs))
	for i, x := range xs {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(x))
	}
	return newFixedArray(ValueFloat32, len(xs), binary.LittleEndian, raw)
}

// NewFloat64Array builds an array of float64.
func NewFloat64Array(xs []float64) Value {
	raw := make([]byte, 8*len(xs))
	for i, x := range xs {
		binary.LittleEndian.PutUint64(raw[8*i:], math.Float64bits(x))
	}
	return newFixedArray(ValueFloat64, len(xs), binary.LittleEndian, raw)
}

// NewBoolArray builds an array of bool.
func NewBoolArray(xs []bool) Value {
	raw := make([]byte, len(xs))
	for i, x := range xs {
		if x {
			raw[i] = 1
		}
	}
	return newFixedArray(ValueBool, len(xs), binary.LittleEndian, raw)
}

// newFixedArray wraps n encoded fixed-size elements (raw is not copied).
func newFixedArray(elem ValueType, n int, order binary.ByteOrder, raw []byte) Value {
	return Value{typ: ValueArray, arr: &array{elem: elem, n: n, order: order, raw: raw}}
}

// markStride is how many strings of a parsed array share one mark.
const markStride = 16

// newParsedStringArray wraps n encoded strings (see array; raw and marks
// are not copied, and must be valid: parsing checked every length).
func newParsedStringArray(n int, raw []byte, marks []uint32, lenSize uint32, order binary.ByteOrder) Value {
	return Value{typ: ValueArray, arr: &array{elem: ValueString, n: n, raw: raw, marks: marks, skip: lenSize, order: order}}
}

// putFixed encodes a fixed-size scalar's bits into dst.
func putFixed(dst []byte, t ValueType, order binary.ByteOrder, bits uint64) {
	switch t.fixedSize() {
	case 1:
		dst[0] = byte(bits)
	case 2:
		order.PutUint16(dst, uint16(bits))
	case 4:
		order.PutUint32(dst, uint32(bits))
	case 8:
		order.PutUint64(dst, bits)
	}
}

// getFixed decodes a fixed-size scalar of type t from src into Value bits
// (sign-extending signed integers).
func getFixed(src []byte, t ValueType, order binary.ByteOrder) uint64 {
	switch t {
	case ValueUint8, ValueBool:
		return uint64(src[0])
	case ValueInt8:
		return uint64(int64(int8(src[0])))
	case ValueUint16:
		return uint64(order.Uint16(src))
	case ValueInt16:
		return uint64(int64(int16(order.Uint16(src))))
	case ValueUint32, ValueFloat32:
		return uint64(order.Uint32(src))
	case ValueInt32:
		return uint64(int64(int32(order.Uint32(src))))
	default: // 64-bit types
		return order.Uint64(src)
	}
}

// Type is the value's type.
func (v Value) Type() ValueType { return v.typ }

// ElemType is an array's element type. For a non-array it is the value's own
// type; check Type() == ValueArray first.
func (v Value) ElemType() ValueType {
	if v.arr == nil {
		return v.typ
	}
	return v.arr.elem
}

// Len is an array's element count, 0 for a scalar.
func (v Value) Len() int {
	if v.arr == nil {
		return 0
	}
	return v.arr.n
}

// Index returns element i of an array.
func (v Value) Index(i int) (Value, error) {
	if v.arr == nil {
		return Value{}, v.mismatch(ValueArray)
	}
	if i < 0 || i >= v.arr.n {
		return Value{}, fmt.Errorf("gguf: index %d of %d-element array: %w", i, v.arr.n, ErrIndex)
	}
	return v.arr.at(i), nil
}

// at returns element i, which must be in range.
func (a *array) at(i int) Value {
	var v Value
	switch a.elem {
	case ValueArray:
		return a.child(i)
	case ValueString:
		v = Value{typ: ValueString, str: string(a.strBytes(i))}
	default:
		size := a.elem.fixedSize()
		v = Value{typ: a.elem, bits: getFixed(a.raw[i*size:], a.elem, a.order)}
	}
	runtime.KeepAlive(a)
	return v
}

// strBytes returns string element i's bytes without copying (read-only).
func (a *array) strBytes(i int) []byte {
	if a.offs != nil {
		return a.raw[a.offs[i]:a.offs[i+1]]
	}
	pos := a.marks[i/markStride]
	for range i % markStride {
		pos = a.strEnd(pos)
	}
	return a.raw[min(pos+a.skip, a.strEnd(pos)):a.strEnd(pos)]
}

// strEnd returns where the parsed string starting at pos ends. The lengths
// were checked at parse time, but raw may be a view of the file (borrowed)
// or a second read of it: if the file changed since, a length can point
// anywhere, so the result is clamped to raw, never out of range. Such a
// file reads as wrong strings, not as a crash.
func (a *array) strEnd(pos uint32) uint32 {
	n := uint64(len(a.raw))
	if uint64(pos)+uint64(a.skip) > n {
		return uint32(n)
	}
	var l uint64
	if a.skip == 8 {
		l = a.order.Uint64(a.raw[pos:])
	} else {
		l = uint64(a.order.Uint32(a.raw[pos:]))
	}
	return uint32(min(uint64(pos)+uint64(a.skip)+l, n))
}

// eachStr calls yield with each string element's bytes in order (read-only),
// stepping through a parsed array once rather than from a mark per string,
// until yield returns false.
func (a *array) eachStr(yield func(i int, b []byte) bool) {
	if a.offs != nil {
		for i := 0; i < a.n; i++ {
			if !yield(i, a.raw[a.offs[i]:a.offs[i+1]]) {
				break
			}
		}
		runtime.KeepAlive(a)
		return
	}
	var pos uint32
	for i := 0; i < a.n; i++ {
		end := a.strEnd(pos)
		if !yield(i, a.raw[min(pos+a.skip, end):end]) {
			break
		}
		pos = end
	}
	runtime.KeepAlive(a)
}

func (v Value) mismatch(want ValueType) error {
	return fmt.Errorf("gguf: %w: value is %s, not %s", ErrTypeMismatch, withArticle(v.describe()), withArticle(want.String()))
}

// describe names the type, with the element type for arrays ("array of int8").
// describeValue is describe with an article, and a signed integer's value
// (a negative count is told apart from a wrong type).
func (v Value) describeValue() string {
	if v.typ.signed() {
		return fmt.Sprintf("%s %d", withArticle(v.describe()), int64(v.bits))
	}
	return withArticle(v.describe())
}

func (v Value) describe() string {
	if v.arr != nil {
		return "array of " + v.arr.elem.String()
	}
	return v.typ.String()
}

// Uint returns an unsigned integer (uint8, uint16, uint32 or uint64).
func (v Value) Uint() (uint64, error) {
	if !v.typ.unsigned() {
		return 0, fmt.Errorf("gguf: %w: value is %s, not an unsigned integer", ErrTypeMismatch, withArticle(v.describe()))
	}
	return v.bits, nil
}

// Int returns a signed integer (int8, int16, int32 or int64).
func (v Value) Int() (int64, error) {
	if !v.typ.signed() {
		return 0, fmt.Errorf("gguf: %w: value is %s, not a signed integer", ErrTypeMismatch, withArticle(v.describe()))
	}
	return int64(v.bits), nil
}

// Float returns a float32 (exactly widened) or float64.
func (v Value) Float() (float64, error) {
	switch v.typ {
	case ValueFloat32:
		return float64(math.Float32frombits(uint32(v.bits))), nil
	case ValueFloat64:
		return math.Float64frombits(v.bits), nil
	}
	return 0, fmt.Errorf("gguf: %w: value is %s, not a float", ErrTypeMismatch, withArticle(v.describe()))
}

// Bool returns a bool.
func (v Value) Bool() (bool, error) {
	if v.typ != ValueBool {
		return false, v.mismatch(ValueBool)
	}
	return v.bits != 0, nil
}

// Str returns a string.
func (v Value) Str() (string, error) {
	if v.typ != ValueString {
		return "", v.mismatch(ValueString)
	}
	return v.str, nil
}

// Any returns the value as a native Go value: uint8, int8, uint16, int16,
// uint32, int32, float32, bool, string, uint64, int64, float64, or []any for
// an array.
func (v Value) Any() any {
	switch v.typ {
	case ValueUint8:
		return uint8(v.bits)
	case ValueInt8:
		return int8(v.bits)
	case ValueUint16:
		return uint16(v.bits)
	case ValueInt16:
		return int16(v.bits)
	case ValueUint32:
		return uint32(v.bits)
	case ValueInt32:
		return int32(v.bits)
	case ValueFloat32:
		return math.Float32frombits(uint32(v.bits))
	case ValueBool:
		return v.bits != 0
	case ValueString:
		return v.str
	case ValueUint64:
		return v.bits
	case ValueInt64:
		return int64(v.bits)
	case ValueFloat64:
		return math.Float64frombits(v.bits)
	case ValueArray:
		if v.arr == nil {
			return []any{}
		}
		out := make([]any, v.arr.n)
		for i := range out {
			out[i] = v.arr.at(i).Any()
		}
		return out
	}
	return nil
}

// Equal reports whether v and w have the same type and contents. Floats
// compare by bit pattern, so NaN equals the same NaN; byte order and how
// the value was made (parsed or constructed) do not matter.
func (v Value) Equal(w Value) bool {
	if v.typ != w.typ {
		return false
	}
	switch v.typ {
	case ValueString:
		return v.str == w.str
	case ValueArray:
		return v.arr.equal(w.arr)
	}
	return v.bits == w.bits
}

func (a *array) equal(b *array) bool {
	if a == nil || b == nil {
		return a.len() == 0 && b.len() == 0
	}
	if a.elem != b.elem || a.n != b.n {
		return false
	}
	switch a.elem {
	case ValueString:
		if a.offs == nil && b.offs == nil && a.skip == b.skip && a.order == b.order {
			eq := string(a.raw) == string(b.raw) // the same encoding
			runtime.KeepAlive(a)
			runtime.KeepAlive(b)
			return eq
		}
		eq := true
		a.eachStr(func(i int, s []byte) bool {
			eq = string(s) == string(b.strBytes(i))
			return eq
		})
		runtime.KeepAlive(b)
		return eq
	case ValueArray:
		for i := 0; i < a.n; i++ {
			if !a.child(i).Equal(b.child(i)) {
				return false
			}
		}
	default:
		if a.order == b.order {
			eq := string(a.raw) == string(b.raw)
			runtime.KeepAlive(a)
			runtime.KeepAlive(b)
			return eq
		}
		for i := 0; i < a.n; i++ {
			if a.at(i).bits != b.at(i).bits {
				return false
			}
		}
	}
	runtime.KeepAlive(a)
	runtime.KeepAlive(b)
	return true
}

func (a *array) len() int {
	if a == nil {
		return 0
	}
	return a.n
}
