package cache

import (
	"cmp"
	"slices"
	"testing"

	"pgregory.net/rapid"
)

func TestArenaAllocAlignsAndCoalesces(t *testing.T) {
	a := newArenaAlloc(4 * allocAlign)
	x, ok := a.alloc(1)
	if !ok || x != 0 {
		t.Fatalf("alloc(1) = %d, %v; want 0, true", x, ok)
	}
	y, ok := a.alloc(allocAlign + 1) // rounds up to two units
	if !ok || y != allocAlign {
		t.Fatalf("alloc(257) = %d, %v; want %d, true", y, ok, allocAlign)
	}
	z, ok := a.alloc(allocAlign)
	if !ok || z != 3*allocAlign {
		t.Fatalf("alloc(256) = %d, %v; want %d, true", z, ok, 3*allocAlign)
	}
	if _, ok := a.alloc(1); ok {
		t.Fatal("alloc in a full arena succeeded")
	}
	// Free the outer blocks, then the middle one: all three must merge.
	for _, off := range []uint64{x, z, y} {
		if err := a.release(off); err != nil {
			t.Fatal(err)
		}
	}
	if len(a.free) != 1 || a.free[0] != (span{0, a.size}) || a.inUse != 0 || !a.empty() {
		t.Fatalf("after freeing all: free=%v inUse=%d", a.free, a.inUse)
	}
	if got, ok := a.alloc(a.size); !ok || got != 0 {
		t.Fatalf("whole-arena alloc after coalescing = %d, %v", got, ok)
	}
}

func TestArenaAllocRejectsBadRequests(t *testing.T) {
	a := newArenaAlloc(1 << 20)
	if _, ok := a.alloc(0); ok {
		t.Error("alloc(0) succeeded")
	}
	if _, ok := a.alloc(^uint64(0)); ok {
		t.Error("alloc(max uint64) succeeded (alignment overflow)")
	}
	if _, ok := a.alloc(1<<20 + 1); ok {
		t.Error("alloc larger than the arena succeeded")
	}
	if err := a.release(0); err == nil {
		t.Error("release of a block never allocated succeeded")
	}
	off, _ := a.alloc(10)
	if err := a.release(off); err != nil {
		t.Fatal(err)
	}
	if err := a.release(off); err == nil {
		t.Error("double release succeeded")
	}
}

// TestArenaAllocProperties drives random alloc/free sequences and checks,
// after every step, that live blocks are aligned, in bounds and disjoint,
// that free spans are sorted, disjoint and coalesced, that used + free covers
// the arena exactly, and that alloc fails only when no free span fits.
func TestArenaAllocProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		size := rapid.Uint64Range(1, 64).Draw(t, "units") * allocAlign
		a := newArenaAlloc(size)
		live := map[uint64]uint64{} // offset → requested size
		for step := range rapid.IntRange(1, 200).Draw(t, "steps") {
			if len(live) > 0 && rapid.Bool().Draw(t, "free") {
				offs := make([]uint64, 0, len(live))
				for off := range live {
					offs = append(offs, off)
				}
				slices.Sort(offs)
				off := rapid.SampledFrom(offs).Draw(t, "victim")
				if err := a.release(off); err != nil {
					t.Fatalf("step %d: release(%d): %v", step, off, err)
				}
				delete(live, off)
			} else {
				n := rapid.Uint64Range(1, size+allocAlign).Draw(t, "size")
				fits := false
				need, _ := alignUp(n)
				for _, s := range a.free {
					fits = fits || s.size >= need
				}
				off, ok := a.alloc(n)
				if ok != fits {
					t.Fatalf("step %d: alloc(%d) ok=%v but a free span fits: %v (free %v)", step, n, ok, fits, a.free)
				}
				if ok {
					live[off] = n
				}
			}
			checkArena(t, a, live)
		}
	})
}

func checkArena(t *rapid.T, a *arenaAlloc, live map[uint64]uint64) {
	type blk struct{ off, end uint64 }
	var blocks []blk
	var used uint64
	for off, n := range live {
		need, _ := alignUp(n)
		if a.used[off] != need {
			t.Fatalf("block at %d: allocator has size %d, want %d", off, a.used[off], need)
		}
		if off%allocAlign != 0 {
			t.Fatalf("block at %d not aligned to %d", off, allocAlign)
		}
		if off+need > a.size {
			t.Fatalf("block [%d, %d) beyond arena of %d", off, off+need, a.size)
		}
		blocks = append(blocks, blk{off, off + need})
		used += need
	}
	if len(a.used) != len(live) {
		t.Fatalf("allocator tracks %d blocks, want %d", len(a.used), len(live))
	}
	if a.inUse != used {
		t.Fatalf("inUse = %d, want %d", a.inUse, used)
	}
	var free uint64
	for i, s := range a.free {
		if s.size == 0 {
			t.Fatalf("empty free span %v", s)
		}
		if i > 0 && a.free[i-1].off+a.free[i-1].size >= s.off {
			t.Fatalf("free spans %v and %v overlap or touch (not coalesced)", a.free[i-1], s)
		}
		blocks = append(blocks, blk{s.off, s.off + s.size})
		free += s.size
	}
	if used+free != a.size {
		t.Fatalf("used %d + free %d != arena %d", used, free, a.size)
	}
	// Used blocks and free spans together tile the arena without overlap.
	slices.SortFunc(blocks, func(x, y blk) int { return cmp.Compare(x.off, y.off) })
	var at uint64
	for _, b := range blocks {
		if b.off != at {
			t.Fatalf("gap or overlap at %d (next range starts at %d)", at, b.off)
		}
		at = b.end
	}
	if at != a.size {
		t.Fatalf("ranges end at %d, arena is %d", at, a.size)
	}
}
