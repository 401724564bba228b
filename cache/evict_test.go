package cache

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ggufs/ggufs/hip"
)

// slotModel has n tensors of one aligned size, and a cache with room for
// slots of them in one arena, so which tensor LRU evicts is exact.
func slotCache(t *testing.T, n, slots int, onEvict func(string)) (*Cache, *testModel, *hip.Host) {
	t.Helper()
	sizes := make([]uint64, n)
	for i := range sizes {
		sizes[i] = 4 * allocAlign
	}
	m := newTestModel(uint64(n), sizes...)
	h := newHost(t, 1<<20)
	budget := uint64(slots) * 4 * allocAlign
	c := newTestCache(t, h, m, Options{Budget: budget, ArenaSize: budget, OnEvict: onEvict})
	return c, m, h
}

func TestLRUEvictsLeastRecentlyUsed(t *testing.T) {
	var mu sync.Mutex
	var evicted []string
	c, m, _ := slotCache(t, 4, 2, func(name string) {
		mu.Lock()
		evicted = append(evicted, name)
		mu.Unlock()
	})
	checkTensor(t, c, m, m.name(0))
	checkTensor(t, c, m, m.name(1))
	checkTensor(t, c, m, m.name(0)) // 1 is now the least recently used
	checkTensor(t, c, m, m.name(2))
	if c.IsResident(m.name(1)) || !c.IsResident(m.name(0)) || !c.IsResident(m.name(2)) {
		t.Fatalf("after LRU eviction: 0=%v 1=%v 2=%v; want 1 evicted", c.Status(m.name(0)), c.Status(m.name(1)), c.Status(m.name(2)))
	}
	if st := c.Status(m.name(1)); st.String() != "evicted" {
		t.Fatalf("status of the evicted tensor = %q", st)
	}
	mu.Lock()
	got := slices.Clone(evicted)
	mu.Unlock()
	if !slices.Equal(got, []string{m.name(1)}) {
		t.Fatalf("OnEvict saw %v; want [%s]", got, m.name(1))
	}
	// An evicted tensor comes back on the next Get.
	checkTensor(t, c, m, m.name(1))
	if s := c.Stats(); s.Evictions != 2 || s.Uploads != 4 || s.DeviceAllocationsTotal != 1 {
		t.Fatalf("stats = %+v; want 2 evictions, 4 uploads, 1 device allocation", s)
	}
}

func TestPinnedAndHeldTensorsAreNotEvicted(t *testing.T) {
	c, m, h := slotCache(t, 3, 2, nil)
	ctx := context.Background()
	unpin, err := c.Pin(m.name(0))
	if err != nil {
		t.Fatal(err)
	}
	if c.IsResident(m.name(0)) {
		t.Fatal("Pin loaded the tensor")
	}
	checkTensor(t, c, m, m.name(0))
	hd, err := c.Get(ctx, m.name(1))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Evict(m.name(0)); !errors.Is(err, ErrPinned) {
		t.Fatalf("Evict(pinned) = %v; want ErrPinned", err)
	}
	if err := c.Evict(m.name(1)); !errors.Is(err, ErrPinned) {
		t.Fatalf("Evict(held) = %v; want ErrPinned", err)
	}
	// Both slots are held: a third tensor cannot get in, and nothing changes.
	before := c.Stats()
	_, err = c.Get(ctx, m.name(2))
	if !errors.Is(err, ErrNoSpace) {
		t.Fatalf("Get with every slot held = %v; want ErrNoSpace", err)
	}
	if !c.IsResident(m.name(0)) || !c.IsResident(m.name(1)) {
		t.Fatal("a held or pinned tensor was evicted")
	}
	if st := c.Status(m.name(2)); st.State != Unloaded || st.Err != nil || !errors.Is(st.LastErr, ErrNoSpace) || st.String() != "unloaded" {
		t.Fatalf("status after no space = %v", st)
	}
	after := c.Stats()
	if after.ResidentBytes != before.ResidentBytes || after.DeviceBytes != before.DeviceBytes || h.Allocated() != after.DeviceBytes {
		t.Fatalf("accounting changed by a failed Get: before %+v after %+v host %d", before, after, h.Allocated())
	}
	if after.Failures != before.Failures+1 {
		t.Fatalf("failures = %d; want %d", after.Failures, before.Failures+1)
	}
	// Releasing one holder makes room again.
	hd.Release()
	checkTensor(t, c, m, m.name(2))
	if c.IsResident(m.name(1)) || !c.IsResident(m.name(0)) {
		t.Fatal("the released tensor should have been evicted, the pinned one kept")
	}
	unpin()
	unpin() // idempotent
	if err := c.Evict(m.name(0)); err != nil {
		t.Fatalf("Evict after unpin: %v", err)
	}
	if err := c.Evict(m.name(0)); err != nil {
		t.Fatalf("Evict of an evicted tensor: %v", err)
	}
}

