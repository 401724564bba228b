package cache

import (
	"context"

	"github.com/ggufs/ggufs/hip"
)

// Placement is where a resident tensor lives on the device: in which device
// allocation and at what offset. Other processes map the whole allocation
// (hip.Exporter) and add Offset themselves.
type Placement struct {
	// Allocation identifies the device allocation within this cache: never
	// reused while the cache lives, though its Base may be once it is freed.
	// 0 for a zero-byte tensor, which has no allocation.
	Allocation uint64
	// Base and Size are the allocation's device address and length.
	Base hip.DevicePtr
	Size uint64
	// Offset is the tensor's first byte inside the allocation.
	Offset uint64
	// Generation numbers the tensor's residencies across the whole cache:
	// every upload that makes a tensor resident gets a new one. A placement
	// seen earlier is still this tensor's bytes only while the tensor's
	// Generation is unchanged, and only as long as something holds it.
	Generation uint64
}

// placementLocked is e's placement now; c.mu must be held and e resident.
func (e *entry) placementLocked() Placement {
	p := Placement{Offset: e.block.off, Generation: e.gen}
	if r := e.block.region; r != nil {
		p.Allocation, p.Base, p.Size = r.id, r.base, r.size
	}
	return p
}

// Placement is where the held tensor lives, valid until Release.
func (h *Handle) Placement() Placement { return h.place }

// Hold is Get for a consumer in another process that maps the tensor's
// device memory itself: the Handle pins it like any other, and the tensor
// counts the hold in Holders (and in Evict's error) until Release.
func (c *Cache) Hold(ctx context.Context, name string) (*Handle, error) {
	h, err := c.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	h.e.holds++
	h.hold = true
	c.mu.Unlock()
	return h, nil
}

// Holders is how many holds (Hold) the tensor has now; 0 for an unknown name.
func (c *Cache) Holders(name string) int {
	e, ok := c.byName[name]
	if !ok {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return e.holds
}

// Resident returns a Handle of the tensor if it is resident now, without
// loading it (ok false otherwise). It is not a hold.
func (c *Cache) Resident(name string) (_ *Handle, ok bool) {
	e, found := c.byName[name]
	if !found {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || e.state != Resident {
		return nil, false
	}
	e.refs++
	return &Handle{c: c, e: e, ptr: e.block.ptr(), size: e.t.Size, place: e.placementLocked()}, true
}
