package ctl

import (
	"context"
	"errors"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/sys/unix"
)

// follow reports the load's own bytes, from zero, whatever the device
// received before it started, and returns the load's error.
func TestFollowReportsTheLoadsOwnBytes(t *testing.T) {
	seq := []Stats{
		{LoadAll: &LoadAll{Running: true, BytesDone: 0, BytesTotal: 300}},
		{LoadAll: &LoadAll{Running: true, BytesDone: 100, BytesTotal: 300}},
		{LoadAll: &LoadAll{Running: false, BytesDone: 300, BytesTotal: 300}},
	}
	for i := range seq {
		seq[i].Backend = &BackendStats{PathBytes: map[string]uint64{"host": 5000 + uint64(i)*100}}
	}
	i := 0
	read := func() (Stats, error) { s := seq[i]; i++; return s, nil }
	var got []uint64
	err := follow(context.Background(), read, 0, func(done, total uint64) {
		if total != 300 {
			t.Errorf("total %d, want 300", total)
		}
		got = append(got, done)
	})
	if err != nil || len(got) != 3 || got[0] != 0 || got[1] != 100 || got[2] != 300 {
		t.Errorf("follow reported %v, %v; want [0 100 300], nil", got, err)
	}

	failed := []Stats{{LoadAll: &LoadAll{Error: "cache: no device memory left"}}}
	read = func() (Stats, error) { return failed[0], nil }
	if err := follow(context.Background(), read, 0, nil); err == nil || err.Error() != failed[0].LoadAll.Error {
		t.Errorf("a failed load: %v", err)
	}
	read = func() (Stats, error) { return Stats{}, nil }
	if err := follow(context.Background(), read, 0, nil); err == nil {
		t.Error("stats without load_all: no error")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	read = func() (Stats, error) { return Stats{LoadAll: &LoadAll{Running: true}}, nil }
	if err := follow(ctx, read, 0, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestAccepts(t *testing.T) {
	for _, v := range []string{"", "1", "1\n", "\n"} {
		if !Accepts([]byte(v)) {
			t.Errorf("Accepts(%q) = false", v)
		}
	}
	for _, v := range []string{"0", "2", "yes", "11", "1\n\n", "\x00"} {
		if Accepts([]byte(v)) {
			t.Errorf("Accepts(%q) = true", v)
		}
	}
}

// fakeMount stands in for a mount's tensors: loading more than one at a
// time fails with ENOMEM (each fits the device, two do not), as parallel
// loads that each fit the cache can fail together.
type fakeMount struct {
	mu       sync.Mutex
	loading  int
	loads    map[string]int // successful loads by tensor
	refuse   bool           // answer EPERM, as to a user who did not mount
	overlaps int            // loads that found another one running
}

func (f *fakeMount) client() *Client {
	c := &Client{Dir: "/m", owner: 1000}
	c.get = func(path, name string) (string, error) {
		entry := filepath.Base(path)
		switch name {
		case XattrNbytes:
			return "100", nil
		case XattrName:
			return entry, nil
		}
		return "x", nil
	}
	c.set = func(path, name string, _ []byte) error {
		if f.refuse {
			return unix.EPERM
		}
		f.mu.Lock()
		f.loading++
		busy := f.loading > 1
		if busy {
			f.overlaps++
		}
		f.mu.Unlock()
		runtime.Gosched() // let other loads start meanwhile
		f.mu.Lock()
		defer f.mu.Unlock()
		f.loading--
		if busy {
			return unix.ENOMEM
		}
		f.loads[filepath.Base(path)]++
		return nil
	}
	return c
}

// Tensors that failed for want of device memory while others loaded are
// loaded again one at a time, so that all of them end up resident.
func TestLoadTensorsRetriesNoSpaceOneAtATime(t *testing.T) {
	f := &fakeMount{loads: map[string]int{}}
	c := f.client()
	names := []string{"a", "b", "c", "d", "e", "f", "g", "h"}
	var loaded atomic.Uint64
	for try := 0; try < 20 && f.overlaps == 0; try++ { // until the parallel pass overlapped
		f.loads = map[string]int{}
		loaded.Store(0)
		if errs := c.LoadTensors(names, func(n uint64) { loaded.Add(n) }); len(errs) > 0 {
			t.Fatalf("LoadTensors: %v", errs)
		}
	}
	if f.overlaps == 0 {
		t.Fatal("the parallel pass never ran two loads at once")
	}
	for _, n := range names {
		if f.loads[n] != 1 {
			t.Errorf("%s loaded %d times, want 1", n, f.loads[n])
		}
	}
	if got := loaded.Load(); got != 100*uint64(len(names)) {
		t.Errorf("reported %d bytes loaded, want %d", got, 100*len(names))
	}
}

// A refused command says who may send it rather than counting failures.
func TestRefusedLoadSaysWhy(t *testing.T) {
	f := &fakeMount{loads: map[string]int{}, refuse: true}
	err := f.client().Load("a")
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "uid 1000") {
		t.Errorf("refused load: %v; want ErrRefused naming the owner (uid 1000)", err)
	}
	if err := f.client().LoadAll(context.Background(), nil); !errors.Is(err, ErrRefused) {
		t.Errorf("refused load of everything: %v; want ErrRefused", err)
	}
}
