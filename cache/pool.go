package cache

import (
	"errors"
	"fmt"

	"github.com/ggufs/ggufs/hip"
)

// region is one device allocation: an arena shared by many tensors, or a
// dedicated allocation holding one tensor larger than an arena.
type region struct {
	id    uint64 // 1, 2, ...: never reused while the cache lives, unlike base
	base  hip.DevicePtr
	size  uint64
	arena *arenaAlloc // nil for a dedicated region
	used  bool        // dedicated region: holds its tensor
}

// block is where one resident tensor lives.
type block struct {
	region *region
	off    uint64
}

// ptr is the block's device address; 0 for the empty block of a zero-byte tensor.
func (b block) ptr() hip.DevicePtr {
	if b.region == nil {
		return 0
	}
	return b.region.base + hip.DevicePtr(b.off)
}

// pool owns the cache's device allocations and places blocks in them. It does
// no locking: the cache calls it under its mutex.
type pool struct {
	dev       Device
	arenaSize uint64
	regions   []*region
	held      uint64 // bytes of device memory held by regions
	total     int64  // device allocations ever made
	// want is what every tensor of the cache needs (aligned), placed what
	// the blocks handed out hold: a new arena is never bigger than the
	// difference, so the last one is not mostly empty.
	want, placed uint64
}

// place finds room for size bytes in the existing regions.
func (p *pool) place(size uint64) (block, bool) {
	need, ok := alignUp(size)
	if !ok {
		return block{}, false
	}
	for _, r := range p.regions {
		if r.arena != nil {
			if off, ok := r.arena.alloc(size); ok {
				p.placed += need
				return block{r, off}, true
			}
		} else if !r.used && r.size == need {
			// A dedicated region left behind by an evicted tensor of the same
			// size: reuse it rather than freeing and reallocating.
			r.used = true
			p.placed += need
			return block{r, 0}, true
		}
	}
	return block{}, false
}

// growSize is the size of the device allocation that would hold size bytes:
// an arena (no larger than the room left under the budget) or, for a tensor
// bigger than an arena, a dedicated allocation. ok is false when it would
// exceed the budget.
func (p *pool) growSize(size, budget uint64) (uint64, bool) {
	need, ok := alignUp(size)
	if !ok || p.held > budget {
		return 0, false
	}
	room := budget - p.held
	if need > p.arenaSize {
		return need, need <= room
	}
	unplaced := need
	if p.want > p.placed {
		unplaced = max(need, p.want-p.placed)
	}
	grow := min(p.arenaSize, room, unplaced)
	return grow, grow >= need
}

// grow makes one device allocation of n bytes; an allocation no larger than an
// arena becomes an arena.
func (p *pool) grow(n uint64) error {
	ptr, err := p.dev.Malloc(n)
	if err != nil {
		return fmt.Errorf("cache: allocating %d bytes on %s: %w", n, p.dev, err)
	}
	r := &region{id: uint64(p.total) + 1, base: ptr, size: n}
	if n <= p.arenaSize {
		r.arena = newArenaAlloc(n)
	}
	p.regions = append(p.regions, r)
	p.held += n
	p.total++
	return nil
}

// release gives b's bytes back to its region.
func (p *pool) release(b block) error {
	if b.region.arena == nil {
		b.region.used = false
		p.placed -= b.region.size
		return nil
	}
	size, ok := b.region.arena.used[b.off]
	if err := b.region.arena.release(b.off); err != nil {
		return err
	}
	if ok {
		p.placed -= size
	}
	return nil
}

// freeIdle returns every region that holds no tensor to the device and
// reports how many bytes that gave back.
func (p *pool) freeIdle() (uint64, error) {
	var freed uint64
	var errs []error
	kept := p.regions[:0]
	for _, r := range p.regions {
		idle := (r.arena != nil && r.arena.empty()) || (r.arena == nil && !r.used)
		if !idle {
			kept = append(kept, r)
			continue
		}
		if err := p.dev.Free(r.base); err != nil {
			// Keep the region: its memory may still be held on the device.
			errs = append(errs, fmt.Errorf("cache: freeing %d bytes on %s: %w", r.size, p.dev, err))
			kept = append(kept, r)
			continue
		}
		p.held -= r.size
		freed += r.size
	}
	clear(p.regions[len(kept):])
	p.regions = kept
	return freed, errors.Join(errs...)
}

// freeAll returns every region to the device.
func (p *pool) freeAll() error {
	var errs []error
	for _, r := range p.regions {
		if err := p.dev.Free(r.base); err != nil {
			errs = append(errs, fmt.Errorf("cache: freeing %d bytes on %s: %w", r.size, p.dev, err))
		}
	}
	p.regions = nil
	p.held = 0
	return errors.Join(errs...)
}