func TestTensorLargerThanBudgetFailsWithoutEvicting(t *testing.T) {
	m := newTestModel(8, 1000, 1<<20)
	c := newTestCache(t, newHost(t, 4<<20), m, Options{Budget: 64 << 10})
	checkTensor(t, c, m, m.name(0))
	if _, err := c.Get(context.Background(), m.name(1)); !errors.Is(err, ErrNoSpace) {
		t.Fatalf("Get of a tensor above the budget = %v; want ErrNoSpace", err)
	}
	if !c.IsResident(m.name(0)) {
		t.Fatal("a hopeless Get evicted another tensor")
	}
}

func TestLargeTensorsGetTheirOwnAllocation(t *testing.T) {
	m := newTestModel(9, 1000, 100_000, 2000)
	h := newHost(t, 1<<20)
	c := newTestCache(t, h, m, Options{Budget: 1 << 20, ArenaSize: 16 << 10})
	for i := range 3 {
		checkTensor(t, c, m, m.name(i))
	}
	s := c.Stats()
	if s.DeviceAllocations != 2 || s.DeviceBytes != 16<<10+100_096 || h.Allocated() != s.DeviceBytes {
		t.Fatalf("stats = %+v, host %d; want one arena and one dedicated allocation", s, h.Allocated())
	}
	// Evicting the big tensor and loading it again reuses its allocation.
	if err := c.Evict(m.name(1)); err != nil {
		t.Fatal(err)
	}
	checkTensor(t, c, m, m.name(1))
	if s := c.Stats(); s.DeviceAllocationsTotal != 2 {
		t.Fatalf("device allocations ever = %d; want 2", s.DeviceAllocationsTotal)
	}
}

func TestIdleAllocationsAreReturnedUnderPressure(t *testing.T) {
	// Budget for one arena or one big tensor, not both.
	m := newTestModel(10, 1000, 60_000)
	h := newHost(t, 1<<20)
	c := newTestCache(t, h, m, Options{Budget: 64 << 10, ArenaSize: 16 << 10})
	checkTensor(t, c, m, m.name(0))
	checkTensor(t, c, m, m.name(1)) // evicts 0, frees its arena, allocates 60 000
	if c.IsResident(m.name(0)) || !c.IsResident(m.name(1)) {
		t.Fatal("small tensor should have made way for the big one")
	}
	if s := c.Stats(); s.DeviceAllocations != 1 || s.DeviceBytes > s.BudgetBytes || h.Allocated() != s.DeviceBytes {
		t.Fatalf("stats = %+v host %d", s, h.Allocated())
	}
}

// OnUpload reports each finished upload once, outside the lock (the hook
// calls back into the cache), with the error of a failed one.
func TestOnUploadReportsEachUpload(t *testing.T) {
	m := newTestModel(3, 1000, 2000, 3000)
	var c *Cache
	var mu sync.Mutex
	got := map[string]string{}
	dev := newHost(t, 1<<20)
	c = newTestCache(t, dev, m, Options{Budget: 1 << 20, OnUpload: func(name string, n uint64, err error) {
		c.Stats() // takes the cache's lock: deadlocks if the hook runs under it
		mu.Lock()
		got[name] += fmt.Sprintf("[%d %v]", n, err != nil)
		mu.Unlock()
	}})
	checkTensor(t, c, m, m.name(0))
	dev.FailUpload(1)
	if _, err := c.ReadAt(context.Background(), m.name(2), make([]byte, 10), 0); err == nil {
		t.Fatal("a read whose upload the device failed succeeded")
	}
	if err := c.LoadAll(context.Background(), []string{m.name(1)}, nil); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{m.name(0): "[1000 false]", m.name(1): "[2000 false]", m.name(2): "[3000 true]"}
	// A Get's upload reports after its readers are woken: wait for it.
	for range 1000 {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n == len(want) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("OnUpload calls %v, want %v", got, want)
	}
}
