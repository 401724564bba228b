package cache

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/ggufs/ggufs/hip"
	"github.com/ggufs/ggufs/internal/units"
)

// LoadOptions tune one Load.
type LoadOptions struct {
	// Progress, when set, is called with the bytes resident so far and the
	// total, each time a tensor's bytes land (calls never overlap; done only
	// grows).
	Progress func(done, total uint64)
	// Report makes this load the one Stats reports as LoadAll (the whole
	// model load of a mount).
	Report bool
}

// LoadResult says what a Load left on the device, tensor by tensor.
type LoadResult struct {
	Tensors       int    // asked for
	Resident      int    // of them, resident when the load ended
	ResidentBytes uint64 // their bytes
	// Failed could not be uploaded (Status says why); NotLoaded were never
	// uploaded (the budget was full, or the load was cancelled); Evicted
	// were loaded by this call and evicted by someone else before it ended.
	Failed, NotLoaded, Evicted []string
	// Stopped says why the load ended before its last tensor; empty if it
	// did not.
	Stopped string
}

// Complete reports whether every tensor asked for is resident.
func (r LoadResult) Complete() bool { return r.Resident == r.Tensors }

// String is a one-line account: "291 of 291 resident (3.5 GiB)", then what
// is missing and why.
func (r LoadResult) String() string {
	s := fmt.Sprintf("%d of %d resident (%s)", r.Resident, r.Tensors, units.Text(r.ResidentBytes))
	for _, part := range []struct {
		what  string
		names []string
	}{{"failed", r.Failed}, {"not loaded", r.NotLoaded}, {"evicted during the load", r.Evicted}} {
		if len(part.names) > 0 {
			s += fmt.Sprintf("; %d %s (%s)", len(part.names), part.what, nameRange(part.names))
		}
	}
	if r.Stopped != "" {
		s += "; stopped: " + r.Stopped
	}
	return s
}

// nameRange names a list shortly: "a", "a, b" or "a … z" (file order).
func nameRange(names []string) string {
	switch len(names) {
	case 1:
		return fmt.Sprintf("%q", names[0])
	case 2:
		return fmt.Sprintf("%q, %q", names[0], names[1])
	}
	return fmt.Sprintf("%q … %q", names[0], names[len(names)-1])
}

// LoadAll makes the named tensors resident (nil names: every tensor); see
// Load.
func (c *Cache) LoadAll(ctx context.Context, names []string, progress func(done, total uint64)) error {
	_, err := c.Load(ctx, names, LoadOptions{Progress: progress})
	return err
}

// Load makes the named tensors resident (nil names: every tensor) in file
// order, streaming them through the device's pipeline: each tensor becomes
// resident the moment its own bytes land, and a Get of a tensor the load has
// not reached yet uploads it at once beside the load rather than after it.
// The load never evicts a tensor it is loading to make room for the next
// (nor does anyone else while it runs): when the budget is full it stops and
// the result says what is resident and what is not. A failed tensor does not
// stop the others. The error is nil only when every tensor asked for is
// resident or was and has been evicted since by an explicit Evict (the
// result names those); it wraps ErrNoSpace when the budget stopped the
// load, the first failure's error, ctx's error or ErrClosed.
func (c *Cache) Load(ctx context.Context, names []string, opts LoadOptions) (LoadResult, error) {
	entries, err := c.resolve(names)
	if err != nil {
		return LoadResult{}, err
	}
	if err := c.settleBudget(); err != nil {
		return LoadResult{}, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(c.bgCtx, cancel) // Close stops the load
	defer stop()

	l := &load{c: c, ctx: ctx, progress: opts.Progress, mine: map[*entry]bool{}}
	for _, e := range entries {
		if e.t.Err == nil {
			l.total += e.t.Size
		}
	}
	l.track = &loadTrack{total: l.total, tensors: len(entries), start: time.Now()}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return LoadResult{}, ErrClosed
	}
	for _, e := range entries {
		e.loads++
	}
	if opts.Report {
		c.loadReport = l.track
	}
	c.busy.Add(1) // under c.mu while open, so Close waits for this load
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		for _, e := range entries {
			e.loads--
		}
		c.mu.Unlock()
		c.busy.Done()
	}()

	l.report(0)
	queue := entries
	// Tensors another caller was uploading, and gave up on (its load was
	// cancelled), go round again; a few rounds bound a pathological chase.
	for round := 0; round < 4 && len(queue) > 0; round++ {
		l.queue, l.pos, l.others = queue, 0, nil
		l.run()
		queue = l.awaitOthers()
		if l.halted() {
			break
		}
	}
	res := l.result(entries)
	err = l.err(res)
	l.track.finish(res, err)
	return res, err
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

