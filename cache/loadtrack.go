package cache

import (
	"errors"
	"sync"
	"time"
)

// errNotLoaded: tensors left unloaded with no failure or stop to blame
// (another caller's upload that they rode on kept failing over); a bug
// if ever seen.
var errNotLoaded = errors.New("cache: tensors not loaded")

// loadTrack is what Stats reports of a Load run with Report: bytes landed so
// far, and the result once it ends.
type loadTrack struct {
	total   uint64
	tensors int
	start   time.Time

	mu     sync.Mutex
	done   uint64
	ended  time.Time // zero while running
	result *LoadResult
	err    error
}

func (t *loadTrack) landed(done uint64) {
	t.mu.Lock()
	t.done = done
	t.mu.Unlock()
}

func (t *loadTrack) finish(r LoadResult, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.ended, t.result, t.err = time.Now(), &r, err
}

// LoadAllStats is the progress of the whole-model load (the Load run with
// Report, the latest one), as stats.json's load_all shows it.
type LoadAllStats struct {
	Running        bool    `json:"running"`
	BytesDone      uint64  `json:"bytes_done"` // landed on the device so far
	BytesTotal     uint64  `json:"bytes_total"`
	Tensors        int     `json:"tensors"`
	ElapsedSeconds float64 `json:"elapsed_seconds"`
	GBPerSecond    float64 `json:"gb_per_s"` // bytes done over elapsed time
	// Result is set once the load has ended.
	Result *LoadAllResult `json:"result,omitempty"`
}

// LoadAllResult is how the whole-model load ended.
type LoadAllResult struct {
	Resident      int    `json:"resident"`
	ResidentBytes uint64 `json:"resident_bytes"`
	Failed        int    `json:"failed"`
	NotLoaded     int    `json:"not_loaded"`
	Evicted       int    `json:"evicted"`
	Stopped       string `json:"stopped,omitempty"`
	Summary       string `json:"summary"`         // LoadResult.String
	Error         string `json:"error,omitempty"` // empty when every tensor is resident
}

func (t *loadTrack) stats() *LoadAllStats {
	if t == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	end := t.ended
	if end.IsZero() {
		end = time.Now()
	}
	s := &LoadAllStats{Running: t.result == nil, BytesDone: t.done, BytesTotal: t.total, Tensors: t.tensors,
		ElapsedSeconds: end.Sub(t.start).Seconds()}
	if s.ElapsedSeconds > 0 {
		s.GBPerSecond = float64(t.done) / s.ElapsedSeconds / 1e9
	}
	if r := t.result; r != nil {
		s.Result = &LoadAllResult{Resident: r.Resident, ResidentBytes: r.ResidentBytes, Failed: len(r.Failed),
			NotLoaded: len(r.NotLoaded), Evicted: len(r.Evicted), Stopped: r.Stopped, Summary: r.String()}
		if t.err != nil {
			s.Result.Error = t.err.Error()
		}
	}
	return s
}
