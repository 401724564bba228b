package hip

import (
	"context"
	"fmt"
	"os"
	"sort"
	"sync"
	"sync/atomic"
)

// DefaultHostCapacity is the host backend's capacity when none is given:
// enough for the tests and small benchmarks, small enough for CI machines.
const DefaultHostCapacity = 1 << 30

var pageSize = os.Getpagesize()

// HostOptions configures the host backend.
type HostOptions struct {
	// Capacity is the emulated device memory in bytes (0: DefaultHostCapacity).
	Capacity uint64
}

// Host emulates a device in host memory. Each allocation is its own shared
// memory file (a memfd) mapped into this process, so a DevicePtr is a real
// address, pointer arithmetic within an allocation works as on a GPU, and
// other processes can map an allocation read-only (Export). It enforces a
// capacity and can inject faults.
type Host struct {
	capacity uint64

	// mu guards the allocation table; copies hold it for reading so Free
	// cannot unmap memory a copy is using.
	mu     sync.RWMutex
	allocs map[DevicePtr]hostAlloc
	bases  []DevicePtr // sorted keys of allocs, to find the allocation holding an address
	used   uint64
	closed bool

	faults faultPlan
	stats  counters
}

var _ Backend = (*Host)(nil)

// NewHost returns a host backend.
func NewHost(opts HostOptions) *Host {
	c := opts.Capacity
	if c == 0 {
		c = DefaultHostCapacity
	}
	return &Host{capacity: c, allocs: make(map[DevicePtr]hostAlloc)}
}

// Kind is "host".
func (h *Host) Kind() string { return "host" }

// String is "host".
func (h *Host) String() string { return "host" }

// Capacity is the emulated device memory in bytes.
func (h *Host) Capacity() uint64 { return h.capacity }

// Allocated is the number of bytes held by live allocations.
func (h *Host) Allocated() uint64 {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.used
}

// FailAlloc makes the nth next Malloc call (1 = the very next) fail with an
// error wrapping ErrInjected and ErrOutOfMemory, as a full GPU would.
// n <= 0 cancels a pending injection.
func (h *Host) FailAlloc(n int) { h.faults.set(opAlloc, n) }

// FailUpload makes the nth next Upload call (1 = the very next) fail with an
// error wrapping ErrInjected before it copies anything. n <= 0 cancels.
func (h *Host) FailUpload(n int) { h.faults.set(opUpload, n) }

// Malloc allocates size bytes; beyond the capacity it fails with ErrOutOfMemory.
func (h *Host) Malloc(size uint64) (DevicePtr, error) {
	if size == 0 {
		return 0, fmt.Errorf("host: malloc of 0 bytes: %w", ErrInvalidValue)
	}
	if err := h.faults.fire(opAlloc); err != nil {
		return 0, fmt.Errorf("host: malloc of %d bytes: %w", size, err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return 0, ErrClosed
	}
	if size > h.capacity-h.used {
		return 0, fmt.Errorf("host: malloc of %d bytes (%d of %d in use): %w",
			size, h.used, h.capacity, ErrOutOfMemory)
	}
	if size > uint64(maxInt) {
		return 0, fmt.Errorf("host: malloc of %d bytes: %w", size, ErrOutOfMemory)
	}
	a, err := newHostAlloc(size)
	if err != nil {
		return 0, fmt.Errorf("host: malloc of %d bytes: %v: %w", size, err, ErrOutOfMemory)
	}
	p := DevicePtr(addressOf(a.mem))
	h.allocs[p] = a
	i := sort.Search(len(h.bases), func(i int) bool { return h.bases[i] > p })
	h.bases = append(h.bases, 0)
	copy(h.bases[i+1:], h.bases[i:])
	h.bases[i] = p
	h.used += size
	h.stats.alloc(size)
	return p, nil
}

// Free releases an allocation; a pointer Malloc did not return is an error.
func (h *Host) Free(p DevicePtr) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return ErrClosed
	}
	a, ok := h.allocs[p]
	if !ok {
		return fmt.Errorf("host: free of %#x: %w", uintptr(p), ErrInvalidPointer)
	}
	h.release(p, a)
	return nil
}

// release unmaps one allocation; h.mu must be held for writing. Processes
// that mapped an export keep their mapping (and its pages) until they unmap.
func (h *Host) release(p DevicePtr, a hostAlloc) {
	delete(h.allocs, p)
	i := sort.Search(len(h.bases), func(i int) bool { return h.bases[i] >= p })
	h.bases = append(h.bases[:i], h.bases[i+1:]...)
	h.used -= uint64(len(a.mem))
	h.stats.free(uint64(len(a.mem)))
	a.close()
}

