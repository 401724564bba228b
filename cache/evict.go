package cache

import (
	"errors"
	"fmt"

	"github.com/ggufs/ggufs/hip"
)

// reserve finds device memory for size bytes: in an arena, in a new device
// allocation within the budget, or by evicting the least recently used
// tensors that nobody holds. It returns the names it evicted, for OnEvict.
// Called with c.mu held.
func (c *Cache) reserve(size uint64) (block, []string, error) {
	if need, ok := alignUp(size); !ok || need > c.budget {
		return block{}, nil, fmt.Errorf("%w: %w (%d bytes, budget %d)", ErrNoSpace, errNeverFits, size, c.budget)
	}
	var evicted []string
	var deviceErr error // the device said out of memory; don't ask again until something is freed
	for {
		if b, ok := c.pool.place(size); ok {
			return b, evicted, nil
		}
		if n, ok := c.pool.growSize(size, c.budget); ok && deviceErr == nil {
			err := c.pool.grow(n)
			if need, _ := alignUp(size); errors.Is(err, hip.ErrOutOfMemory) && n > need {
				// The device has less free than an arena (another process
				// took memory since New): it may still hold this tensor.
				err = c.pool.grow(need)
			}
			if err == nil {
				continue
			}
			if !errors.Is(err, hip.ErrOutOfMemory) {
				return block{}, evicted, err
			}
			deviceErr = err
		}
		// Device allocations holding no tensor count against the budget
		// without serving anyone: give them back before evicting.
		freed, err := c.pool.freeIdle()
		if err != nil {
			c.faults.add(err)
			return block{}, evicted, err
		}
		if freed > 0 {
			deviceErr = nil
			continue
		}
		victim := c.lruVictim()
		if victim == nil {
			tensors, bytes := c.busyTensorsLocked()
			err := fmt.Errorf("%w (%d bytes wanted; %d bytes held by %d tensors in use or loading, %d bytes allocated on the device, budget %d)",
				ErrNoSpace, size, bytes, tensors, c.pool.held, c.budget)
			if deviceErr != nil {
				err = fmt.Errorf("%w: %w", err, deviceErr)
			}
			return block{}, evicted, err
		}
		c.evictLocked(victim)
		evicted = append(evicted, victim.t.Name)
	}
}

// lruVictim is the least recently used resident tensor nobody holds and no
// running Load asked for.
func (c *Cache) lruVictim() *entry {
	for e := c.lru.front; e != nil; e = e.lru.next {
		if e.refs == 0 && e.pins == 0 && e.loads == 0 {
			return e
		}
	}
	return nil
}

// busyTensorsLocked counts the tensors that hold device memory and cannot be
// evicted now (in use, pinned, or loading), and their bytes.
func (c *Cache) busyTensorsLocked() (tensors int, bytes uint64) {
	for e := c.lru.front; e != nil; e = e.lru.next {
		if e.refs > 0 || e.pins > 0 {
			tensors++
			bytes += e.t.Size
		}
	}
	for _, e := range c.order {
		if e.state == Loading {
			tensors++
			bytes += e.t.Size
		}
	}
	return tensors, bytes
}

// evictLocked removes a resident tensor from the device.
func (c *Cache) evictLocked(e *entry) {
	c.dropLocked(e)
	e.setState(Evicted, nil)
	c.counters.evictions++
}

// dropLocked releases a resident tensor's memory and takes it off the LRU list.
func (c *Cache) dropLocked(e *entry) {
	c.lru.remove(e)
	if e.block.region != nil {
		// release fails only on a block the pool never handed out, a bug;
		// Close reports it rather than the cache crashing its process.
		if err := c.pool.release(e.block); err != nil {
			c.faults.add(fmt.Errorf("%w: tensor %q: %w", ErrInternal, e.t.Name, err))
		}
	}
	e.block = block{}
	c.counters.residentTensors--
	c.counters.residentBytes -= e.t.Size
}

// makeResidentLocked records a finished upload.
func (c *Cache) makeResidentLocked(e *entry) {
	c.gens++
	e.gen = c.gens
	e.setState(Resident, nil)
	c.lru.pushBack(e)
	c.counters.residentTensors++
	c.counters.residentBytes += e.t.Size
}

// touchLocked marks e as just used.
func (c *Cache) touchLocked(e *entry) {
	c.lru.moveToBack(e)
}

func (c *Cache) notifyEvicted(names []string) {
	if c.onEvict == nil {
		return
	}
	for _, n := range names {
		c.onEvict(n)
	}
}

// Evict removes a tensor from the device now. Evicting a tensor that is not
// resident does nothing; one that is held or being uploaded fails with an
// error wrapping ErrPinned.
func (c *Cache) Evict(name string) error {
	e, err := c.lookup(name)
	if err != nil {
		return err
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrClosed
	}
	switch {
	case e.state == Loading:
		c.mu.Unlock()
		return fmt.Errorf("cache: tensor %q is being uploaded: %w", name, ErrPinned)
	case e.state != Resident:
		c.mu.Unlock()
		return nil
	case e.refs > 0 || e.pins > 0:
		refs, pins, holds := e.refs, e.pins, e.holds
		c.mu.Unlock()
		if holds > 0 {
			return fmt.Errorf("cache: tensor %q is mapped by %d holders in other processes (%d handles, %d pins): %w",
				name, holds, refs, pins, ErrPinned)
		}
		return fmt.Errorf("cache: tensor %q (%d handles, %d pins): %w", name, refs, pins, ErrPinned)
	}
	c.evictLocked(e)
	c.mu.Unlock()
	c.notifyEvicted([]string{name})
	return nil
}

// Pin keeps a tensor from being evicted once it is resident, without loading
// it (an open file pins its tensor). unpin undoes it; calling it again does
// nothing.
func (c *Cache) Pin(name string) (unpin func(), err error) {
	e, err := c.lookup(name)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrClosed
	}
	e.pins++
	done := false
	return func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if !done {
			done = true
			e.pins--
		}
	}, nil
}
