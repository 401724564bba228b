package cache

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ggufs/ggufs/hip"
)

// heldStream lets a streamed load's first copy through, then holds the
// stream before it pulls the third (the second may already be pulled ahead)
// until the test releases it, so tests look at the cache in the middle of a
// whole load. Plain Uploads (a Get's) are never held.
type heldStream struct {
	*hip.Host
	hold    chan struct{} // closed by release
	reached chan struct{} // closed when the stream waits at the hold
	once    sync.Once
	streams atomic.Int64 // only the first stream is held
}

func newHeldStream(h *hip.Host) *heldStream {
	return &heldStream{Host: h, hold: make(chan struct{}), reached: make(chan struct{})}
}

func (d *heldStream) release() { d.once.Do(func() { close(d.hold) }) }

func (d *heldStream) UploadStream(ctx context.Context, next func() (hip.Pending, bool)) error {
	if d.streams.Add(1) > 1 {
		return d.Host.UploadStream(ctx, next)
	}
	pulled := 0
	return d.Host.UploadStream(ctx, func() (hip.Pending, bool) {
		pulled++
		if pulled == 3 {
			close(d.reached)
			<-d.hold
		}
		return next()
	})
}

// guard bounds a wait that must not deadlock; it is not a timing.
const guard = 20 * time.Second

func waitFor(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(guard):
		t.Fatalf("never: %s", what)
	}
}

// A tensor is resident as soon as its own bytes land, and a read of a
// tensor the load has not reached is served while the load is still
// running, not after it.
func TestLoadMakesEachTensorResidentAndServesDemandFirst(t *testing.T) {
	m := newTestModel(40, 5000, 6000, 7000, 8000, 9000)
	dev := newHeldStream(newHost(t, 1<<20))
	c := newTestCache(t, dev, m, Options{Budget: 1 << 20})
	t.Cleanup(dev.release) // runs before the cache's Close, which waits for a held load
	firstLanded := make(chan struct{})
	var once sync.Once
	var last uint64
	loaded := make(chan error, 1)
	go func() {
		_, err := c.Load(context.Background(), nil, LoadOptions{Report: true, Progress: func(done, total uint64) {
			if done < last || done > total || total != 35000 {
				t.Errorf("progress %d of %d after %d", done, total, last)
			}
			last = done
			// The two tensors pulled before the hold, in either order.
			if done == 5000+6000 {
				once.Do(func() { close(firstLanded) })
			}
		}})
		loaded <- err
	}()
	waitFor(t, dev.reached, "the load reached its hold")
	waitFor(t, firstLanded, "the first tensor landed while the load runs")
	if !c.IsResident(m.name(0)) || c.IsResident(m.name(4)) {
		t.Fatalf("mid-load: first %v, last %v", c.Status(m.name(0)), c.Status(m.name(4)))
	}
	s := c.Stats().LoadAll
	if s == nil || !s.Running || s.BytesDone < 5000 || s.BytesDone == s.BytesTotal || s.BytesTotal != 35000 || s.Result != nil {
		t.Fatalf("load_all mid-load: %+v", s)
	}

	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	checkTensorCtx(t, ctx, c, m, m.name(4)) // demand, while the load is held
	select {
	case err := <-loaded:
		t.Fatalf("the load ended (%v) before it was released", err)
	default:
	}

	dev.release()
	if err := <-loaded; err != nil {
		t.Fatal(err)
	}
	if last != 35000 {
		t.Fatalf("progress ended at %d of 35000", last)
	}
	for i := range 5 {
		checkTensor(t, c, m, m.name(i))
	}
	s = c.Stats().LoadAll
	if s.Running || s.BytesDone != s.BytesTotal || s.Result == nil || s.Result.Resident != 5 || s.Result.Error != "" {
		t.Fatalf("load_all at the end: %+v %+v", s, s.Result)
	}
	if st := c.Stats(); st.Uploads != 5 {
		t.Fatalf("%d uploads for 5 tensors: the demanded one went twice", st.Uploads)
	}
}

func checkTensorCtx(t *testing.T, ctx context.Context, c *Cache, m *testModel, name string) {
	t.Helper()
	want := m.data[name]
	got := make([]byte, len(want))
	if n, err := c.ReadAt(ctx, name, got, 0); err != nil || n != len(want) || string(got) != string(want) {
		t.Fatalf("ReadAt(%s) during the load = %d, %v (bytes equal: %v)", name, n, err, string(got) == string(want))
	}
}

