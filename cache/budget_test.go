package cache

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/ggufs/ggufs/hip"
)

// memInfoDevice counts MemInfo calls and answers them with err when set.
type memInfoDevice struct {
	*hip.Host
	calls atomic.Int32
	err   error
}

func (d *memInfoDevice) MemInfo() (free, total uint64, err error) {
	d.calls.Add(1)
	if d.err != nil {
		return 0, 0, d.err
	}
	return d.Host.MemInfo()
}

// A budget given as a share of free memory is read from the device at the
// first Get, not at New: a device still opening does not hold up New.
func TestBudgetFractionIsReadAtFirstGet(t *testing.T) {
	m := newTestModel(1, 4096, 8192)
	dev := &memInfoDevice{Host: newHost(t, 1<<20)}
	c := newTestCache(t, dev, m, Options{BudgetFraction: 0.5})
	if n := dev.calls.Load(); n != 0 {
		t.Fatalf("New asked the device for its free memory %d times, want 0", n)
	}
	if b, ok := c.BudgetKnown(); ok || b != 0 {
		t.Errorf("BudgetKnown before any Get = %d, %v; want 0, false", b, ok)
	}
	checkTensor(t, c, m, m.name(0))
	checkTensor(t, c, m, m.name(1))
	if n := dev.calls.Load(); n != 1 {
		t.Errorf("MemInfo called %d times, want once", n)
	}
	if b, ok := c.BudgetKnown(); !ok || b != 1<<19 {
		t.Errorf("BudgetKnown = %d, %v; want %d, true", b, ok, 1<<19)
	}
	if s := c.Stats(); s.BudgetBytes != 1<<19 || s.ArenaSize == 0 {
		t.Errorf("stats budget %d arena %d, want %d and an arena", s.BudgetBytes, s.ArenaSize, 1<<19)
	}
}

// A budget in bytes never asks the device.
func TestBudgetInBytesNeverAsksTheDevice(t *testing.T) {
	m := newTestModel(2, 4096)
	dev := &memInfoDevice{Host: newHost(t, 1<<20)}
	c := newTestCache(t, dev, m, Options{Budget: 1 << 16})
	if b, ok := c.BudgetKnown(); !ok || b != 1<<16 {
		t.Errorf("BudgetKnown = %d, %v; want %d, true", b, ok, 1<<16)
	}
	checkTensor(t, c, m, m.name(0))
	if n := dev.calls.Load(); n != 0 {
		t.Errorf("MemInfo called %d times, want 0", n)
	}
}

// A device that cannot report its memory fails every Get and Load with its
// error; the cache stays usable for Status and Close.
func TestBudgetFromAFailingDevice(t *testing.T) {
	m := newTestModel(3, 4096)
	broken := errors.New("no runtime")
	dev := &memInfoDevice{Host: newHost(t, 1<<20), err: broken}
	c := newTestCache(t, dev, m, Options{})
	if _, err := c.Get(context.Background(), m.name(0)); !errors.Is(err, broken) {
		t.Errorf("Get: %v, want the device's error", err)
	}
	if _, err := c.Load(context.Background(), []string{m.name(0)}, LoadOptions{}); !errors.Is(err, broken) {
		t.Errorf("Load: %v, want the device's error", err)
	}
	if c.Budget() != 0 {
		t.Errorf("Budget = %d, want 0 from a device that cannot say", c.Budget())
	}
	if s := c.Status(m.name(0)); s.State != Unloaded {
		t.Errorf("status %v, want Unloaded", s.State)
	}
}
