package cache

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
)

// LoadAll makes the named tensors resident (nil names: every tensor), in
// file order, through a few large Upload calls rather than one per tensor, so
// the device fills at the backend's best rate. progress, when not nil, is
// called with the bytes resident so far and the total, after each group
// (calls never overlap). It loads what it can and reports the failures; when
// the budget is smaller than the set, later tensors evict earlier ones.
func (c *Cache) LoadAll(ctx context.Context, names []string, progress func(done, total uint64)) error {
	entries, err := c.resolve(names)
	if err != nil {
		return err
	}
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return ErrClosed
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(c.bgCtx, cancel) // Close stops the load
	defer stop()

	l := &loader{c: c, ctx: ctx, progress: progress, slots: make(chan struct{}, c.groupsMax)}
	for _, e := range entries {
		if e.t.Err == nil {
			l.total += e.t.Size
		}
	}
	l.report(0)
	var others []*entry // loading through someone else's upload
	for _, e := range entries {
		if ctx.Err() != nil {
			break
		}
		if e.t.Err != nil {
			l.fail(fmt.Errorf("cache: tensor %q: %w", e.t.Name, e.t.Err))
			continue
		}
		if err := l.start(e, &others); err != nil {
			l.fail(err)
			if errors.Is(err, ErrClosed) {
				break
			}
		}
	}
	l.flush()
	l.wait()
	var retry []string // their loader gave up on them (it was cancelled)
	for _, e := range others {
		l.awaitOther(e)
		if st := e.status.Load().State; st != Resident && st != Failed && ctx.Err() == nil {
			retry = append(retry, e.t.Name)
			continue
		}
		l.report(l.settle(e))
	}
	if len(retry) > 0 {
		base := l.done
		err := c.LoadAll(ctx, retry, func(done, _ uint64) {
			l.mu.Lock()
			l.done = base + done
			l.mu.Unlock()
			l.report(0)
		})
		if err != nil {
			l.fail(err)
		}
	}
	for _, e := range l.mine {
		l.settle(e)
	}
	if c.bgCtx.Err() != nil {
		return fmt.Errorf("cache: loading %d tensors: %w", len(entries), ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("cache: loading %d tensors: %w", len(entries), err)
	}
	if l.failed > 0 {
		return fmt.Errorf("cache: loading %d tensors: %d failed; the first: %w", len(entries), l.failed, l.firstErr)
	}
	return nil
}

// resolve turns names into entries in file order, without repeats.
func (c *Cache) resolve(names []string) ([]*entry, error) {
	if names == nil {
		return c.order, nil
	}
	entries := make([]*entry, 0, len(names))
	for _, n := range names {
		e, err := c.lookup(n)
		if err != nil {
			return nil, err
		}
		entries = append(entries, e)
	}
	slices.SortFunc(entries, func(a, b *entry) int { return a.index - b.index })
	return slices.Compact(entries), nil
}

// loader is one LoadAll call: it groups tensors into batches and keeps up to
// c.groupsMax of them uploading at once.
type loader struct {
	c        *Cache
	ctx      context.Context
	progress func(done, total uint64)
	slots    chan struct{} // one per batch uploading
	batch    *batch        // being filled; holds a count in c.busy while not nil
	mine     []*entry      // entries this call uploaded

	mu       sync.Mutex // guards the fields below, and serializes progress
	done     uint64
	total    uint64
	failed   int
	firstErr error
}

// start makes e resident, loading or queued in the current batch.
func (l *loader) start(e *entry, others *[]*entry) error {
	c := l.c
	for retried := false; ; retried = true {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return ErrClosed
		}
		switch e.state {
		case Resident:
			c.touchLocked(e)
			c.mu.Unlock()
			l.report(e.t.Size)
			return nil
		case Loading:
			*others = append(*others, e)
			c.mu.Unlock()
			return nil
		}
		if l.batch == nil {
			l.batch = newBatch()
			c.busy.Add(1) // taken under c.mu while open, so Close waits for this batch
		}
		prev := e.state
		evicted, err := c.startLoadLocked(e, l.batch.flight)
		if err != nil && errors.Is(err, ErrNoSpace) && !retried {
			// The room may be held by this call's own uploads, which are
			// not evictable until they finish: finish them and try again.
			c.mu.Unlock()
			c.notifyEvicted(evicted)
			l.flush()
			l.wait()
			continue
		}
		if err != nil {
			c.failLocked(e, err)
			c.mu.Unlock()
			c.notifyEvicted(evicted)
			return err
		}
		if e.state == Resident { // an empty tensor
			c.mu.Unlock()
			c.notifyEvicted(evicted)
			return nil
		}
		l.batch.add(e, prev)
		l.mine = append(l.mine, e)
		full := l.batch.bytes >= c.groupBytes
		c.mu.Unlock()
		c.notifyEvicted(evicted)
		if full {
			l.flush()
		}
		return nil
	}
}

// flush sends the current batch to the device, waiting for a free slot.
func (l *loader) flush() {
	b := l.batch
	if b == nil {
		return
	}
	l.batch = nil
	if len(b.entries) == 0 {
		close(b.flight)
		l.c.busy.Done()
		return
	}
	l.slots <- struct{}{}
	go func() {
		defer l.c.busy.Done()
		resident := l.c.upload(l.ctx, b)
		l.report(resident)
		<-l.slots
	}()
}

// wait returns once no batch of this call is uploading.
func (l *loader) wait() {
	for range cap(l.slots) {
		l.slots <- struct{}{}
	}
	for range cap(l.slots) {
		<-l.slots
	}
}

func (l *loader) report(n uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.done += n
	if l.progress != nil {
		l.progress(l.done, l.total)
	}
}

// awaitOther waits until e is no longer loading through another caller's
// upload (following a new upload that starts as one ends), or ctx ends.
func (l *loader) awaitOther(e *entry) {
	for {
		l.c.mu.Lock()
		flight := e.flight
		loading := e.state == Loading
		l.c.mu.Unlock()
		if !loading || flight == nil {
			return
		}
		select {
		case <-flight:
		case <-l.ctx.Done():
			return
		}
	}
}

func (l *loader) fail(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.failed == 0 {
		l.firstErr = err
	}
	l.failed++
}

// settle counts e as failed if its upload failed, and returns its size if it
// is resident.
func (l *loader) settle(e *entry) uint64 {
	st := e.status.Load()
	switch st.State {
	case Resident:
		return e.t.Size
	case Failed:
		l.fail(st.Err)
	}
	return 0
}
