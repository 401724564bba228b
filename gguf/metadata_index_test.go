package gguf

import "testing"

// Index finds each key's position in file order, and nothing for a key
// that is not there.
func TestMetadataIndex(t *testing.T) {
	m, err := NewMetadata(KV{Key: "b", Value: NewUint8(1)}, KV{Key: "a", Value: NewUint8(2)}, KV{Key: "c", Value: NewUint8(3)})
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]int{"b": 0, "a": 1, "c": 2} {
		if i, ok := m.Index(key); !ok || i != want || m.At(i).Key != key {
			t.Errorf("Index(%q) = %d, %v; want %d", key, i, ok, want)
		}
	}
	if i, ok := m.Index("d"); ok {
		t.Errorf("Index(\"d\") = %d, true; want not found", i)
	}
	var none *Metadata
	if _, ok := none.Index("a"); ok {
		t.Error("a nil Metadata's Index found a key")
	}
}
