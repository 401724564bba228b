package cache

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/ggufs/ggufs/hip"
)

// Device is the narrow slice of hip.Backend the cache needs (hip.Backend
// satisfies it). Implementations must be safe for concurrent use.
type Device interface {
	Malloc(size uint64) (hip.DevicePtr, error)
	Free(p hip.DevicePtr) error
	// Upload returns once every copy is complete on the device.
	Upload(ctx context.Context, copies []hip.Copy) error
	Download(dst []byte, src hip.DevicePtr) error
	MemInfo() (free, total uint64, err error)
	String() string
}

var _ Device = hip.Backend(nil)

// Defaults of Options.
const (
	// defaultBudgetFraction leaves a tenth of the device's free memory to the
	// runtime and to other processes.
	defaultBudgetFraction = 0.9
	// defaultArenaSize: 1 GiB arenas load a 7B Q4 model (3.8 GB) in 4 device
	// allocations and a 70B one (40 GB) in about 40, while the unused tail of
	// the last arena stays below 1% of an H200's memory. An arena is also never
	// larger than the budget or than all the tensors together, so a small
	// model gets one allocation of its own size.
	defaultArenaSize = 1 << 30
	// defaultLoadGroupBytes is how many bytes LoadAll hands to one Upload
	// call, one call at a time. On the H200 (llama-7b q4_K, 3.53 GiB, best of
	// 4) one group of 4 GiB loaded at 42.9-43.8 GB/s, 0.98-1.01 of a single
	// Upload call of every tensor; 2 GiB groups 40.9, two 2 GiB groups in
	// flight 39.6, two 512 MiB groups in flight 38.6-39.1: every group edge
	// drains the pipeline, and concurrent calls only share its fill workers.
	// A group is also the grain of LoadAll's progress: about 0.1 s at that rate.
	defaultLoadGroupBytes     = 4 << 30
	defaultLoadGroupsInFlight = 1
)

// Options tune a Cache. The zero value is usable.
type Options struct {
	// Budget is how many bytes of device memory the cache may hold;
	// 0 means BudgetFraction of the device's free memory, read at the first
	// Get or Load (so that New never waits for a device still starting).
	Budget uint64
	// BudgetFraction is the share of the device's free memory used when
	// Budget is 0 (default 0.9).
	BudgetFraction float64
	// ArenaSize is the size of each pooled device allocation (default 1 GiB,
	// never more than the budget or the sum of all tensor sizes). A tensor
	// larger than an arena gets an allocation of its own.
	ArenaSize uint64
	// LoadGroupBytes is how many bytes Load hands to one Upload call on a
	// device without a streaming upload (default 4 GiB).
	LoadGroupBytes uint64
	// LoadGroupsInFlight is how many of LoadAll's Upload calls run at once
	// (default 1).
	LoadGroupsInFlight int
	// OnEvict is called after a tensor leaves the device, outside any lock.
	OnEvict func(name string)
	// OnUpload is called after each upload of a tensor ends, outside any
	// lock: err is nil when the tensor became resident. Uploads abandoned
	// because their caller gave up are not reported.
	OnUpload func(name string, bytes uint64, err error)
}

// Cache decides which tensors are resident on one device. It is safe for
// concurrent use.
type Cache struct {
	dev    Device
	budget uint64 // guarded by mu; 0 until settleBudget resolved it
	// budgetOnce resolves a budget given as a share of the device's free
	// memory, outside mu (MemInfo may wait for the device to open).
	budgetOnce sync.Once
	budgetFrac float64 // 0: the budget was given in bytes
	budgetErr  error   // set by budgetOnce
	arenaWant  uint64  // Options.ArenaSize, clamped once the budget is known
	groupBytes uint64
	groupsMax  int // LoadAll's Upload calls in flight
	onEvict    func(string)
	onUpload   func(name string, bytes uint64, err error)
	byName     map[string]*entry // immutable after New
	order      []*entry          // file order, immutable after New

	bgCtx  context.Context // cancelled by Close; uploads started by Get run under it
	cancel context.CancelFunc
	busy   sync.WaitGroup // uploads and downloads in progress; Close waits for them

	mu       sync.Mutex // guards everything below and every entry's mutable fields
	closed   bool
	pool     pool
	lru      lruList // resident entries, least recently used first
	gens     uint64  // residencies so far; the latest one's Generation
	counters counters
	// loadReport is the latest Load run with Report, for Stats.
	loadReport *loadTrack
	// faults are what went wrong outside any caller's request: broken
	// invariants (bugs) and device memory the device would not take back.
	// Close returns them.
	faults faultLog
}

// entry is one tensor's life in the cache. Mutable fields are guarded by
// Cache.mu; status is also published atomically so Status never waits.
type entry struct {
	t     Tensor
	index int // position in file order

	state   State
	err     error
	lastErr error  // why the latest upload failed (see Status.LastErr)
	fails   uint64 // failed uploads so far: a Get that waited sees its upload's end
	block   block
	flight  chan struct{} // closed when the current upload ends; set while Loading
	refs    int           // live Handles
	pins    int           // Pin calls not yet undone
	holds   int           // Handles taken by Hold (other processes map the tensor)
	gen     uint64        // which residency this is (see Placement.Generation)
	loads   int           // Loads asking for it now: not evicted for others meanwhile (no thrash)
	lru     lruLinks      // place in Cache.lru while Resident

	status atomic.Pointer[Status]
}