// load is one Load call. Its stream pulls entries from queue one at a time,
// reserving memory for each only when the device's pipeline has room for it.
type load struct {
	c        *Cache
	ctx      context.Context
	progress func(done, total uint64)
	track    *loadTrack

	// Used only by the goroutine pulling the stream (next) and, between
	// streams, by Load.
	queue  []*entry
	pos    int
	others []*entry        // loading through someone else's upload
	mine   map[*entry]bool // uploaded by this load
	stop   string          // why the load stopped early
	stopEr error

	mu          sync.Mutex // guards the fields below, and serializes progress
	done, total uint64
	failures    int // copies reported failed
	firstErr    error
}

// run streams the queue to the device, starting a new stream after one that
// a failed copy ended, until the queue is done or the load must stop.
func (l *load) run() {
	c := l.c
	for l.pos < len(l.queue) && !l.halted() && l.ctx.Err() == nil {
		failed := l.failureCount()
		start := time.Now()
		err := c.stream(l.ctx, l.next)
		c.mu.Lock()
		c.counters.uploadTime += time.Since(start)
		c.mu.Unlock()
		switch {
		case err == nil, l.ctx.Err() != nil:
		case l.failureCount() == failed:
			// The device failed before any copy: the rest would too.
			l.halt(fmt.Sprintf("%s failed: %v", c.dev, err), err)
		}
	}
	if err := l.ctx.Err(); err != nil && l.stop == "" {
		l.halt("cancelled", err)
	}
}

