package cache

import (
	"context"
	"errors"
	"io"
	"sync"
	"testing"
)

func TestGetUploadsOnceThenHits(t *testing.T) {
	m := newTestModel(1, 1000, 5000, 0)
	h := newHost(t, 1<<20)
	c := newTestCache(t, h, m, Options{Budget: 1 << 20})

	if st := c.Status(m.name(0)); st.State != Unloaded || st.String() != "unloaded" {
		t.Fatalf("status before Get = %v", st)
	}
	for range 3 {
		checkTensor(t, c, m, m.name(0))
	}
	checkTensor(t, c, m, m.name(1))
	checkTensor(t, c, m, m.name(2)) // an empty tensor
	s := c.Stats()
	if s.Uploads != 2 || s.Misses != 3 || s.Hits != 2 || s.UploadedBytes != 6000 {
		t.Fatalf("stats = %+v; want 2 uploads of 6000 bytes, 3 misses, 2 hits", s)
	}
	if s.ResidentTensors != 3 || s.ResidentBytes != 6000 {
		t.Fatalf("resident = %d tensors, %d bytes; want 3, 6000", s.ResidentTensors, s.ResidentBytes)
	}
	if !c.IsResident(m.name(0)) || c.Status(m.name(1)).String() != "resident" {
		t.Fatal("tensors read are not resident")
	}
	if s.DeviceAllocations != 1 || h.Allocated() != s.DeviceBytes {
		t.Fatalf("device allocations %d (%d bytes), host holds %d bytes; want one arena", s.DeviceAllocations, s.DeviceBytes, h.Allocated())
	}
}

func TestHandleReadAtFollowsReaderAt(t *testing.T) {
	m := newTestModel(2, 1000)
	c := newTestCache(t, newHost(t, 1<<20), m, Options{Budget: 1 << 20})
	hd, err := c.Get(context.Background(), m.name(0))
	if err != nil {
		t.Fatal(err)
	}
	if hd.Size() != 1000 || hd.Ptr() == 0 {
		t.Fatalf("handle size %d ptr %#x", hd.Size(), hd.Ptr())
	}
	src := m.data[m.name(0)]
	buf := make([]byte, 100)
	if n, err := hd.ReadAt(buf, 950); n != 50 || err != io.EOF || string(buf[:50]) != string(src[950:]) {
		t.Fatalf("ReadAt past the end = %d, %v; want 50 bytes and io.EOF", n, err)
	}
	if n, err := hd.ReadAt(buf, 1000); n != 0 || err != io.EOF {
		t.Fatalf("ReadAt at the end = %d, %v; want 0, io.EOF", n, err)
	}
	if n, err := hd.ReadAt(buf, 100); n != 100 || err != nil || string(buf) != string(src[100:200]) {
		t.Fatalf("ReadAt inside = %d, %v", n, err)
	}
	if _, err := hd.ReadAt(buf, -1); err == nil {
		t.Fatal("ReadAt at a negative offset succeeded")
	}
	hd.Release()
	hd.Release() // idempotent: must not unpin twice
	if _, err := hd.ReadAt(buf, 0); !errors.Is(err, ErrReleased) {
		t.Fatalf("ReadAt after Release = %v; want ErrReleased", err)
	}
	if err := c.Evict(m.name(0)); err != nil {
		t.Fatalf("Evict after Release: %v", err)
	}
}

func TestGetSingleFlight(t *testing.T) {
	m := newTestModel(3, 4096, 4096)
	dev := newGatedDevice(newHost(t, 1<<20))
	c := newTestCache(t, dev, m, Options{Budget: 1 << 20})

	const callers = 16
	var wg sync.WaitGroup
	errs := make(chan error, 2*callers)
	for i := range 2 * callers {
		wg.Go(func() {
			h, err := c.Get(context.Background(), m.name(i%2))
			if err == nil {
				h.Release()
			}
			errs <- err
		})
	}
	// Both tensors upload at the same time: two calls start before either ends.
	<-dev.started
	<-dev.started
	if st := c.Status(m.name(0)); st.State != Loading {
		t.Fatalf("status during upload = %v; want loading", st)
	}
	dev.open()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := dev.calls.Load(); n != 2 {
		t.Fatalf("%d Upload calls for 2 tensors read by %d callers; want 2", n, 2*callers)
	}
	if s := c.Stats(); s.Uploads != 2 {
		t.Fatalf("uploads = %d; want 2", s.Uploads)
	}
	checkTensor(t, c, m, m.name(0))
	checkTensor(t, c, m, m.name(1))
}

func TestCancelledCallerDoesNotPoisonEntry(t *testing.T) {
	m := newTestModel(4, 4096)
	dev := newGatedDevice(newHost(t, 1<<20))
	c := newTestCache(t, dev, m, Options{Budget: 1 << 20})

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		_, err := c.Get(ctx, m.name(0))
		done <- err
	}()
	<-dev.started
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Get = %v; want context.Canceled", err)
	}
	// The upload goes on for others: a second Get joins it and succeeds.
	second := make(chan error)
	go func() {
		h, err := c.Get(context.Background(), m.name(0))
		if err == nil {
			h.Release()
		}
		second <- err
	}()
	dev.open()
	if err := <-second; err != nil {
		t.Fatalf("Get after a cancelled one: %v", err)
	}
	if n := dev.calls.Load(); n != 1 {
		t.Fatalf("%d uploads; want the first one to finish and be shared", n)
	}
	checkTensor(t, c, m, m.name(0))
}

