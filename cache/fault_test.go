package cache

import (
	"context"
	"errors"
	"testing"

	"github.com/ggufs/ggufs/hip"
)

func TestFailedUploadIsReportedAndRetried(t *testing.T) {
	m := newTestModel(11, 5000)
	h := newHost(t, 1<<20)
	c := newTestCache(t, h, m, Options{Budget: 1 << 20})
	h.FailUpload(1)
	_, err := c.Get(context.Background(), m.name(0))
	if !errors.Is(err, hip.ErrInjected) {
		t.Fatalf("Get with a failing upload = %v; want hip.ErrInjected", err)
	}
	st := c.Status(m.name(0))
	if st.State != Failed || !errors.Is(st.Err, hip.ErrInjected) || st.String()[:7] != "error: " {
		t.Fatalf("status = %q; want error: <reason>", st)
	}
	s := c.Stats()
	if s.Failures != 1 || s.Uploads != 0 || s.ResidentBytes != 0 || s.ResidentTensors != 0 {
		t.Fatalf("stats after failed upload = %+v", s)
	}
	// The reserved block went back: the arena is empty but kept.
	if s.DeviceBytes != h.Allocated() {
		t.Fatalf("cache holds %d, device %d", s.DeviceBytes, h.Allocated())
	}
	checkTensor(t, c, m, m.name(0))
	if s := c.Stats(); s.Uploads != 1 || s.Failures != 1 || !c.IsResident(m.name(0)) {
		t.Fatalf("after retry: %+v", s)
	}
}

func TestFailedAllocationWithNothingToEvict(t *testing.T) {
	m := newTestModel(12, 5000)
	h := newHost(t, 1<<20)
	c := newTestCache(t, h, m, Options{Budget: 1 << 20})
	h.FailAlloc(1)
	_, err := c.Get(context.Background(), m.name(0))
	if !errors.Is(err, ErrNoSpace) || !errors.Is(err, hip.ErrInjected) {
		t.Fatalf("Get with a failing allocation = %v; want ErrNoSpace wrapping the device's error", err)
	}
	if st := c.Status(m.name(0)); st.State != Unloaded || !errors.Is(st.LastErr, hip.ErrInjected) {
		t.Fatalf("status = %v", st)
	}
	if s := c.Stats(); s.Failures != 1 || s.DeviceAllocations != 0 || s.DeviceAllocationsTotal != 0 || h.Allocated() != 0 {
		t.Fatalf("stats = %+v, device %d", s, h.Allocated())
	}
	checkTensor(t, c, m, m.name(0))
	if s := c.Stats(); s.DeviceAllocations != 1 || s.Uploads != 1 {
		t.Fatalf("after retry: %+v", s)
	}
}

func TestDeviceOutOfMemoryEvictsAndRetries(t *testing.T) {
	// Each tensor fills its own arena; the device (not the budget) runs out.
	m := newTestModel(13, 8<<10, 8<<10)
	h := newHost(t, 1<<20)
	var evicted []string
	c := newTestCache(t, h, m, Options{Budget: 1 << 20, ArenaSize: 8 << 10, OnEvict: func(n string) { evicted = append(evicted, n) }})
	checkTensor(t, c, m, m.name(0))
	h.FailAlloc(1) // the device says it is full for the second arena
	checkTensor(t, c, m, m.name(1))
	if c.IsResident(m.name(0)) || len(evicted) != 1 || evicted[0] != m.name(0) {
		t.Fatalf("device OOM should evict tensor 0: status %v, OnEvict %v", c.Status(m.name(0)), evicted)
	}
	if s := c.Stats(); s.DeviceAllocations != 1 || s.Evictions != 1 || s.Failures != 0 || h.Allocated() != s.DeviceBytes {
		t.Fatalf("stats = %+v host %d", s, h.Allocated())
	}
}

func TestUnreadableSourceFailsTheTensor(t *testing.T) {
	m := newTestModel(14, 1000, 1000)
	gone := errors.New("file truncated")
	m.tensors[0].Source = failingSource(gone)
	m.tensors[1].Source = memorySource(make([]byte, 10)) // wrong length
	h := newHost(t, 1<<20)
	c := newTestCache(t, h, m, Options{Budget: 1 << 20})
	if _, err := c.Get(context.Background(), m.name(0)); !errors.Is(err, gone) {
		t.Fatalf("Get = %v; want the source's error", err)
	}
	if _, err := c.Get(context.Background(), m.name(1)); err == nil {
		t.Fatal("Get of a source with the wrong length succeeded")
	}
	if s := c.Stats(); s.Failures != 2 || s.ResidentBytes != 0 {
		t.Fatalf("stats = %+v", s)
	}
}
