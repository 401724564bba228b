package inspect

import (
	"math"
	"testing"
)

// The tensor table's appendOneLine agrees with oneLine: control characters
// and invalid UTF-8 become U+FFFD, the rest is kept.
func TestAppendOneLine(t *testing.T) {
	for _, s := range []string{"", "blk.0.attn_q.weight", "a\nb\rc\x00d\x7fe", "caf\xc3\xa9", "bad\xff\xc3", "\u2028é"} {
		if got := string(appendOneLine([]byte("x"), s)); got != "x"+oneLine(s) {
			t.Errorf("appendOneLine(%q) = %q, want %q", s, got[1:], oneLine(s))
		}
	}
}

func TestSaturatingAdd(t *testing.T) {
	if got := saturatingAdd(1<<63, 1<<63); got != math.MaxUint64 {
		t.Errorf("2^63 + 2^63 = %d, want the largest uint64", got)
	}
	if got := saturatingAdd(2, 3); got != 5 {
		t.Errorf("2 + 3 = %d", got)
	}
}
