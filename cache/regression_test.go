package cache

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ggufs/ggufs/hip"
)

// blockingDevice holds every Upload until its ctx ends while block is set,
// so a test can cancel a load in the middle of its upload.
type blockingDevice struct {
	*hip.Host
	block   atomic.Bool
	started chan struct{}
}

func (d *blockingDevice) Upload(ctx context.Context, copies []hip.Copy) error {
	if d.block.Load() {
		d.started <- struct{}{}
		<-ctx.Done()
		return ctx.Err()
	}
	return d.Host.Upload(ctx, copies)
}

// UploadStream blocks like Upload, with every copy taken from the stream.
func (d *blockingDevice) UploadStream(ctx context.Context, next func() (hip.Pending, bool)) error {
	if !d.block.Load() {
		return d.Host.UploadStream(ctx, next)
	}
	var pulled []hip.Pending
	for p, ok := next(); ok; p, ok = next() {
		pulled = append(pulled, p)
	}
	if len(pulled) == 0 {
		return nil
	}
	d.started <- struct{}{}
	<-ctx.Done()
	for _, p := range pulled {
		p.Landed(ctx.Err())
	}
	return ctx.Err()
}

// A Get waiting on a LoadAll that retries a failed tensor, when that LoadAll
// is cancelled, goes on by itself (it once spun forever with no error) and
// the tensor never reads as an error without a reason.
func TestGetAfterCancelledRetryOfFailedTensor(t *testing.T) {
	m := newTestModel(1, 4096)
	var calls atomic.Int64
	source := m.tensors[0].Source
	m.tensors[0].Source = func() (hip.Source, error) {
		if calls.Add(1) == 1 {
			return hip.Source{}, errors.New("transient source error")
		}
		return source()
	}
	d := &blockingDevice{Host: newHost(t, 1<<20), started: make(chan struct{}, 4)}
	c := newTestCache(t, d, m, Options{Budget: 1 << 20})
	if _, err := c.Get(context.Background(), m.name(0)); err == nil {
		t.Fatal("the first Get should fail on the source error")
	}
	d.block.Store(true)
	ctx, cancel := context.WithCancel(context.Background())
	loaded := make(chan error, 1)
	go func() { loaded <- c.LoadAll(ctx, []string{m.name(0)}, nil) }()
	<-d.started
	got := make(chan error, 1)
	go func() {
		gctx, gcancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer gcancel()
		h, err := c.Get(gctx, m.name(0))
		if h != nil {
			h.Release()
		}
		got <- err
	}()
	time.Sleep(50 * time.Millisecond) // let the Get wait on the LoadAll's upload
	cancel()
	<-loaded
	if st := c.Status(m.name(0)); st.State == Failed && st.Err == nil {
		t.Errorf("status after the cancelled retry: %v, an error without a reason", st)
	}
	select {
	case <-got:
	case <-time.After(30 * time.Second):
		t.Fatal("Get never returned after the LoadAll it waited on was cancelled (its own ctx ended at 2 s)")
	}
}

// A LoadAll that relies on another LoadAll's upload, which is cancelled,
// loads the tensors itself instead of reporting success for them.
func TestLoadAllLoadsWhatACancelledLoadAllLeft(t *testing.T) {
	m := newTestModel(2, 4096, 8192)
	d := &blockingDevice{Host: newHost(t, 1<<20), started: make(chan struct{}, 4)}
	c := newTestCache(t, d, m, Options{Budget: 1 << 20})
	d.block.Store(true)
	ctxA, cancelA := context.WithCancel(context.Background())
	a := make(chan error, 1)
	go func() { a <- c.LoadAll(ctxA, nil, nil) }()
	<-d.started
	b := make(chan error, 1)
	go func() { b <- c.LoadAll(context.Background(), nil, nil) }()
	time.Sleep(50 * time.Millisecond) // let B find the tensors loading through A
	d.block.Store(false)
	cancelA()
	<-a
	if err := <-b; err != nil {
		t.Fatalf("LoadAll B: %v", err)
	}
	for i := range m.tensors {
		if st := c.Status(m.name(i)); st.State != Resident {
			t.Errorf("%s after LoadAll B returned nil: %v", m.name(i), st)
		}
	}
}

// With less free device memory than an arena (another process took some
// since New), a tensor that fits still loads: the cache asks for its size.
func TestDeviceOOMFallsBackToTensorSizedAllocation(t *testing.T) {
	m := &testModel{data: map[string][]byte{}}
	for i := range 100 {
		m.tensors = append(m.tensors, Tensor{Name: fmt.Sprintf("t%d", i), Size: 1 << 20,
			Source: memorySource(make([]byte, 1<<20))})
	}
	d := newCountingDevice(16 << 20)
	c, err := New(d, m.tensors, Options{Budget: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	h, err := c.Get(context.Background(), m.tensors[0].Name)
	if err != nil {
		t.Fatalf("Get of a 1 MiB tensor with 16 MiB free on the device: %v", err)
	}
	h.Release()
}
