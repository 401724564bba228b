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
type Metadata struct {
	kvs   []KV
	index map[string]int
}

// NewMetadata builds metadata from entries in the given order; keys must be
// unique.
func NewMetadata(kvs ...KV) (*Metadata, error) {
	m := &Metadata{kvs: append([]KV(nil), kvs...), index: make(map[string]int, len(kvs))}
	for i, kv := range m.kvs {
		if _, dup := m.index[kv.Key]; dup {
			return nil, fmt.Errorf("gguf: metadata key %q: %w", kv.Key, ErrDuplicate)
		}
		m.index[kv.Key] = i
	}
	return m, nil
}

// Len is the number of entries.
func (m *Metadata) Len() int {
	if m == nil {
		return 0
	}
	return len(m.kvs)
}

// All iterates the entries in file order.
func (m *Metadata) All() iter.Seq2[string, Value] {
	return func(yield func(string, Value) bool) {
		if m == nil {
			return
		}
		for _, kv := range m.kvs {
			if !yield(kv.Key, kv.Value) {
				return
			}
		}
	}
}

// At returns entry i (0 <= i < Len) in file order.
func (m *Metadata) At(i int) KV { return m.kvs[i] }

// Keys returns the keys in file order.
func (m *Metadata) Keys() []string {
	keys := make([]string, m.Len())
	for i := range keys {
		keys[i] = m.kvs[i].Key
	}
	return keys
}

// Get looks a key up.
func (m *Metadata) Get(key string) (Value, bool) {
	if m == nil {
		return Value{}, false
	}
	i, ok := m.index[key]
	if !ok {
		return Value{}, false
	}
	return m.kvs[i].Value, true
}

// lookup returns key's value if it has type want.
func (m *Metadata) lookup(key string, want ValueType) (Value, error) {
	v, ok := m.Get(key)
	if !ok {
		return Value{}, fmt.Errorf("gguf: metadata key %q: %w", key, ErrKeyNotFound)
	}
	if v.typ != want {
		return Value{}, fmt.Errorf("gguf: metadata key %q: %w: is %s, not %s", key, ErrTypeMismatch, v.describe(), want)
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
		return 0, fmt.Errorf("gguf: metadata key %q: %w", key, ErrKeyNotFound)
	}
	switch {
	case v.typ.unsigned():
		return v.bits, nil
	case v.typ.signed() && int64(v.bits) >= 0:
		return v.bits, nil
	}
	return 0, fmt.Errorf("gguf: metadata key %q: %w: is %s, not a non-negative integer", key, ErrTypeMismatch, v.describe())
}
