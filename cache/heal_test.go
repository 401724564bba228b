package cache

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/ggufs/ggufs/hip"
)

// A tensor refused for want of memory is not shown as an error: it is
// unloaded again, its last error kept, and the next read once memory is free
// loads it and clears that error.
func TestStatusHealsAfterNoSpace(t *testing.T) {
	const size = 100_000
	m := newTestModel(81, size, size, size)
	c := newTestCache(t, newHost(t, 1<<20), m, Options{Budget: 2*size + allocAlign, ArenaSize: 2*size + allocAlign})
	ctx := context.Background()
	a, err := c.Get(ctx, m.name(0))
	if err != nil {
		t.Fatal(err)
	}
	unpin, err := c.Pin(m.name(1))
	if err != nil {
		t.Fatal(err)
	}
	checkTensor(t, c, m, m.name(1))

	_, err = c.Get(ctx, m.name(2))
	if !errors.Is(err, ErrNoSpace) {
		t.Fatalf("Get with the budget held = %v; want ErrNoSpace", err)
	}
	// The reason counts what is held: two tensors of size bytes each.
	if want := fmt.Sprintf("%d bytes held by 2 tensors in use or loading", 2*size); !strings.Contains(err.Error(), want) {
		t.Errorf("reason %q; want it to say %q", err, want)
	}
	st := c.Status(m.name(2))
	if st.State != Unloaded || st.Err != nil || !errors.Is(st.LastErr, ErrNoSpace) || st.String() != "unloaded" {
		t.Fatalf("status after no space = %q (state %v, err %v, last %v); want unloaded, the last error kept", st, st.State, st.Err, st.LastErr)
	}

	a.Release()
	checkTensor(t, c, m, m.name(2))
	if st := c.Status(m.name(2)); st.State != Resident || st.LastErr != nil {
		t.Fatalf("status after a read with memory free = %v, last %v; want resident, no last error", st, st.LastErr)
	}
	// m.name(0) was evicted for it; refused again now, it is Evicted, not
	// Unloaded, and not an error.
	if err := c.Evict(m.name(2)); err != nil {
		t.Fatal(err)
	}
	checkTensor(t, c, m, m.name(2))
	b, err := c.Get(ctx, m.name(2))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Release()
	if _, err := c.Get(ctx, m.name(0)); !errors.Is(err, ErrNoSpace) {
		t.Fatalf("Get with the budget held = %v; want ErrNoSpace", err)
	}
	if st := c.Status(m.name(0)); st.State != Evicted || !errors.Is(st.LastErr, ErrNoSpace) || st.String() != "evicted" {
		t.Fatalf("status of a once-resident tensor refused = %q, last %v; want evicted", st, st.LastErr)
	}
	unpin()
}

// A failure a read would reproduce (here the device's) stays an error, with
// LastErr the same error.
func TestDeviceFailureStaysAnError(t *testing.T) {
	m := newTestModel(82, 5000)
	dev := &failingDevice{Host: newHost(t, 1<<20), upload: fmt.Errorf("copy: %w", hip.ErrInvalidPointer)}
	c := newTestCache(t, dev, m, Options{Budget: 1 << 20})
	if _, err := c.Get(context.Background(), m.name(0)); !errors.Is(err, ErrDevice) {
		t.Fatalf("Get = %v; want ErrDevice", err)
	}
	st := c.Status(m.name(0))
	if st.State != Failed || st.LastErr != st.Err || !strings.HasPrefix(st.String(), "error: ") {
		t.Fatalf("status = %q, last %v; want error: with LastErr the same", st, st.LastErr)
	}
}

