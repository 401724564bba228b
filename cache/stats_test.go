package cache

import (
	"context"
	"encoding/json"
	"testing"
)

func TestStatsAsJSON(t *testing.T) {
	m := newTestModel(40, 1000, 2000)
	c := newTestCache(t, newHost(t, 1<<20), m, Options{Budget: 1 << 20})
	checkTensor(t, c, m, m.name(0))
	checkTensor(t, c, m, m.name(0))
	b, err := json.Marshal(c.Stats())
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]float64{
		"hits": 1, "misses": 1, "uploads": 1, "uploaded_bytes": 1000, "evictions": 0, "failures": 0,
		"resident_tensors": 1, "resident_bytes": 1000, "device_allocations": 1, "device_allocations_total": 1,
		"budget_bytes": 1 << 20, "tensors": 2,
	} {
		if got[key] != want {
			t.Errorf("%s = %v; want %v (%s)", key, got[key], want, b)
		}
	}
	for _, key := range []string{"upload_seconds", "device_bytes", "arena_size", "device"} {
		if _, ok := got[key]; !ok {
			t.Errorf("JSON lacks %s: %s", key, b)
		}
	}
}

// TestStatusDoesNotTakeTheLock reads every status while the cache's mutex is
// held: were Status to take it, the test would hang instead of passing.
func TestStatusDoesNotTakeTheLock(t *testing.T) {
	m := newTestModel(41, 1000, 1000)
	c := newTestCache(t, newHost(t, 1<<20), m, Options{Budget: 1 << 20})
	h, err := c.Get(context.Background(), m.name(0))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Release()
	c.mu.Lock()
	s0, s1 := c.Status(m.name(0)), c.Status(m.name(1))
	r0 := c.IsResident(m.name(0))
	c.mu.Unlock()
	if s0.State != Resident || s1.State != Unloaded || !r0 {
		t.Fatalf("statuses %v, %v, resident %v", s0, s1, r0)
	}
}
