package gguf

import (
	"cmp"
	"slices"
)

// nameIndex finds a name among n named entries in O(log n) at 4 bytes an
// entry: the entries' positions, sorted by name (ties by position). A Go
// map of 2^20 short keys costs ~100 bytes a key with its growth, more than
// the file spends on each (a hostile header's worst case).
type nameIndex []int32

// newNameIndex sorts positions 0..n-1 by name(i).
func newNameIndex(n int, name func(i int) string) nameIndex {
	x := make(nameIndex, n)
	for i := range x {
		x[i] = int32(i)
	}
	slices.SortFunc(x, func(a, b int32) int {
		if c := cmp.Compare(name(int(a)), name(int(b))); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	return x
}

// find returns the first position whose name is key.
func (x nameIndex) find(key string, name func(i int) string) (int, bool) {
	i, ok := slices.BinarySearchFunc(x, key, func(p int32, key string) int { return cmp.Compare(name(int(p)), key) })
	if !ok {
		return 0, false
	}
	return int(x[i]), true
}

// duplicate returns the earliest position whose name an earlier position
// has too (second), and the first position with that name.
func (x nameIndex) duplicate(name func(i int) string) (first, second int, ok bool) {
	second = -1
	for start := 0; start < len(x); {
		end := start + 1
		for end < len(x) && name(int(x[end])) == name(int(x[start])) {
			end++
		}
		// Within a run of one name positions ascend.
		if end-start > 1 && (second < 0 || int(x[start+1]) < second) {
			first, second = int(x[start]), int(x[start+1])
		}
		start = end
	}
	return first, second, second >= 0
}
