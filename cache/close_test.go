package cache

import (
	"errors"
	"strings"
	"testing"

	"github.com/ggufs/ggufs/hip"
)

// breakBlock makes the pool no longer know e's block, as a bug in the
// cache's bookkeeping would.
func breakBlock(c *Cache, name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.byName[name].block.off += allocAlign * 1000
}

// Close returns every broken invariant it met, not only the first, and the
// device's refusal to free memory beside them.
func TestCloseReturnsEveryFault(t *testing.T) {
	m := newTestModel(71, 1000, 2000, 3000)
	dev := &failingDevice{Host: newHost(t, 1<<20)}
	c, err := New(dev, m.tensors, Options{Budget: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	for i := range m.tensors {
		checkTensor(t, c, m, m.name(i))
	}
	breakBlock(c, m.name(0))
	breakBlock(c, m.name(2))
	for _, i := range []int{0, 2} {
		if err := c.Evict(m.name(i)); err != nil {
			t.Fatalf("Evict(%s): %v", m.name(i), err)
		}
	}
	dev.free = &hip.RuntimeError{Backend: "cuda", Call: "cudaFree", Code: 700, Name: "cudaErrorIllegalAddress"}
	err = c.Close()
	if !errors.Is(err, ErrInternal) || !errors.Is(err, dev.free) {
		t.Fatalf("Close = %v; want the broken invariants and the failed free", err)
	}
	for _, name := range []string{m.name(0), m.name(2)} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("Close = %v; does not name %s", err, name)
		}
	}
	if strings.Contains(err.Error(), m.name(1)) {
		t.Errorf("Close = %v; names %s, which broke nothing", err, m.name(1))
	}
}

// A clean cache closes without error, and Close's error is bounded however
// many faults it met.
func TestCloseFaultsAreBounded(t *testing.T) {
	m := newTestModel(72, 1000)
	c, err := New(newHost(t, 1<<20), m.tensors, Options{Budget: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	checkTensor(t, c, m, m.name(0))
	c.mu.Lock()
	for range maxFaults * 3 {
		c.faults.add(errors.New("fault"))
	}
	c.mu.Unlock()
	err = c.Close()
	if got := strings.Count(err.Error(), "fault\n"); got != maxFaults {
		t.Errorf("Close listed %d faults; want %d", got, maxFaults)
	}
	if !strings.Contains(err.Error(), "32 more faults not listed") {
		t.Errorf("Close = %v; want the count of those not listed", err)
	}

	clean, err := New(newHost(t, 1<<20), m.tensors, Options{Budget: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	checkTensor(t, clean, m, m.name(0))
	if err := clean.Close(); err != nil {
		t.Fatalf("Close of a clean cache = %v", err)
	}
}