// span returns the device bytes [p, p+n); h.mu must be held.
func (h *Host) span(p DevicePtr, n int) ([]byte, error) {
	i := sort.Search(len(h.bases), func(i int) bool { return h.bases[i] > p }) - 1
	if i < 0 {
		return nil, fmt.Errorf("host: address %#x: %w", uintptr(p), ErrInvalidPointer)
	}
	base := h.bases[i]
	mem := h.allocs[base].mem
	off := uint64(p - base)
	if off > uint64(len(mem)) || uint64(n) > uint64(len(mem))-off {
		return nil, fmt.Errorf("host: range [%#x, +%d) outside allocation [%#x, +%d): %w",
			uintptr(p), n, uintptr(base), len(mem), ErrInvalidPointer)
	}
	return mem[off : off+uint64(n)], nil
}

// Upload copies every Src to its Dst. Every destination is checked before
// anything is copied; a fault reading a source returns ErrSourceFault.
func (h *Host) Upload(ctx context.Context, copies []Copy) error {
	if err := h.faults.fire(opUpload); err != nil {
		return fmt.Errorf("host: upload: %w", err)
	}
	dsts, err := h.spans(copies)
	if err != nil {
		return err
	}
	// The copies run without the lock: holding it would stall every Malloc
	// and Free (and a cache that allocates under its own lock) for as long
	// as a large upload takes. Freeing memory that an upload is writing is
	// the caller's bug on any device; here a fault it causes becomes an error.
	for i, c := range copies {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("host: upload: %w", err)
		}
		// As on a GPU's staging path, pread from the file where the copy
		// names it: faulting a fresh mapping in costs more than the copy.
		var err error
		if f, off := c.Src.File(); f != nil {
			err = preadFull(f, dsts[i], off)
		} else {
			_, err = copyFromSource(dsts[i], c.Src.Bytes())
		}
		if err != nil {
			return fmt.Errorf("host: upload %d of %d: %w", i, len(copies), err)
		}
		h.stats.upload("host", uint64(c.Src.Len()))
	}
	return nil
}

// spans resolves every copy's destination, under the lock.
func (h *Host) spans(copies []Copy) ([][]byte, error) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.closed {
		return nil, ErrClosed
	}
	dsts := make([][]byte, len(copies))
	for i, c := range copies {
		d, err := h.span(c.Dst, c.Src.Len())
		if err != nil {
			return nil, fmt.Errorf("host: upload %d of %d: %w", i, len(copies), err)
		}
		dsts[i] = d
	}
	return dsts, nil
}

// Download copies len(dst) bytes from src into dst.
func (h *Host) Download(dst []byte, src DevicePtr) error {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.closed {
		return ErrClosed
	}
	s, err := h.span(src, len(dst))
	if err != nil {
		return fmt.Errorf("host: download: %w", err)
	}
	copy(dst, s)
	h.stats.download(uint64(len(dst)))
	return nil
}

// MemInfo reports the unused and total capacity.
func (h *Host) MemInfo() (free, total uint64, err error) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.closed {
		return 0, 0, ErrClosed
	}
	return h.capacity - h.used, h.capacity, nil
}

// Stats reports what the backend has done.
func (h *Host) Stats() Stats { return h.stats.snapshot() }

// Close frees every allocation; later calls fail with ErrClosed.
func (h *Host) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil
	}
	for p, a := range h.allocs {
		h.release(p, a)
	}
	h.closed = true
	return nil
}

// faultOp names an operation a test can make fail.
type faultOp int

const (
	opAlloc faultOp = iota
	opUpload
	numFaultOps
)

// faultPlan counts down to the injected failure of each operation.
type faultPlan struct {
	countdown [numFaultOps]atomic.Int64
}

func (f *faultPlan) set(op faultOp, n int) {
	if n < 0 {
		n = 0
	}
	f.countdown[op].Store(int64(n))
}

// fire counts one call of op and returns ErrInjected on the chosen one.
func (f *faultPlan) fire(op faultOp) error {
	c := &f.countdown[op]
	for {
		n := c.Load()
		if n <= 0 {
			return nil
		}
		if c.CompareAndSwap(n, n-1) {
			if n == 1 {
				if op == opAlloc {
					return fmt.Errorf("%w: %w", ErrInjected, ErrOutOfMemory)
				}
				return ErrInjected
			}
			return nil
		}
	}
}
