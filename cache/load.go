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

// add puts a Loading entry, previously in state prev, into the batch.
func (b *batch) add(e *entry, prev State) {
	b.entries = append(b.entries, e)
	b.prev = append(b.prev, prev)
	b.bytes += e.t.Size
}

// batch is a set of Loading entries uploaded by one Upload call.
type batch struct {
	entries []*entry
	prev    []State // each entry's state before it started loading
	bytes   uint64
	flight  chan struct{}
}

func newBatch() *batch { return &batch{flight: make(chan struct{})} }

// upload copies the batch to the device and records the outcome. When ctx is
// cancelled by the caller (not by Close) the entries go back to their previous
// state, so the next Get loads them cleanly. It returns how many bytes became
// resident.
func (c *Cache) upload(ctx context.Context, b *batch) (resident uint64) {
	copies := make([]hip.Copy, 0, len(b.entries))
	srcErr := make([]error, len(b.entries))
	for i, e := range b.entries {
		cp, err := e.t.copyTo(e.block.ptr())
		if err != nil {
			srcErr[i] = err
			continue
		}
		copies = append(copies, cp)
	}
	var err error
	var took time.Duration
	if len(copies) > 0 {
		start := time.Now()
		err = c.dev.Upload(ctx, copies)
		took = time.Since(start)
	}

	var ended []uploadEnd
	defer func() { c.notifyUploads(ended) }() // after the unlock below: defers run last first
	c.mu.Lock()
	defer c.mu.Unlock()
	c.counters.uploadTime += took
	abandoned := err != nil && ctx.Err() != nil && c.bgCtx.Err() == nil
	for i, e := range b.entries {
		switch {
		case srcErr[i] != nil:
			c.failLoadLocked(e, srcErr[i])
			ended = append(ended, uploadEnd{e.t.Name, e.t.Size, srcErr[i]})
		case abandoned:
			c.releaseLoadLocked(e)
			// Back to where it was, except that a failure it retried is
			// no longer known to hold: it is Unloaded again, so that
			// waiters load it themselves rather than see a stale error.
			prev := b.prev[i]
			if prev == Failed {
				prev = Unloaded
			}
			e.setState(prev, nil)
		case err != nil:
			ferr := fmt.Errorf("cache: tensor %q: uploading to %s: %w", e.t.Name, c.dev, err)
			c.failLoadLocked(e, ferr)
			ended = append(ended, uploadEnd{e.t.Name, e.t.Size, ferr})
		default:
			e.flight = nil
			c.makeResidentLocked(e)
			c.counters.uploads++
			c.counters.uploadedBytes += e.t.Size
			resident += e.t.Size
			ended = append(ended, uploadEnd{e.t.Name, e.t.Size, nil})
		}
	}
	close(b.flight)
	return resident
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
