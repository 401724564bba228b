package cache

import "time"

// counters are the cache's running totals, guarded by Cache.mu.
type counters struct {
	hits, misses    int64
	uploads         int64
	uploadedBytes   uint64
	uploadTime      time.Duration
	evictions       int64
	failures        int64
	residentTensors int
	residentBytes   uint64
}

// Stats is a snapshot of what the cache holds and has done.
type Stats struct {
	Device  string `json:"device"`
	Tensors int    `json:"tensors"`
	// Hits are Gets that found the tensor resident; Misses had to wait for
	// an upload (their own or one already in progress).
	Hits   int64 `json:"hits"`
	Misses int64 `json:"misses"`
	// Uploads counts tensors uploaded; UploadSeconds adds up the wall time
	// of the Upload calls (calls in parallel each count in full).
	Uploads       int64   `json:"uploads"`
	UploadedBytes uint64  `json:"uploaded_bytes"`
	UploadSeconds float64 `json:"upload_seconds"`
	Evictions     int64   `json:"evictions"`
	// Failures counts loads that ended in an error (no space, a failed
	// allocation or upload, an unreadable source).
	Failures        int64  `json:"failures"`
	ResidentTensors int    `json:"resident_tensors"`
	ResidentBytes   uint64 `json:"resident_bytes"`
	// BudgetBytes is the most device memory the cache may hold; DeviceBytes
	// is what it holds now (arenas and dedicated allocations, used or not).
	BudgetBytes uint64 `json:"budget_bytes"`
	DeviceBytes uint64 `json:"device_bytes"`
	ArenaSize   uint64 `json:"arena_size"`
	// DeviceAllocations are the cache's live device allocations;
	// DeviceAllocationsTotal counts every one it ever made.
	DeviceAllocations      int   `json:"device_allocations"`
	DeviceAllocationsTotal int64 `json:"device_allocations_total"`
	// LoadAll is the whole-model load's progress (the latest Load run with
	// Report); nil when none was started.
	LoadAll *LoadAllStats `json:"load_all,omitempty"`
}

// Stats returns the counters now.
func (c *Cache) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := c.counters
	return Stats{
		Device:                 c.dev.String(),
		Tensors:                len(c.order),
		Hits:                   k.hits,
		Misses:                 k.misses,
		Uploads:                k.uploads,
		UploadedBytes:          k.uploadedBytes,
		UploadSeconds:          k.uploadTime.Seconds(),
		Evictions:              k.evictions,
		Failures:               k.failures,
		ResidentTensors:        k.residentTensors,
		ResidentBytes:          k.residentBytes,
		BudgetBytes:            c.budget,
		DeviceBytes:            c.pool.held,
		ArenaSize:              c.pool.arenaSize,
		DeviceAllocations:      len(c.pool.regions),
		DeviceAllocationsTotal: c.pool.total,
		LoadAll:                c.loadReport.stats(),
	}
}