func TestGetOfCancelledContextStartsNothing(t *testing.T) {
	m := newTestModel(5, 4096)
	c := newTestCache(t, newHost(t, 1<<20), m, Options{Budget: 1 << 20})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Get(ctx, m.name(0)); !errors.Is(err, context.Canceled) {
		t.Fatalf("Get = %v; want context.Canceled", err)
	}
	if st := c.Status(m.name(0)); st.State != Unloaded {
		t.Fatalf("status = %v; want unloaded", st)
	}
}

func TestUnknownAndUnuploadableTensors(t *testing.T) {
	m := newTestModel(6, 100)
	bad := errors.New("type 99 has no known layout")
	m.tensors = append(m.tensors, Tensor{Name: "weird", Size: 100, Err: bad})
	c := newTestCache(t, newHost(t, 1<<20), m, Options{Budget: 1 << 20})
	ctx := context.Background()
	if _, err := c.Get(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get(unknown) = %v; want ErrNotFound", err)
	}
	if _, err := c.Pin("nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Pin(unknown) = %v; want ErrNotFound", err)
	}
	if err := c.Evict("nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Evict(unknown) = %v; want ErrNotFound", err)
	}
	if st := c.Status("nope"); !errors.Is(st.Err, ErrNotFound) {
		t.Errorf("Status(unknown) = %v; want ErrNotFound", st)
	}
	if st := c.Status("weird"); st.State != Failed || !errors.Is(st.Err, bad) {
		t.Errorf("Status(weird) = %v; want error: <its reason>", st)
	}
	if _, err := c.Get(ctx, "weird"); !errors.Is(err, bad) {
		t.Errorf("Get(weird) = %v; want the tensor's own error", err)
	}
	if err := c.LoadAll(ctx, nil, nil); !errors.Is(err, bad) {
		t.Errorf("LoadAll = %v; want the bad tensor's error", err)
	}
	if !c.IsResident(m.name(0)) {
		t.Error("LoadAll did not load the good tensor beside the bad one")
	}
}

func TestNewRejectsBadInput(t *testing.T) {
	h := newHost(t, 1<<20)
	src := memorySource(nil)
	if _, err := New(h, []Tensor{{Name: "a", Source: src}, {Name: "a", Source: src}}, Options{}); err == nil {
		t.Error("New accepted a duplicate name")
	}
	if _, err := New(h, []Tensor{{Name: "a"}}, Options{}); err == nil {
		t.Error("New accepted a tensor with neither bytes nor an error")
	}
	if _, err := New(h, nil, Options{BudgetFraction: 1.5}); err == nil {
		t.Error("New accepted a budget fraction above 1")
	}
}

func TestBudgetDefaultsToShareOfFreeMemory(t *testing.T) {
	h := newHost(t, 1000*allocAlign)
	c, err := New(h, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got, want := c.Budget(), uint64(900*allocAlign); got != want {
		t.Fatalf("budget = %d; want 0.9 of free = %d", got, want)
	}
	c2, err := New(h, nil, Options{BudgetFraction: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if got, want := c2.Budget(), uint64(500*allocAlign); got != want {
		t.Fatalf("budget = %d; want %d", got, want)
	}
}

func TestCloseFreesEverythingAndRefusesLaterCalls(t *testing.T) {
	m := newTestModel(7, 3000, 70000)
	h := newHost(t, 1<<20)
	c, err := New(h, m.tensors, Options{Budget: 1 << 20, ArenaSize: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := c.LoadAll(ctx, nil, nil); err != nil {
		t.Fatal(err)
	}
	hd, err := c.Get(ctx, m.name(0))
	if err != nil {
		t.Fatal(err)
	}
	if s := c.Stats(); s.DeviceAllocations != 2 || h.Allocated() != s.DeviceBytes {
		t.Fatalf("before Close: %d allocations, %d bytes; host holds %d", s.DeviceAllocations, s.DeviceBytes, h.Allocated())
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if h.Allocated() != 0 {
		t.Fatalf("host holds %d bytes after Close", h.Allocated())
	}
	if _, err := hd.ReadAt(make([]byte, 1), 0); !errors.Is(err, ErrClosed) {
		t.Errorf("Handle.ReadAt after Close = %v; want ErrClosed", err)
	}
	hd.Release()
	if _, err := c.Get(ctx, m.name(0)); !errors.Is(err, ErrClosed) {
		t.Errorf("Get after Close = %v", err)
	}
	if _, err := c.Pin(m.name(0)); !errors.Is(err, ErrClosed) {
		t.Errorf("Pin after Close = %v", err)
	}
	if err := c.Evict(m.name(0)); !errors.Is(err, ErrClosed) {
		t.Errorf("Evict after Close = %v", err)
	}
	if err := c.LoadAll(ctx, nil, nil); !errors.Is(err, ErrClosed) {
		t.Errorf("LoadAll after Close = %v", err)
	}
	if err := c.Close(); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close = %v", err)
	}
}