// Cancelling a load keeps what landed and leaves the rest cleanly unloaded.
func TestLoadCancelledMidwayKeepsWhatLanded(t *testing.T) {
	m := newTestModel(41, 5000, 6000, 7000, 8000)
	dev := newHeldStream(newHost(t, 1<<20))
	c := newTestCache(t, dev, m, Options{Budget: 1 << 20})
	t.Cleanup(dev.release) // runs before the cache's Close, which waits for a held load
	ctx, cancel := context.WithCancel(context.Background())
	type outcome struct {
		res LoadResult
		err error
	}
	done := make(chan outcome, 1)
	landed := make(chan struct{})
	var once sync.Once
	go func() {
		res, err := c.Load(ctx, nil, LoadOptions{Report: true, Progress: func(d, _ uint64) {
			if d > 0 {
				once.Do(func() { close(landed) })
			}
		}})
		done <- outcome{res, err}
	}()
	waitFor(t, dev.reached, "the load reached its hold")
	waitFor(t, landed, "the first tensor landed")
	cancel()
	dev.release()
	o := <-done
	if !errors.Is(o.err, context.Canceled) {
		t.Fatalf("Load = %v; want cancelled", o.err)
	}
	// The host backend copies on several workers, so the tensor that landed
	// first need not be the first in file order: count what is resident.
	resident := 0
	for i := range 4 {
		switch st := c.Status(m.name(i)).State; st {
		case Resident:
			resident++
		case Unloaded:
		default:
			t.Fatalf("tensor %d after the cancel: %v", i, st)
		}
	}
	if resident == 0 || resident != o.res.Resident {
		t.Fatalf("%d tensors resident after the cancel, result says %d; want the one that landed before it kept", resident, o.res.Resident)
	}
	if o.res.Resident+len(o.res.NotLoaded) != 4 || len(o.res.NotLoaded) == 0 || o.res.Stopped != "cancelled" {
		t.Fatalf("result = %+v", o.res)
	}
	if s := c.Stats(); s.Failures != 0 || s.LoadAll.Running || s.LoadAll.Result.Error == "" {
		t.Fatalf("stats after the cancel: %+v %+v", s, s.LoadAll)
	}
	if err := c.LoadAll(context.Background(), nil, nil); err != nil {
		t.Fatal(err)
	}
}

// While a load runs, nobody evicts what it asked for: a Get that needs the
// room fails instead of evicting the load's tensors.
func TestLoadProtectsItsTensorsFromEviction(t *testing.T) {
	m := newTestModel(42, 4*allocAlign, 4*allocAlign, 4*allocAlign)
	dev := newHeldStream(newHost(t, 1<<20))
	budget := uint64(2 * 4 * allocAlign)
	c := newTestCache(t, dev, m, Options{Budget: budget, ArenaSize: 4 * allocAlign})
	t.Cleanup(dev.release) // runs before the cache's Close, which waits for a held load
	landed := make(chan struct{})
	var once sync.Once
	loaded := make(chan error, 1)
	go func() {
		loaded <- c.LoadAll(context.Background(), []string{m.name(0), m.name(1)}, func(done, _ uint64) {
			if done > 0 {
				once.Do(func() { close(landed) })
			}
		})
	}()
	waitFor(t, dev.reached, "the load reached its hold")
	waitFor(t, landed, "the first tensor landed")
	if _, err := c.Get(context.Background(), m.name(2)); !errors.Is(err, ErrNoSpace) {
		t.Fatalf("Get needing a loading tensor's room = %v; want ErrNoSpace", err)
	}
	if !c.IsResident(m.name(0)) {
		t.Fatalf("the load's first tensor was evicted: %v", c.Status(m.name(0)))
	}
	dev.release()
	if err := <-loaded; err != nil {
		t.Fatal(err)
	}
	// After the load, its tensors are ordinary LRU citizens again.
	checkTensor(t, c, m, m.name(2))
	if s := c.Stats(); s.Evictions != 1 {
		t.Fatalf("evictions after the load = %d; want 1", s.Evictions)
	}
}
