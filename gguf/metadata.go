package gguf

import (
	"fmt"
	"iter"
	"math"
)

// KV is one metadata entry.
type KV struct {
	Key   string
	Value Value
}

// Metadata is a file's key-value section, in file order. Immutable and safe
// for concurrent use.
//
// Its memory is proportional to the entries: they are kept in chunks of
// kvChunk (growing by doubling would allocate twice their size on the way),
// and Get searches a sorted index of 4 bytes an entry rather than a map.
type Metadata struct {
	chunks [][]KV // file order; every chunk but the last holds kvChunk entries
	n      int
	index  nameIndex
}

// kvChunk is how many entries one chunk of a Metadata holds.
const kvChunk = allocAhead

// NewMetadata builds metadata from entries in the given order; keys must be
// unique.
func NewMetadata(kvs ...KV) (*Metadata, error) {
	m := &Metadata{}
	for _, kv := range kvs {
		m.add(kv)
	}
	if _, second, dup := m.buildIndex(); dup {
		return nil, fmt.Errorf("gguf: metadata key %s (entry %d): %w", quoteShort(m.key(second)), second, ErrDuplicate)
	}
	return m, nil
}

// add appends an entry.
func (m *Metadata) add(kv KV) {
	if m.n%kvChunk == 0 {
		m.chunks = append(m.chunks, make([]KV, 0, kvChunk))
	}
	last := len(m.chunks) - 1
	m.chunks[last] = append(m.chunks[last], kv)
	m.n++
}

// buildIndex indexes the entries by key and reports the first repeated key.
func (m *Metadata) buildIndex() (first, second int, dup bool) {
	m.index = newNameIndex(m.n, m.key)
	return m.index.duplicate(m.key)
}

func (m *Metadata) key(i int) string { return m.chunks[i/kvChunk][i%kvChunk].Key }

// Len is the number of entries.
func (m *Metadata) Len() int {
	if m == nil {
		return 0
	}
	return m.n
}

// All iterates the entries in file order.
func (m *Metadata) All() iter.Seq2[string, Value] {
	return func(yield func(string, Value) bool) {
		if m == nil {
			return
		}
		for _, c := range m.chunks {
			for _, kv := range c {
				if !yield(kv.Key, kv.Value) {
					return
				}
			}
		}
	}
}

// At returns entry i (0 <= i < Len) in file order.
func (m *Metadata) At(i int) KV { return m.chunks[i/kvChunk][i%kvChunk] }

// Keys returns the keys in file order.
func (m *Metadata) Keys() []string {
	keys := make([]string, m.Len())
	for i := range keys {
		keys[i] = m.key(i)
	}
	return keys
}

// Get looks a key up, in O(log n).
func (m *Metadata) Get(key string) (Value, bool) {
	if m == nil {
		return Value{}, false
	}
	i, ok := m.index.find(key, m.key)
	if !ok {
		return Value{}, false
	}
	return m.At(i).Value, true
}

// Index returns key's position in file order (At's argument), in O(log n).
func (m *Metadata) Index(key string) (int, bool) {
	if m == nil {
		return 0, false
	}
	return m.index.find(key, m.key)
}

// lookup returns key's value if it has type want.
func (m *Metadata) lookup(key string, want ValueType) (Value, error) {
	v, ok := m.Get(key)
	if !ok {
		return Value{}, fmt.Errorf("gguf: metadata key %s: %w", quoteShort(key), ErrKeyNotFound)
	}
	if v.typ != want {
		return Value{}, fmt.Errorf("gguf: metadata key %s: %w: is %s, not %s", quoteShort(key), ErrTypeMismatch, withArticle(v.describe()), withArticle(want.String()))
	}
	return v, nil
}

// String returns key's value, which must be a string.
func (m *Metadata) String(key string) (string, error) {
	v, err := m.lookup(key, ValueString)
	return v.str, err
}

// Uint32 returns key's value, which must be a uint32.
func (m *Metadata) Uint32(key string) (uint32, error) {
	v, err := m.lookup(key, ValueUint32)
	return uint32(v.bits), err
}

// Uint64 returns key's value, which must be a uint64.
func (m *Metadata) Uint64(key string) (uint64, error) {
	v, err := m.lookup(key, ValueUint64)
	return v.bits, err
}

// Int32 returns key's value, which must be an int32.
func (m *Metadata) Int32(key string) (int32, error) {
	v, err := m.lookup(key, ValueInt32)
	return int32(v.bits), err
}

// Float32 returns key's value, which must be a float32.
func (m *Metadata) Float32(key string) (float32, error) {
	v, err := m.lookup(key, ValueFloat32)
	return math.Float32frombits(uint32(v.bits)), err
}

// Bool returns key's value, which must be a bool.
func (m *Metadata) Bool(key string) (bool, error) {
	v, err := m.lookup(key, ValueBool)
	return v.bits != 0, err
}

// Array returns key's value, which must be an array.
func (m *Metadata) Array(key string) (Value, error) {
	return m.lookup(key, ValueArray)
}

// Uint returns key's value as uint64 if it is any unsigned integer type, or
// a non-negative signed one (counts are written as either by different tools).
func (m *Metadata) Uint(key string) (uint64, error) {
	v, ok := m.Get(key)
	if !ok {
		return 0, fmt.Errorf("gguf: metadata key %s: %w", quoteShort(key), ErrKeyNotFound)
	}
	switch {
	case v.typ.unsigned():
		return v.bits, nil
	case v.typ.signed() && int64(v.bits) >= 0:
		return v.bits, nil
	}
	return 0, fmt.Errorf("gguf: metadata key %s: %w: is %s, not a non-negative integer", quoteShort(key), ErrTypeMismatch, v.describeValue())
}
