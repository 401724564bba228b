package cache

import (
	"context"
	"errors"
	"testing"
)

// A second Release of one Handle must not take the pin of another: the
// tensor stays held by the Handle still live.
func TestSecondReleaseKeepsOtherHandlesPin(t *testing.T) {
	m := newTestModel(51, 1000)
	c := newTestCache(t, newHost(t, 1<<20), m, Options{Budget: 1 << 20})
	ctx := context.Background()
	first, err := c.Get(ctx, m.name(0))
	if err != nil {
		t.Fatal(err)
	}
	second, err := c.Get(ctx, m.name(0))
	if err != nil {
		t.Fatal(err)
	}
	first.Release()
	first.Release()
	if err := c.Evict(m.name(0)); !errors.Is(err, ErrPinned) {
		t.Fatalf("Evict while a second Handle is live = %v; want ErrPinned", err)
	}
	second.Release()
	if err := c.Evict(m.name(0)); err != nil {
		t.Fatalf("Evict after both Releases: %v", err)
	}
}

// A second call of one unpin must not undo another Pin.
func TestSecondUnpinKeepsOtherPin(t *testing.T) {
	m := newTestModel(52, 1000)
	c := newTestCache(t, newHost(t, 1<<20), m, Options{Budget: 1 << 20})
	unpinA, err := c.Pin(m.name(0))
	if err != nil {
		t.Fatal(err)
	}
	unpinB, err := c.Pin(m.name(0))
	if err != nil {
		t.Fatal(err)
	}
	checkTensor(t, c, m, m.name(0))
	unpinA()
	unpinA()
	if err := c.Evict(m.name(0)); !errors.Is(err, ErrPinned) {
		t.Fatalf("Evict while a second Pin holds = %v; want ErrPinned", err)
	}
	unpinB()
	if err := c.Evict(m.name(0)); err != nil {
		t.Fatalf("Evict after both unpins: %v", err)
	}
}
