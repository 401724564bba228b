package share

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"testing"
)

// Consumers holding and releasing while the cache evicts and reloads under
// a budget of a few tensors must only ever see their own tensors' bytes:
// each hold pins what its reply names.
func TestConsumersNeverSeeAnotherTensorUnderEviction(t *testing.T) {
	sizes := make([]int, 12)
	for i := range sizes {
		sizes[i] = 16<<10 + 64*i
	}
	f := newFixture(t, 80<<10, sizes...)
	const consumers, rounds = 8, 40
	ctx, stop := context.WithCancel(context.Background())
	var churn sync.WaitGroup
	churn.Add(1)
	go func() { // the mount's own readers and evictions
		defer churn.Done()
		rng := rand.New(rand.NewPCG(1, 2))
		buf := make([]byte, 64)
		for ctx.Err() == nil {
			name := f.names[rng.IntN(len(f.names))]
			if rng.IntN(2) == 0 {
				f.cache.Evict(name) // held ones refuse: that is the point
			} else {
				f.cache.ReadAt(ctx, name, buf, 0)
			}
		}
	}()
	var wg sync.WaitGroup
	errs := make(chan error, consumers)
	for i := range consumers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(i), 3))
			c, err := Dial(f.srv.SocketPath())
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			for range rounds {
				names := []string{f.names[rng.IntN(len(f.names))]}
				rep, err := c.Hold(names, nil)
				var ref *RefusedError
				if errors.As(err, &ref) && ref.Code == CodeNoSpace {
					continue // the others hold the whole budget right now
				}
				if err != nil {
					errs <- err
					return
				}
				for _, tn := range rep.Tensors {
					b, err := c.Bytes(tn)
					if err != nil {
						errs <- err
						return
					}
					if !bytes.Equal(b, f.data[tn.Name]) {
						errs <- errors.New(tn.Name + ": a held tensor's mapping shows other bytes")
						return
					}
				}
				if _, err := c.Release(nil); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	stop()
	churn.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if st := f.cache.Stats(); st.Evictions == 0 {
		t.Fatal("nothing was evicted: the test did not test eviction")
	}
}
