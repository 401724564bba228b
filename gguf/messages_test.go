package gguf

import (
	"strings"
	"testing"
)

// Errors say what, where and why once: a long key is cut with its length,
// a key is not named twice, counts read as English.
func TestMessagesReadOnce(t *testing.T) {
	long := strings.Repeat("k", maxKeyBytes)
	_, err := parseBytes(tensorFile(nil, 0, KV{long, NewUint8(1)}, KV{long, NewUint8(2)}))
	wantFormatError(t, err, ErrDuplicate)
	if msg := err.Error(); len(msg) > 300 || !strings.Contains(msg, "(65535 bytes)") {
		t.Errorf("duplicate 65535-byte key: %d-byte message %.200q, want it cut, with the key's length", len(msg), msg)
	}

	_, err = parseBytes(tensorFile(nil, 0, KV{KeySplitNo, NewString("one")}))
	if err == nil || strings.Count(err.Error(), "split.no") != 1 || !strings.Contains(err.Error(), "is a string, not a non-negative integer") {
		t.Errorf("split.no of the wrong type: %v, want the key named once and what is wrong", err)
	}
	_, err = parseBytes(tensorFile(nil, 0, KV{KeySplitNo, NewInt32(-1)}))
	if err == nil || !strings.Contains(err.Error(), "is an int32 -1,") {
		t.Errorf("negative split.no: %v", err)
	}

	_, err = parseBytes(tensorFile(nil, 0, KV{alignmentKey, NewInt32(64)}))
	if err == nil || !strings.Contains(err.Error(), "alignment is an int32;") {
		t.Errorf("alignment of the wrong type: %v", err)
	}
	f := mustParse(t, tensorFile(nil, 0, KV{"n", NewInt32(3)}))
	if _, err := f.Metadata.Uint32("n"); err == nil || !strings.Contains(err.Error(), "is an int32, not a uint32") {
		t.Errorf("Uint32 of an int32: %v", err)
	}

	e := le(0, 1)
	e.str("k")
	e.u32(uint32(ValueString))
	e.count(101)
	e.b = append(e.b, "short"...)
	_, err = parseBytes(e.b)
	wantFormatError(t, err, ErrCount)
	if msg := err.Error(); !strings.Contains(msg, "needs 101 bytes; the file has 5 left") || strings.Count(msg, `"k"`) != 1 {
		t.Errorf("short string: %v", err)
	}
	e = le(0, 1)
	e.str("k")
	e.u32(uint32(ValueArray))
	e.u32(uint32(ValueUint32))
	e.count(101)
	_, err = parseBytes(e.b)
	if err == nil || !strings.Contains(err.Error(), "count 101 needs at least 4 bytes apiece") {
		t.Errorf("short array: %v", err)
	}
}