// Gets waiting on an upload that fails for want of memory get its error
// and return; they do not keep reloading while the tensor reads Unloaded.
func TestWaitersOfAnUploadOutOfMemoryReturn(t *testing.T) {
	m := newTestModel(83, 5000)
	h := newHost(t, 1<<20)
	dev := newGatedDevice(h)
	c := newTestCache(t, &oomGate{gatedDevice: dev}, m, Options{Budget: 1 << 20})
	errs := make(chan error, 3)
	for range 3 {
		go func() {
			_, err := c.Get(context.Background(), m.name(0))
			errs <- err
		}()
	}
	<-dev.started
	dev.open()
	for range 3 {
		if err := <-errs; !errors.Is(err, ErrNoSpace) {
			t.Errorf("a waiting Get = %v; want ErrNoSpace", err)
		}
	}
	if n := dev.calls.Load(); n > 3 {
		t.Errorf("%d uploads for 3 Gets; each may try at most once", n)
	}
}

// oomGate holds each Upload at the gate, then fails it for want of memory.
type oomGate struct{ *gatedDevice }

func (d *oomGate) Upload(ctx context.Context, copies []hip.Copy) error {
	d.calls.Add(1)
	d.started <- struct{}{}
	<-d.gate
	return &hip.RuntimeError{Backend: "cuda", Call: "cudaMemcpyAsync", Code: 2, Name: "cudaErrorMemoryAllocation"}
}

// A tensor larger than the whole budget can never load: that refusal is an
// error the next read reproduces, so status keeps saying it.
func TestOverBudgetStaysAnError(t *testing.T) {
	m := newTestModel(84, 1000, 5000)
	c := newTestCache(t, newHost(t, 1<<20), m, Options{Budget: 4096})
	_, err := c.Get(context.Background(), m.name(1))
	if !errors.Is(err, ErrNoSpace) || !strings.Contains(err.Error(), "larger than the whole budget (5000 bytes, budget 4096)") {
		t.Fatalf("Get of a tensor over the budget = %v", err)
	}
	if st := c.Status(m.name(1)); st.State != Failed || !errors.Is(st.Err, ErrNoSpace) {
		t.Fatalf("status = %q; want error: <reason>", st)
	}
	checkTensor(t, c, m, m.name(0))
}

// pullThenHold is a streaming device that pulls one copy (the tensor is then
// Loading), signals, and holds it until the load's context ends, then reports
// it cancelled.
type pullThenHold struct {
	*hip.Host
	pulled chan struct{}
}

func (d *pullThenHold) UploadStream(ctx context.Context, next func() (hip.Pending, bool)) error {
	p, ok := next()
	if !ok {
		return nil
	}
	close(d.pulled)
	<-ctx.Done()
	p.Landed(ctx.Err())
	return ctx.Err()
}

// A Get waiting on an upload that was abandoned (the Load it belonged to was
// cancelled) loads the tensor itself, even when the tensor had failed before:
// only a failure of the upload it waited for is reported.
func TestWaiterOfAnAbandonedLoadLoadsItself(t *testing.T) {
	m := newTestModel(85, 5000)
	h := newHost(t, 1<<20)
	dev := &pullThenHold{Host: h, pulled: make(chan struct{})}
	c := newTestCache(t, dev, m, Options{Budget: 1 << 20})
	h.FailUpload(1)
	if _, err := c.Get(context.Background(), m.name(0)); !errors.Is(err, hip.ErrInjected) {
		t.Fatalf("first Get = %v; want the injected failure", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	loaded := make(chan error, 1)
	go func() { loaded <- c.LoadAll(ctx, nil, nil) }()
	<-dev.pulled
	if st := c.Status(m.name(0)); st.State != Loading {
		t.Fatalf("status while the load holds it = %v; want loading", st)
	}
	misses := c.Stats().Misses
	got := make(chan error, 1)
	go func() {
		buf := make([]byte, 5000)
		_, err := c.ReadAt(context.Background(), m.name(0), buf, 0)
		got <- err
	}()
	// The reader's miss is counted as it takes the load's flight to wait on.
	for c.Stats().Misses == misses {
		runtime.Gosched()
	}
	cancel()
	<-loaded
	if err := <-got; err != nil {
		t.Fatalf("a Get that waited on the cancelled load = %v; want it to load the tensor itself", err)
	}
	checkTensor(t, c, m, m.name(0))
}
