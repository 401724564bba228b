package fs

import (
	"sync"

	"github.com/ggufs/ggufs/mount/ctl"
)

// Read pool defaults. Each open data file that is read sequentially wants
// two windows (the span being read and the one read ahead); without a cap,
// 150 open files held 1.2 GB of host memory outside any budget. The pool
// bounds all windows of all open files together; a file that cannot get a
// window reads without one (each read downloads just its own bytes: slower,
// never wrong).
const (
	// readPoolBudgetShare is the default cap as a share of the cache
	// budget: read-ahead is worth a little memory next to the tensors.
	readPoolBudgetShare = 16
	// minReadPoolBytes lets one sequential reader keep both its windows
	// however small the cache.
	minReadPoolBytes = 2 * readWindowBytes
	// maxReadPoolBytes bounds the default on large devices (1 GiB): 128 readers
	// streaming with both windows each.
	maxReadPoolBytes = 128 * 2 * readWindowBytes
	// readPoolKeepIdle is how many full-size windows the pool keeps once no
	// reader uses them, so that a model read tensor after tensor does not
	// allocate a window per open; the rest go back to the Go heap at once.
	readPoolKeepIdle = 2
)

// DefaultReadPoolBytes is the read pool's cap for a cache budget: a
// sixteenth of it, at least one reader's two windows and at most 1 GiB.
func DefaultReadPoolBytes(cacheBudget uint64) int64 {
	return int64(min(max(cacheBudget/readPoolBudgetShare, minReadPoolBytes), maxReadPoolBytes))
}

// ReadPoolStats are the read pool's counters, as stats.json reports them.
type ReadPoolStats = ctl.ReadPool

// readPool is the host memory of every open data file's windows: one pool
// per mount with a cap on what it hands out and keeps together. Safe for
// concurrent use.
type readPool struct {
	size int   // a full window's bytes
	cap  int64 // in use + idle never exceeds it

	mu    sync.Mutex
	idle  [][]byte // full-size buffers no window holds, at most readPoolKeepIdle
	stats ReadPoolStats
}

// newReadPool makes a pool of windows of size bytes capped at capBytes.
func newReadPool(size int, capBytes int64) *readPool {
	return &readPool{size: size, cap: capBytes, stats: ReadPoolStats{CapBytes: capBytes}}
}

// get returns a buffer of n ≤ size bytes, or nil when handing it out would
// pass the cap (the caller reads without a window). Idle buffers are
// dropped first to make room for a smaller one.
func (p *readPool) get(n int) []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n == p.size && len(p.idle) > 0 {
		b := p.idle[len(p.idle)-1]
		p.idle = p.idle[:len(p.idle)-1]
		p.stats.IdleBytes -= int64(cap(b))
		p.stats.InUseBytes += int64(cap(b))
		p.stats.Grants++
		return b[:n]
	}
	for len(p.idle) > 0 && p.stats.InUseBytes+p.stats.IdleBytes+int64(n) > p.cap {
		p.dropIdleLocked()
	}
	if p.stats.InUseBytes+p.stats.IdleBytes+int64(n) > p.cap {
		p.stats.Refusals++
		return nil
	}
	p.stats.InUseBytes += int64(n)
	p.stats.Grants++
	p.stats.PeakBytes = max(p.stats.PeakBytes, p.stats.InUseBytes+p.stats.IdleBytes)
	return make([]byte, n)
}

// put gives back a buffer get returned; full-size ones are kept while
// fewer than readPoolKeepIdle are, the rest left to the garbage collector.
func (p *readPool) put(b []byte) {
	if b == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stats.InUseBytes -= int64(cap(b))
	if cap(b) == p.size && len(p.idle) < readPoolKeepIdle {
		p.idle = append(p.idle, b[:cap(b)])
		p.stats.IdleBytes += int64(cap(b))
	}
}

func (p *readPool) dropIdleLocked() {
	b := p.idle[len(p.idle)-1]
	p.idle[len(p.idle)-1] = nil
	p.idle = p.idle[:len(p.idle)-1]
	p.stats.IdleBytes -= int64(cap(b))
}

// snapshot returns the counters now.
func (p *readPool) snapshot() ReadPoolStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

// ReadPoolStats reports the mount's read pool, for stats.json.
func (r *Root) ReadPoolStats() ReadPoolStats { return r.windows.snapshot() }

// readPoolCap is the cap cfg asks for, or the default for its cache.
func readPoolCap(cfg Config) int64 {
	if cfg.ReadPoolBytes > 0 {
		return cfg.ReadPoolBytes
	}
	return DefaultReadPoolBytes(cfg.Cache.Budget())
}