// New makes a cache of tensors on dev. No device memory is allocated until a
// tensor is loaded.
func New(dev Device, tensors []Tensor, opts Options) (*Cache, error) {
	frac, err := budgetFraction(opts)
	if err != nil {
		return nil, err
	}
	c := &Cache{
		dev:        dev,
		budget:     opts.Budget,
		budgetFrac: frac,
		arenaWant:  opts.ArenaSize,
		groupBytes: opts.LoadGroupBytes,
		onEvict:    opts.OnEvict,
		onUpload:   opts.OnUpload,
		byName:     make(map[string]*entry, len(tensors)),
		order:      make([]*entry, 0, len(tensors)),
	}
	if c.groupBytes == 0 {
		c.groupBytes = defaultLoadGroupBytes
	}
	c.groupsMax = opts.LoadGroupsInFlight
	if c.groupsMax <= 0 {
		c.groupsMax = defaultLoadGroupsInFlight
	}
	var total uint64
	for i, t := range tensors {
		if _, dup := c.byName[t.Name]; dup {
			return nil, fmt.Errorf("cache: tensor %q listed twice", t.Name)
		}
		if t.Source == nil && t.Err == nil {
			return nil, fmt.Errorf("cache: tensor %q has no source of bytes", t.Name)
		}
		e := &entry{t: t, index: i}
		e.setState(Unloaded, nil)
		if t.Err != nil {
			// Never uploadable: say why from the start.
			e.setState(Failed, t.Err)
		}
		c.byName[t.Name] = e
		c.order = append(c.order, e)
		if a, ok := alignUp(t.Size); ok && t.Err == nil {
			total += a
		}
	}
	c.pool = pool{dev: dev, want: total}
	if c.budgetFrac == 0 {
		c.pool.arenaSize = arenaSize(opts.ArenaSize, c.budget, total)
	}
	c.bgCtx, c.cancel = context.WithCancel(context.Background())
	return c, nil
}

// budgetFraction is the share of free device memory the budget is, or 0 when
// the budget is given in bytes.
func budgetFraction(opts Options) (float64, error) {
	if opts.Budget > 0 {
		return 0, nil
	}
	frac := opts.BudgetFraction
	if frac == 0 {
		frac = defaultBudgetFraction
	}
	if !(frac > 0 && frac <= 1) {
		return 0, fmt.Errorf("cache: budget fraction %v is not in (0, 1]", frac)
	}
	return frac, nil
}

// settleBudget resolves a budget given as a share of the device's free
// memory, once, before the first reservation; it waits for the device when
// it is still opening. Called without c.mu.
func (c *Cache) settleBudget() error {
	if c.budgetFrac == 0 {
		return nil
	}
	c.budgetOnce.Do(func() {
		budget, err := budgetFromDevice(c.dev, c.budgetFrac)
		c.mu.Lock()
		defer c.mu.Unlock()
		c.budgetErr = err
		if err == nil {
			c.budget = budget
			c.pool.arenaSize = arenaSize(c.arenaWant, budget, c.pool.want)
		}
	})
	return c.budgetErr
}

func budgetFromDevice(dev Device, frac float64) (uint64, error) {
	free, _, err := dev.MemInfo()
	if err != nil {
		return 0, fmt.Errorf("cache: reading free memory of %s: %w", dev, fromDevice(err))
	}
	budget := uint64(float64(free) * frac)
	if budget == 0 {
		return 0, fmt.Errorf("cache: %s reports no free memory: %w", dev, ErrNoSpace)
	}
	return budget, nil
}

// arenaSize clamps the requested arena size to the budget and to what all the
// tensors need, keeping it aligned.
func arenaSize(requested, budget, total uint64) uint64 {
	size := requested
	if size == 0 {
		size = defaultArenaSize
	}
	size = min(size, budget&^(allocAlign-1))
	if total > 0 {
		size = min(size, total)
	}
	return max(size, allocAlign)
}

func (c *Cache) lookup(name string) (*entry, error) {
	e, ok := c.byName[name]
	if !ok {
		return nil, fmt.Errorf("cache: tensor %q: %w", name, ErrNotFound)
	}
	return e, nil
}

// setState changes e's state and publishes it for Status: err becomes the
// last error too, which residency clears. Called with c.mu held.
func (e *entry) setState(s State, err error) {
	e.state, e.err = s, err
	switch {
	case err != nil:
		e.lastErr = err
	case s == Resident:
		e.lastErr = nil
	}
	e.status.Store(&Status{State: s, Err: err, LastErr: e.lastErr})
}

// Status reports a tensor's state without waiting for any lock; an unknown
// name reads as Failed with ErrNotFound.
func (c *Cache) Status(name string) Status {
	e, err := c.lookup(name)
	if err != nil {
		return Status{State: Failed, Err: err}
	}
	return *e.status.Load()
}

// IsResident reports whether the tensor is on the device now.
func (c *Cache) IsResident(name string) bool {
	return c.Status(name).State == Resident
}

// Budget is the number of bytes of device memory the cache may hold. A
// budget given as a share of free device memory is read from the device
// here if no Get or Load has yet (waiting for a device still opening); 0
// when the device cannot say. BudgetKnown never waits.
func (c *Cache) Budget() uint64 {
	_ = c.settleBudget() // the error reaches every Get and Load
	b, _ := c.BudgetKnown()
	return b
}

// BudgetKnown is the budget when it is known without asking the device.
func (c *Cache) BudgetKnown() (budget uint64, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.budget, c.budget > 0
}

// Device is the device the cache fills.
func (c *Cache) Device() Device { return c.dev }

// Close waits for uploads and downloads in progress, then frees every device
// allocation. Every later call fails with ErrClosed.
func (c *Cache) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrClosed
	}
	c.closed = true
	c.mu.Unlock()

	c.cancel()
	c.busy.Wait()

	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range c.order {
		if e.state == Resident {
			c.dropLocked(e)
			e.setState(Evicted, nil)
		}
	}
	if err := c.pool.freeAll(); err != nil {
		c.faults.add(err)
	}
	return c.faults.err()
}
