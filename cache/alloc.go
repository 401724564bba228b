package cache

import (
	"fmt"
	"sort"
)

// allocAlign is the alignment of every block within an arena. 256 bytes is what
// cudaMalloc and hipMalloc guarantee for their own allocations, so a block
// is as well aligned for kernels and copies as a fresh device allocation.
const allocAlign = 256

// span is a range [off, off+size) of an arena.
type span struct {
	off, size uint64
}

// arenaAlloc hands out aligned ranges of one arena of fixed size. It only does
// arithmetic on offsets; the device memory itself lives elsewhere. Free spans
// are kept sorted by offset and never adjacent (freeing coalesces), so the
// list stays short. Not safe for concurrent use.
type arenaAlloc struct {
	size  uint64
	free  []span            // sorted by off, none adjacent, none empty
	used  map[uint64]uint64 // block offset → rounded size
	inUse uint64            // sum of used sizes
}

func newArenaAlloc(size uint64) *arenaAlloc {
	a := &arenaAlloc{size: size, used: make(map[uint64]uint64)}
	if size > 0 {
		a.free = []span{{0, size}}
	}
	return a
}

// alignUp rounds n up to a multiple of allocAlign; ok is false on overflow.
func alignUp(n uint64) (uint64, bool) {
	r := (n + allocAlign - 1) &^ (allocAlign - 1)
	return r, r >= n
}

// alloc reserves size bytes (rounded up to the alignment) at the lowest offset
// where they fit (first fit keeps a model loaded in file order packed).
func (a *arenaAlloc) alloc(size uint64) (off uint64, ok bool) {
	need, ok := alignUp(size)
	if size == 0 || !ok {
		return 0, false
	}
	for i, s := range a.free {
		if s.size < need {
			continue
		}
		off = s.off
		if s.size == need {
			a.free = append(a.free[:i], a.free[i+1:]...)
		} else {
			a.free[i] = span{s.off + need, s.size - need}
		}
		a.used[off] = need
		a.inUse += need
		return off, true
	}
	return 0, false
}

// release returns the block at off, merging it with free neighbours.
func (a *arenaAlloc) release(off uint64) error {
	size, ok := a.used[off]
	if !ok {
		return fmt.Errorf("cache: arena: no block at offset %d", off)
	}
	delete(a.used, off)
	a.inUse -= size
	// i is the first free span after the block.
	i := sort.Search(len(a.free), func(i int) bool { return a.free[i].off > off })
	mergePrev := i > 0 && a.free[i-1].off+a.free[i-1].size == off
	mergeNext := i < len(a.free) && off+size == a.free[i].off
	switch {
	case mergePrev && mergeNext:
		a.free[i-1].size += size + a.free[i].size
		a.free = append(a.free[:i], a.free[i+1:]...)
	case mergePrev:
		a.free[i-1].size += size
	case mergeNext:
		a.free[i] = span{off, size + a.free[i].size}
	default:
		a.free = append(a.free, span{})
		copy(a.free[i+1:], a.free[i:])
		a.free[i] = span{off, size}
	}
	return nil
}

// empty reports whether no block is in use.
func (a *arenaAlloc) empty() bool { return len(a.used) == 0 }
