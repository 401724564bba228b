package cache

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/ggufs/ggufs/hip"
)

// testModel is a set of tensors with distinct pseudo-random contents.
type testModel struct {
	tensors []Tensor
	data    map[string][]byte
}

func newTestModel(seed uint64, sizes ...uint64) *testModel {
	m := &testModel{data: map[string][]byte{}}
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	for i, n := range sizes {
		name := fmt.Sprintf("blk.%d.weight", i)
		b := make([]byte, n)
		for j := range b {
			b[j] = byte(rng.Uint32())
		}
		m.data[name] = b
		m.tensors = append(m.tensors, Tensor{Name: name, Size: n, Source: memorySource(b)})
	}
	return m
}

func (m *testModel) name(i int) string { return m.tensors[i].Name }

// memorySource is a Tensor.Source of b, which no file backs.
func memorySource(b []byte) func() (hip.Source, error) {
	return func() (hip.Source, error) { return hip.Memory(b), nil }
}

// failingSource is a Tensor.Source that cannot be read.
func failingSource(err error) func() (hip.Source, error) {
	return func() (hip.Source, error) { return hip.Source{}, err }
}

// newHost returns a host backend closed at the end of the test.
func newHost(t testing.TB, capacity uint64) *hip.Host {
	t.Helper()
	h := hip.NewHost(hip.HostOptions{Capacity: capacity})
	t.Cleanup(func() { h.Close() })
	return h
}

func newTestCache(t testing.TB, dev Device, m *testModel, opts Options) *Cache {
	t.Helper()
	c, err := New(dev, m.tensors, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// checkTensor reads the whole tensor through the cache and compares it with
// the source.
func checkTensor(t testing.TB, c *Cache, m *testModel, name string) {
	t.Helper()
	want := m.data[name]
	got := make([]byte, len(want))
	n, err := c.ReadAt(context.Background(), name, got, 0)
	if err != nil || n != len(want) {
		t.Fatalf("ReadAt(%s) = %d, %v; want %d, nil", name, n, err, len(want))
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("ReadAt(%s): bytes differ from the source", name)
	}
}

// gatedDevice holds every Upload until the test opens the gate, so tests can
// look at the cache while an upload is in progress. It counts Upload calls.
type gatedDevice struct {
	*hip.Host
	gate    chan struct{} // closed to let uploads run; nil: no gate
	started chan struct{} // gets a value when an Upload call begins
	calls   atomic.Int64
	once    sync.Once
}

func newGatedDevice(h *hip.Host) *gatedDevice {
	return &gatedDevice{Host: h, gate: make(chan struct{}), started: make(chan struct{}, 1024)}
}

func (d *gatedDevice) open() { d.once.Do(func() { close(d.gate) }) }

func (d *gatedDevice) Upload(ctx context.Context, copies []hip.Copy) error {
	d.calls.Add(1)
	d.started <- struct{}{}
	<-d.gate
	return d.Host.Upload(ctx, copies)
}

// UploadStream is held by the gate like Upload.
func (d *gatedDevice) UploadStream(ctx context.Context, next func() (hip.Pending, bool)) error {
	d.calls.Add(1)
	d.started <- struct{}{}
	<-d.gate
	return d.Host.UploadStream(ctx, next)
}

// countingDevice hands out fake addresses and moves no bytes: it counts
// allocations and uploads of models too big to hold in a test's memory.
type countingDevice struct {
	mu          sync.Mutex
	capacity    uint64
	used        uint64
	next        hip.DevicePtr
	live        map[hip.DevicePtr]uint64
	mallocs     int
	uploadCalls int
	copies      int
	bytes       uint64
}

func newCountingDevice(capacity uint64) *countingDevice {
	return &countingDevice{capacity: capacity, next: 1 << 40, live: map[hip.DevicePtr]uint64{}}
}

func (d *countingDevice) Malloc(size uint64) (hip.DevicePtr, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if size > d.capacity-d.used {
		return 0, hip.ErrOutOfMemory
	}
	p := d.next
	d.next += hip.DevicePtr(size+(1<<20)) &^ (1<<20 - 1)
	d.live[p] = size
	d.used += size
	d.mallocs++
	return p, nil
}

func (d *countingDevice) Free(p hip.DevicePtr) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	n, ok := d.live[p]
	if !ok {
		return hip.ErrInvalidPointer
	}
	delete(d.live, p)
	d.used -= n
	return nil
}

func (d *countingDevice) Upload(ctx context.Context, copies []hip.Copy) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.uploadCalls++
	d.copies += len(copies)
	for _, c := range copies {
		d.bytes += uint64(c.Src.Len())
	}
	return ctx.Err()
}

func (d *countingDevice) Download(dst []byte, src hip.DevicePtr) error { return nil }

func (d *countingDevice) MemInfo() (free, total uint64, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.capacity - d.used, d.capacity, nil
}

func (d *countingDevice) String() string { return "counting" }
