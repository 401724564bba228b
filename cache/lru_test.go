package cache

import (
	"slices"
	"testing"

	"pgregory.net/rapid"
)

// TestLRUListMatchesSlice compares the intrusive list with a slice after
// random push, remove and move-to-back operations.
func TestLRUListMatchesSlice(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		entries := make([]*entry, 6)
		for i := range entries {
			entries[i] = &entry{index: i}
		}
		var l lruList
		var want []int
		pick := rapid.IntRange(0, len(entries)-1)
		t.Repeat(map[string]func(*rapid.T){
			"push": func(t *rapid.T) {
				i := pick.Draw(t, "i")
				if slices.Contains(want, i) {
					t.Skip("listed")
				}
				l.pushBack(entries[i])
				want = append(want, i)
			},
			"remove": func(t *rapid.T) {
				i := pick.Draw(t, "i")
				l.remove(entries[i]) // a no-op when not listed
				want = slices.DeleteFunc(want, func(x int) bool { return x == i })
			},
			"touch": func(t *rapid.T) {
				i := pick.Draw(t, "i")
				l.moveToBack(entries[i]) // a no-op when not listed
				if slices.Contains(want, i) {
					want = append(slices.DeleteFunc(want, func(x int) bool { return x == i }), i)
				}
			},
			"": func(t *rapid.T) {
				var fwd, back []int
				for e := l.front; e != nil; e = e.lru.next {
					fwd = append(fwd, e.index)
				}
				for e := l.back; e != nil; e = e.lru.prev {
					back = append(back, e.index)
				}
				slices.Reverse(back)
				if !slices.Equal(fwd, want) || !slices.Equal(back, want) {
					t.Fatalf("list %v (backwards %v); want %v", fwd, back, want)
				}
			},
		})
	})
}
