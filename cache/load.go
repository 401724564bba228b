package cache

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ggufs/ggufs/hip"
)

// startLoadLocked reserves memory for e and marks it Loading, waiting on
// flight. An empty tensor becomes Resident at once. On failure e is
// unchanged. Called with c.mu held; returns the names evicted to make room.
func (c *Cache) startLoadLocked(e *entry, flight chan struct{}) ([]string, error) {
	if e.t.Size == 0 {
		c.makeResidentLocked(e)
		return nil, nil
	}
	b, evicted, err := c.reserve(e.t.Size)
	if err != nil {
		return evicted, fmt.Errorf("cache: tensor %q (%d bytes): %w", e.t.Name, e.t.Size, err)
	}
	e.block = b
	e.flight = flight
	e.setState(Loading, nil)
	return evicted, nil
}

// upload copies e (Loading, its block reserved) to the device, records the
// outcome and closes flight. It runs under the cache's own context, not a
// reader's, so that a reader who gives up does not cancel the upload for the
// others; only Close ends it early.
func (c *Cache) upload(e *entry, flight chan struct{}) {
	var took time.Duration
	cp, err := e.t.copyTo(e.block.ptr())
	if err == nil {
		start := time.Now()
		if err = c.dev.Upload(c.bgCtx, []hip.Copy{cp}); err != nil {
			err = fmt.Errorf("cache: tensor %q: uploading to %s: %w", e.t.Name, c.dev, err)
		}
		took = time.Since(start)
	}
	c.mu.Lock()
	c.counters.uploadTime += took
	if err != nil {
		c.failLoadLocked(e, err)
	} else {
		e.flight = nil
		c.makeResidentLocked(e)
		c.counters.uploads++
		c.counters.uploadedBytes += e.t.Size
	}
	close(flight)
	c.mu.Unlock()
	c.notifyUploads([]uploadEnd{{e.t.Name, e.t.Size, err}})
}

// releaseLoadLocked gives back the memory reserved for a load that did not finish.
func (c *Cache) releaseLoadLocked(e *entry) {
	if err := c.pool.release(e.block); err != nil {
		c.faults.add(fmt.Errorf("%w: tensor %q: %w", ErrInternal, e.t.Name, err))
	}
	e.block = block{}
	e.flight = nil
}

// failLoadLocked records a load that failed after memory was reserved.
func (c *Cache) failLoadLocked(e *entry, err error) {
	c.releaseLoadLocked(e)
	c.failLocked(e, err)
}

// failLocked records a failed load of e, with err wrapped into the cache's
// own kind (see fromDevice), and counts it. Want of memory passes when
// something is released, so such a tensor goes back to Unloaded (Evicted if
// it was ever resident) with the error kept as its last; any other failure,
// and a tensor larger than the whole budget, marks it Failed: the next read
// would fail alike.
func (c *Cache) failLocked(e *entry, err error) {
	if errors.Is(err, context.Canceled) && c.bgCtx.Err() != nil {
		err = fmt.Errorf("cache: tensor %q: %w", e.t.Name, ErrClosed)
	}
	err = fromDevice(err)
	e.fails++
	c.counters.failures++
	if !errors.Is(err, ErrNoSpace) || errors.Is(err, errNeverFits) {
		e.setState(Failed, err)
		return
	}
	back := Unloaded
	if e.gen > 0 {
		back = Evicted
	}
	e.lastErr = err
	e.setState(back, nil)
}

// uploadEnd is one finished upload, reported to Options.OnUpload.
type uploadEnd struct {
	name  string
	bytes uint64
	err   error
}

// notifyUploads reports finished uploads; called with c.mu not held.
func (c *Cache) notifyUploads(ended []uploadEnd) {
	if c.onUpload == nil {
		return
	}
	for _, u := range ended {
		c.onUpload(u.name, u.bytes, u.err)
	}
}
