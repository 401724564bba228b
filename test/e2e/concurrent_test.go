package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ggufs/ggufs/synth"
)

const readers = 32

// 32 readers read every tensor under a cache far smaller than the model:
// tensors are evicted and uploaded again while others read, and every byte
// read equals the file's. A read that finds every byte of the budget pinned
// by the others may get ENOMEM; the reader then tries again.
func TestConcurrentReadersUnderEviction(t *testing.T) {
	mdl := genModel(t, synth.Options{Preset: "tiny", DType: "f16", Seed: 31})
	var total, largest uint64
	for _, ti := range mdl.tensors {
		total += ti.Size
		largest = max(largest, ti.Size)
	}
	budget := max(total/4, 2*largest)
	m := startMount(t, mdl.path, "--cache-size", strconv.FormatUint(budget, 10))

	var wg sync.WaitGroup
	var noMem atomic.Int64
	errs := make(chan error, readers*len(mdl.tensors))
	for r := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range mdl.tensors {
				ti := mdl.tensors[(r*7+i)%len(mdl.tensors)]
				path := filepath.Join(tensorDir(m.dir, ti.Name), "data")
				for attempt := 0; ; attempt++ {
					got, err := os.ReadFile(path)
					if errors.Is(err, syscall.ENOMEM) && attempt < 10000 {
						noMem.Add(1)
						time.Sleep(time.Millisecond)
						continue
					}
					if err != nil {
						errs <- err
					} else if !bytes.Equal(got, mdl.data(ti)) {
						errs <- errors.New(ti.Name + ": bytes differ from the file")
					}
					break
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	b, err := os.ReadFile(filepath.Join(m.dir, "stats.json"))
	if err != nil {
		t.Fatal(err)
	}
	var stats struct {
		Cache struct {
			Evictions     int64  `json:"evictions"`
			Uploads       int64  `json:"uploads"`
			ResidentBytes uint64 `json:"resident_bytes"`
		} `json:"cache"`
	}
	if err := json.Unmarshal(b, &stats); err != nil {
		t.Fatal(err)
	}
	t.Logf("budget %d of %d bytes: %d uploads, %d evictions, %d ENOMEM retries", budget, total, stats.Cache.Uploads, stats.Cache.Evictions, noMem.Load())
	if stats.Cache.Evictions == 0 {
		t.Errorf("no evictions under a budget of %d for %d bytes", budget, total)
	}
	if stats.Cache.ResidentBytes > budget {
		t.Errorf("resident %d bytes, over the budget of %d", stats.Cache.ResidentBytes, budget)
	}
}
