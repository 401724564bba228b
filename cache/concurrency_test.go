package cache

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

// TestConcurrentReadersOfModelLargerThanBudget has 64 goroutines read random
// ranges of random tensors (with pins, evictions and a LoadAll mixed in)
// from a model several times larger than the budget, and checks every byte
// against the source. Run it with -race.
func TestConcurrentReadersOfModelLargerThanBudget(t *testing.T) {
	const (
		readers   = 64
		ops       = 40
		maxTensor = 16 << 10
	)
	rng := rand.New(rand.NewPCG(7, 7))
	sizes := make([]uint64, 800)
	var total uint64
	for i := range sizes {
		sizes[i] = 1 + rng.Uint64N(maxTensor)
		total += sizes[i]
	}
	m := newTestModel(30, sizes...)
	// At most readers+2 blocks are held or loading at once (one per reader,
	// three for the reader that runs LoadAll). With room for twice that
	// plus one, some hole between held blocks always fits the largest
	// tensor, so no Get may fail for lack of space.
	const busyMax = readers + 2
	budget := uint64(2*busyMax+1) * maxTensor
	if total < 2*budget {
		t.Fatalf("model of %d bytes is not larger than twice the budget %d", total, budget)
	}
	h := newHost(t, 64<<20)
	c := newTestCache(t, h, m, Options{Budget: budget, ArenaSize: budget, LoadGroupBytes: 2 * maxTensor})

	// The deadline turns a deadlock into failed Gets rather than a hang.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, readers)
	for r := range readers {
		wg.Go(func() {
			errs <- reader(ctx, c, m, r, ops)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}

	s := c.Stats()
	if s.DeviceBytes != h.Allocated() || s.DeviceBytes > budget {
		t.Fatalf("cache holds %d bytes (budget %d); device has %d allocated", s.DeviceBytes, budget, h.Allocated())
	}
	var resident uint64
	for i := range sizes {
		if c.IsResident(m.name(i)) {
			resident += sizes[i]
		}
	}
	if s.ResidentBytes != resident || s.Evictions == 0 || s.Failures != 0 {
		t.Fatalf("stats %+v; resident tensors add up to %d", s, resident)
	}
	t.Logf("%d hits, %d misses, %d uploads, %d evictions, %d device allocations",
		s.Hits, s.Misses, s.Uploads, s.Evictions, s.DeviceAllocationsTotal)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if h.Allocated() != 0 {
		t.Fatalf("device holds %d bytes after Close", h.Allocated())
	}
}

// reader does ops random reads and checks them; reader 0 also runs LoadAll.
func reader(ctx context.Context, c *Cache, m *testModel, id, ops int) error {
	rng := rand.New(rand.NewPCG(uint64(id), 99))
	for range ops {
		i := rng.IntN(len(m.tensors))
		name := m.name(i)
		src := m.data[name]
		switch op := rng.IntN(10); {
		case op == 0 && id == 0:
			names := []string{name, m.name(rng.IntN(len(m.tensors))), m.name(rng.IntN(len(m.tensors)))}
			if err := c.LoadAll(ctx, names, nil); err != nil {
				return err
			}
		case op == 1:
			if err := c.Evict(name); err != nil && !errors.Is(err, ErrPinned) {
				return err
			}
		case op == 2:
			// A whole read through the cache, as a file read does.
			got := make([]byte, len(src))
			if _, err := c.ReadAt(ctx, name, got, 0); err != nil {
				return err
			}
			if !bytes.Equal(got, src) {
				return errors.New("cache.ReadAt of " + name + ": bytes differ")
			}
		default:
			unpin, err := c.Pin(name)
			if err != nil {
				return err
			}
			h, err := c.Get(ctx, name)
			if err != nil {
				unpin()
				return err
			}
			off := rng.IntN(len(src))
			got := make([]byte, 1+rng.IntN(len(src)-off))
			_, err = h.ReadAt(got, int64(off))
			h.Release()
			unpin()
			if err != nil {
				return err
			}
			if !bytes.Equal(got, src[off:off+len(got)]) {
				return errors.New("Handle.ReadAt of " + name + ": bytes differ")
			}
		}
	}
	return nil
}