// stream hands next to the device's streaming upload, or batches it into
// Upload calls of c.groupBytes for a device that has none.
func (c *Cache) stream(ctx context.Context, next func() (hip.Pending, bool)) error {
	if s, ok := c.dev.(hip.Streamer); ok {
		return s.UploadStream(ctx, next)
	}
	ended := false
	for !ended {
		var batch []hip.Pending
		var copies []hip.Copy
		var bytes uint64
		for bytes < c.groupBytes {
			p, ok := next()
			if !ok {
				ended = true
				break
			}
			batch = append(batch, p)
			copies = append(copies, p.Copy)
			bytes += uint64(p.Src.Len())
		}
		if len(batch) == 0 {
			return nil
		}
		err := c.dev.Upload(ctx, copies)
		for _, p := range batch {
			p.Landed(err)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (l *load) halted() bool { return l.stop != "" }

func (l *load) halt(why string, err error) {
	if l.stop == "" {
		l.stop, l.stopEr = why, err
	}
}

// next is the stream's source: the next entry in the queue that needs an
// upload, with memory reserved for it and marked Loading.
func (l *load) next() (hip.Pending, bool) {
	for l.pos < len(l.queue) && !l.halted() {
		if l.ctx.Err() != nil {
			return hip.Pending{}, false
		}
		e := l.queue[l.pos]
		l.pos++
		if e.t.Err != nil {
			l.failed(fmt.Errorf("cache: tensor %q: %w", e.t.Name, e.t.Err))
			continue
		}
		if p, ok := l.begin(e); ok {
			return p, true
		}
	}
	return hip.Pending{}, false
}

// begin starts e's upload, or says why it needs none from this load.
func (l *load) begin(e *entry) (hip.Pending, bool) {
	c := l.c
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		l.halt("the cache closed", ErrClosed)
		return hip.Pending{}, false
	}
	switch e.state {
	case Resident:
		c.touchLocked(e)
		c.mu.Unlock()
		l.report(e.t.Size)
		return hip.Pending{}, false
	case Loading:
		l.others = append(l.others, e)
		c.mu.Unlock()
		return hip.Pending{}, false
	}
	prev := e.state
	flight := make(chan struct{})
	evicted, err := c.startLoadLocked(e, flight)
	if err != nil && errors.Is(err, ErrNoSpace) {
		c.mu.Unlock()
		c.notifyEvicted(evicted)
		l.pos-- // not loaded, like the rest
		// The reason names the tensor; the error only says which kind.
		l.halt(fmt.Sprintf("the budget of %s is full at %q", units.Text(c.budget), e.t.Name), ErrNoSpace)
		return hip.Pending{}, false
	}
	if err != nil {
		c.failLocked(e, err)
		c.mu.Unlock()
		c.notifyEvicted(evicted)
		l.failed(err)
		return hip.Pending{}, false
	}
	if e.state == Resident { // an empty tensor
		c.mu.Unlock()
		c.notifyEvicted(evicted)
		return hip.Pending{}, false
	}
	dst := e.block.ptr()
	l.mine[e] = true
	c.mu.Unlock()
	c.notifyEvicted(evicted)

	cp, err := e.t.copyTo(dst)
	if err != nil {
		c.mu.Lock()
		c.failLoadLocked(e, err)
		close(flight)
		c.mu.Unlock()
		l.failed(err)
		return hip.Pending{}, false
	}
	return hip.Pending{
		Copy:   cp,
		Landed: func(err error) { l.landed(e, prev, flight, err) },
	}, true
}

// landed records the end of e's upload: resident, failed, or (cancelled by
// the caller, not by Close) back where it was so the next Get loads it.
func (l *load) landed(e *entry, prev State, flight chan struct{}, err error) {
	c := l.c
	c.mu.Lock()
	abandoned := err != nil && l.ctx.Err() != nil && c.bgCtx.Err() == nil
	switch {
	case abandoned:
		c.releaseLoadLocked(e)
		// A failure it retried is no longer known to hold: Unloaded, so
		// that waiters load it themselves rather than see a stale error.
		if prev == Failed {
			prev = Unloaded
		}
		e.setState(prev, nil)
	case err != nil:
		err = fmt.Errorf("cache: tensor %q: uploading to %s: %w", e.t.Name, c.dev, err)
		c.failLoadLocked(e, err)
	default:
		e.flight = nil
		c.makeResidentLocked(e)
		c.counters.uploads++
		c.counters.uploadedBytes += e.t.Size
	}
	close(flight)
	c.mu.Unlock()
	switch {
	case err == nil:
		c.notifyUploads([]uploadEnd{{e.t.Name, e.t.Size, nil}})
		l.report(e.t.Size)
	case !abandoned:
		c.notifyUploads([]uploadEnd{{e.t.Name, e.t.Size, err}})
		l.failed(err)
	}
}

// awaitOthers waits for the tensors that were loading through another
// caller's upload, counts those that landed, and returns those it gave up on.
func (l *load) awaitOthers() []*entry {
	var retry []*entry
	for _, e := range l.others {
		l.awaitOther(e)
		switch st := e.status.Load().State; {
		case st == Resident:
			l.report(e.t.Size)
		case st != Failed && l.ctx.Err() == nil:
			retry = append(retry, e)
		}
	}
	return retry
}

// awaitOther waits until e is no longer loading through another caller's
// upload (following a new upload that starts as one ends), or ctx ends.
func (l *load) awaitOther(e *entry) {
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

func (l *load) report(n uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.done += n
	l.track.landed(l.done)
	if l.progress != nil {
		l.progress(l.done, l.total)
	}
}

func (l *load) failed(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.failures == 0 {
		l.firstErr = err
	}
	l.failures++
}

func (l *load) failureCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.failures
}

// result looks at every tensor asked for, now.
func (l *load) result(entries []*entry) LoadResult {
	r := LoadResult{Tensors: len(entries), Stopped: l.stop}
	for _, e := range entries {
		switch e.status.Load().State {
		case Resident:
			r.Resident++
			r.ResidentBytes += e.t.Size
		case Failed:
			r.Failed = append(r.Failed, e.t.Name)
		case Evicted:
			if l.mine[e] {
				r.Evicted = append(r.Evicted, e.t.Name)
				continue
			}
			fallthrough
		default:
			r.NotLoaded = append(r.NotLoaded, e.t.Name)
		}
	}
	return r
}

func (l *load) err(r LoadResult) error {
	if l.c.bgCtx.Err() != nil {
		return fmt.Errorf("cache: loading %d tensors: %s: %w", r.Tensors, r, ErrClosed)
	}
	if err := l.ctx.Err(); err != nil {
		return fmt.Errorf("cache: loading %d tensors: %s: %w", r.Tensors, r, err)
	}
	if len(r.Failed) == 0 && len(r.NotLoaded) == 0 {
		// Everything landed; what someone evicted since (an explicit
		// Evict) the result names, but the load did its part.
		return nil
	}
	l.mu.Lock()
	firstErr := l.firstErr
	l.mu.Unlock()
	cause := errors.Join(firstErr, l.stopEr)
	if cause == nil {
		cause = errNotLoaded
	}
	return fmt.Errorf("cache: loading %d tensors: %s: %w", r.Tensors, r, cause)
}
