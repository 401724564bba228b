package cache

import (
	"context"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/ggufs/ggufs/hip"
)

// Get returns the tensor's device copy, uploading it first if needed. It stays
// resident until the Handle is released. Concurrent Gets of one tensor share
// one upload. The upload runs on its own: a caller whose ctx ends stops
// waiting, and the upload goes on for the others.
func (c *Cache) Get(ctx context.Context, name string) (*Handle, error) {
	e, err := c.lookup(name)
	if err != nil {
		return nil, err
	}
	if e.t.Err != nil {
		return nil, fmt.Errorf("cache: tensor %q: %w", name, e.t.Err)
	}
	if err := c.settleBudget(); err != nil {
		return nil, fmt.Errorf("cache: tensor %q: %w", name, err)
	}
	var w getWait
	for {
		flight, h, err := c.getStep(ctx, e, &w)
		if h != nil || err != nil {
			return h, err
		}
		if flight == nil {
			// Resident at once (an empty tensor): the next step returns it.
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("cache: tensor %q: %w", name, err)
			}
			continue
		}
		select {
		case <-flight:
			w.waited = true
		case <-ctx.Done():
			return nil, fmt.Errorf("cache: tensor %q: %w", name, ctx.Err())
		}
	}
}

// getWait is what one Get has seen so far.
type getWait struct {
	missed bool   // counted as a miss
	waited bool   // an awaited upload ended
	fails  uint64 // the entry's failures when Get began to wait
}

// getStep looks at e once under the lock: it returns a Handle when e is
// resident, the error of the upload Get waited for, or the flight to wait on
// (starting an upload when none is in progress).
func (c *Cache) getStep(ctx context.Context, e *entry, w *getWait) (chan struct{}, *Handle, error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, nil, ErrClosed
	}
	switch {
	case e.state == Resident:
		e.refs++
		c.touchLocked(e)
		if !w.missed {
			c.counters.hits++
		}
		h := &Handle{c: c, e: e, ptr: e.block.ptr(), size: e.t.Size, place: e.placementLocked()}
		c.mu.Unlock()
		return nil, h, nil
	case w.waited && e.fails != w.fails:
		// The upload this Get waited for failed (e is Failed, or back to
		// Unloaded when it wanted memory): report it; the next Get retries.
		err := e.lastErr
		c.mu.Unlock()
		return nil, nil, err
	}
	if !w.missed {
		c.counters.misses++
		w.missed = true
	}
	w.fails = e.fails
	if e.state == Loading {
		flight := e.flight
		c.mu.Unlock()
		return flight, nil, nil
	}
	// Unloaded, Evicted, or Failed before this Get: load it.
	if err := ctx.Err(); err != nil {
		c.mu.Unlock()
		return nil, nil, fmt.Errorf("cache: tensor %q: %w", e.t.Name, err)
	}
	started := make(chan struct{})
	evicted, err := c.startLoadLocked(e, started)
	var flight chan struct{}
	if err != nil {
		err = fromDevice(err)
		c.failLocked(e, err)
	} else if e.state == Loading {
		flight = started
		c.busy.Add(1)
		go func() {
			defer c.busy.Done()
			c.upload(e, flight)
		}()
	}
	c.mu.Unlock()
	c.notifyEvicted(evicted)
	return flight, nil, err
}

// Handle is a pinned, resident tensor. Release it when done.
type Handle struct {
	c        *Cache
	e        *entry
	ptr      hip.DevicePtr
	size     uint64
	place    Placement // where the tensor lives, for exports
	hold     bool      // taken by Hold
	released atomic.Bool
}

// Ptr is the tensor's device address, valid until Release.
func (h *Handle) Ptr() hip.DevicePtr { return h.ptr }

// Size is the tensor's length in bytes.
func (h *Handle) Size() uint64 { return h.size }

// Name is the tensor's name.
func (h *Handle) Name() string { return h.e.t.Name }

// Release unpins the tensor; later calls do nothing.
func (h *Handle) Release() {
	if !h.released.CompareAndSwap(false, true) {
		return
	}
	h.c.mu.Lock()
	h.e.refs--
	if h.hold {
		h.e.holds--
	}
	h.c.mu.Unlock()
}

// ReadAt downloads len(p) bytes at off from the device copy, with the
// semantics of io.ReaderAt (io.EOF when fewer bytes remain than asked for).
func (h *Handle) ReadAt(p []byte, off int64) (int, error) {
	if h.released.Load() {
		return 0, ErrReleased
	}
	if off < 0 {
		return 0, fmt.Errorf("cache: tensor %q: negative offset %d", h.e.t.Name, off)
	}
	if len(p) == 0 {
		return 0, nil
	}
	if uint64(off) >= h.size {
		return 0, io.EOF
	}
	n := min(uint64(len(p)), h.size-uint64(off))
	if n > 0 {
		c := h.c
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return 0, ErrClosed
		}
		c.busy.Add(1)
		c.mu.Unlock()
		err := c.dev.Download(p[:n], h.ptr+hip.DevicePtr(off))
		c.busy.Done()
		if err != nil {
			return 0, fmt.Errorf("cache: tensor %q: downloading from %s: %w", h.e.t.Name, c.dev, fromDevice(err))
		}
	}
	if n < uint64(len(p)) {
		return int(n), io.EOF
	}
	return int(n), nil
}

// ReadAt reads a tensor's bytes from its device copy, loading it if needed.
func (c *Cache) ReadAt(ctx context.Context, name string, p []byte, off int64) (int, error) {
	h, err := c.Get(ctx, name)
	if err != nil {
		return 0, err
	}
	defer h.Release()
	return h.ReadAt(p, off)
}
