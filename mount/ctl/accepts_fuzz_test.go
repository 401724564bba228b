package ctl

import (
	"bytes"
	"testing"
)

// FuzzAccepts: a control attribute's value is accepted exactly when it is
// empty or "1", with at most one trailing newline; nothing else, whatever
// the bytes (a future value must never be mistaken for today's).
func FuzzAccepts(f *testing.F) {
	for _, s := range []string{"", "1", "1\n", "\n", "0", "11", "1\n\n", "\x00", "1\r\n", " 1"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, v []byte) {
		s := bytes.TrimSuffix(v, []byte("\n"))
		want := len(s) == 0 || string(s) == "1"
		if got := Accepts(v); got != want {
			t.Fatalf("Accepts(%q) = %v, want %v", v, got, want)
		}
	})
}
