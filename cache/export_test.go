package cache

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/ggufs/ggufs/hip"
)

func TestHoldPinsAndCountsHolders(t *testing.T) {
	m := newTestModel(7, 4096, 8192)
	c := newTestCache(t, newHost(t, 1<<20), m, Options{Budget: 1 << 20})
	ctx := context.Background()
	a, err := c.Hold(ctx, m.name(0))
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Hold(ctx, m.name(0))
	if err != nil {
		t.Fatal(err)
	}
	if n := c.Holders(m.name(0)); n != 2 {
		t.Fatalf("Holders = %d with two holds, want 2", n)
	}
	if err := c.Evict(m.name(0)); !errors.Is(err, ErrPinned) {
		t.Fatalf("Evict of a held tensor: %v, want ErrPinned", err)
	}
	a.Release()
	a.Release() // a second Release must not count twice
	if n := c.Holders(m.name(0)); n != 1 {
		t.Fatalf("Holders = %d after one release, want 1", n)
	}
	b.Release()
	if n := c.Holders(m.name(0)); n != 0 {
		t.Fatalf("Holders = %d after both releases, want 0", n)
	}
	// A plain Get is not a hold.
	g, err := c.Get(ctx, m.name(0))
	if err != nil {
		t.Fatal(err)
	}
	if n := c.Holders(m.name(0)); n != 0 {
		t.Fatalf("Holders = %d with a Get, want 0", n)
	}
	g.Release()
	if err := c.Evict(m.name(0)); err != nil {
		t.Fatalf("Evict after every hold ended: %v", err)
	}
	if n := c.Holders("no such tensor"); n != 0 {
		t.Fatalf("Holders of an unknown tensor = %d", n)
	}
}

func TestPlacementIsTheTensorInItsAllocation(t *testing.T) {
	m := newTestModel(8, 4096, 8192, 100)
	dev := newHost(t, 1<<20)
	c := newTestCache(t, dev, m, Options{Budget: 1 << 20})
	ctx := context.Background()
	seen := map[uint64]bool{}
	var alloc uint64
	for i := range m.tensors {
		h, err := c.Hold(ctx, m.name(i))
		if err != nil {
			t.Fatal(err)
		}
		p := h.Placement()
		if p.Allocation == 0 || p.Base+hipPtr(p.Offset) != h.Ptr() || p.Offset+h.Size() > p.Size {
			t.Fatalf("%s: placement %+v does not hold the tensor at %#x (+%d)", m.name(i), p, h.Ptr(), h.Size())
		}
		if alloc != 0 && p.Allocation != alloc {
			t.Fatalf("%s: in allocation %d, the others in %d: one arena should hold all", m.name(i), p.Allocation, alloc)
		}
		alloc = p.Allocation
		if seen[p.Offset] {
			t.Fatalf("%s: offset %d given twice", m.name(i), p.Offset)
		}
		seen[p.Offset] = true
		got := make([]byte, h.Size())
		if err := dev.Download(got, p.Base+hipPtr(p.Offset)); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, m.data[m.name(i)]) {
			t.Fatalf("%s: the bytes at the placement are not the tensor's", m.name(i))
		}
		h.Release()
	}
}

func TestGenerationChangesWithEveryResidency(t *testing.T) {
	m := newTestModel(9, 4096)
	c := newTestCache(t, newHost(t, 1<<20), m, Options{Budget: 1 << 20})
	ctx := context.Background()
	hold := func() Placement {
		h, err := c.Hold(ctx, m.name(0))
		if err != nil {
			t.Fatal(err)
		}
		defer h.Release()
		return h.Placement()
	}
	first, again := hold(), hold()
	if first.Generation == 0 || first.Generation != again.Generation {
		t.Fatalf("generations %d then %d for one residency, want equal and non-zero", first.Generation, again.Generation)
	}
	if err := c.Evict(m.name(0)); err != nil {
		t.Fatal(err)
	}
	if next := hold(); next.Generation == first.Generation {
		t.Fatalf("generation %d unchanged after an eviction and a reload", next.Generation)
	}
}

func hipPtr(n uint64) hip.DevicePtr { return hip.DevicePtr(n) }

func TestResidentNeverLoads(t *testing.T) {
	m := newTestModel(10, 4096)
	c := newTestCache(t, newHost(t, 1<<20), m, Options{Budget: 1 << 20})
	if h, ok := c.Resident(m.name(0)); ok {
		h.Release()
		t.Fatal("Resident returned a Handle of a tensor never loaded")
	}
	if c.IsResident(m.name(0)) {
		t.Fatal("Resident loaded the tensor")
	}
	checkTensor(t, c, m, m.name(0))
	h, ok := c.Resident(m.name(0))
	if !ok {
		t.Fatal("Resident found no Handle of a resident tensor")
	}
	if err := c.Evict(m.name(0)); !errors.Is(err, ErrPinned) {
		t.Fatalf("Evict while Resident's Handle is live: %v, want ErrPinned", err)
	}
	h.Release()
	if _, ok := c.Resident("nope"); ok {
		t.Fatal("Resident of an unknown name")
	}
}
