package hip

import (
	"sync"
	"unsafe"
)

const maxInt = int(^uint(0) >> 1)

// counters accumulates Stats; safe for concurrent use.
type counters struct {
	mu sync.Mutex
	s  Stats
}

func (c *counters) alloc(n uint64) {
	c.mu.Lock()
	c.s.LiveAllocations++
	c.s.TotalAllocations++
	c.s.AllocatedBytes += n
	c.mu.Unlock()
}

func (c *counters) free(n uint64) {
	c.mu.Lock()
	c.s.LiveAllocations--
	c.s.AllocatedBytes -= n
	c.mu.Unlock()
}

func (c *counters) upload(path string, n uint64) {
	c.mu.Lock()
	c.s.Uploads++
	c.s.UploadedBytes += n
	if c.s.PathBytes == nil {
		c.s.PathBytes = make(map[string]uint64)
	}
	c.s.PathBytes[path] += n
	c.mu.Unlock()
}

// pathBytes adds bytes to a path without counting a Copy entry (for chunks).
func (c *counters) pathBytes(path string, n uint64) {
	c.mu.Lock()
	if c.s.PathBytes == nil {
		c.s.PathBytes = make(map[string]uint64)
	}
	c.s.PathBytes[path] += n
	c.mu.Unlock()
}

// uploaded counts finished Copy entries.
func (c *counters) uploaded(entries int, n uint64) {
	c.mu.Lock()
	c.s.Uploads += int64(entries)
	c.s.UploadedBytes += n
	c.mu.Unlock()
}

// spent adds time to one of the CPU-time counters.
func (c *counters) spent(field *int64, d int64) {
	c.mu.Lock()
	*field += d
	c.mu.Unlock()
}

func (c *counters) download(n uint64) {
	c.mu.Lock()
	c.s.Downloads++
	c.s.DownloadedBytes += n
	c.mu.Unlock()
}

func (c *counters) snapshot() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.s
	s.PathBytes = make(map[string]uint64, len(c.s.PathBytes))
	for k, v := range c.s.PathBytes {
		s.PathBytes[k] = v
	}
	return s
}

// addressOf is the address of b's first byte (0 for an empty slice).
func addressOf(b []byte) uintptr {
	if len(b) == 0 {
		return 0
	}
	return uintptr(unsafe.Pointer(&b[0]))
}
