package hip

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// streamBackends are the backends with a streaming upload, on test-sized
// pipelines.
func streamBackends(t *testing.T) map[string]interface {
	Backend
	Streamer
} {
	out := map[string]interface {
		Backend
		Streamer
	}{}
	for _, path := range []string{PathStaged, PathRegister, PathHybrid, PathPlain} {
		g, _ := newFakeGPU(t, withPath(path))
		out["gpu-"+path] = g
	}
	h := NewHost(HostOptions{Capacity: 64 << 20})
	t.Cleanup(func() { _ = h.Close() })
	out["host"] = h
	return out
}

// streamCase is copies of odd sizes (some spanning several chunks) into one
// allocation of b.
func streamCase(t *testing.T, b Backend, src []byte) []Copy {
	t.Helper()
	sizes := []int{1, 4097, 70_001, 5 << 20, 3, 200_003}
	var total int
	for _, n := range sizes {
		total += n
	}
	p, err := b.Malloc(uint64(total))
	if err != nil {
		t.Fatal(err)
	}
	var copies []Copy
	off := 0
	for _, n := range sizes {
		copies = append(copies, Copy{Dst: p + DevicePtr(off), Src: Memory(src[off+7 : off+7+n])})
		off += n
	}
	return copies
}

// landedRecorder records each copy's report and, at that moment, whether
// its bytes are on the device.
type landedRecorder struct {
	mu      sync.Mutex
	reports map[int][]error
	wrong   []int // reported landed while the device held other bytes
}

func (r *landedRecorder) source(b Backend, copies []Copy) func() (Pending, bool) {
	r.reports = map[int][]error{}
	i := 0
	return func() (Pending, bool) {
		if i == len(copies) {
			return Pending{}, false
		}
		k, c := i, copies[i]
		i++
		return Pending{Copy: c, Landed: func(err error) {
			ok := true
			if err == nil {
				got := make([]byte, c.Src.Len())
				ok = b.Download(got, c.Dst) == nil && bytes.Equal(got, c.Src.Bytes())
			}
			r.mu.Lock()
			defer r.mu.Unlock()
			r.reports[k] = append(r.reports[k], err)
			if !ok {
				r.wrong = append(r.wrong, k)
			}
		}}, true
	}
}

func TestUploadStreamReportsEachCopyOnceWithItsBytesThere(t *testing.T) {
	src := randomBytes(5, 6<<20)
	for name, b := range streamBackends(t) {
		t.Run(name, func(t *testing.T) {
			copies := streamCase(t, b, src)
			var r landedRecorder
			if err := b.UploadStream(context.Background(), r.source(b, copies)); err != nil {
				t.Fatal(err)
			}
			for i := range copies {
				if got := r.reports[i]; len(got) != 1 || got[0] != nil {
					t.Errorf("copy %d reported %v, want one nil", i, got)
				}
			}
			if len(r.wrong) > 0 {
				t.Errorf("copies %v reported landed before their bytes were on the device", r.wrong)
			}
		})
	}
}

// A copy is reported as soon as its own bytes land, while the stream goes
// on: here the stream's next copy is only handed out once the first one has
// landed, which deadlocks a pipeline that reports at its end.
func TestUploadStreamReportsACopyBeforeTheStreamEnds(t *testing.T) {
	src := randomBytes(6, 1<<20)
	for name, b := range streamBackends(t) {
		t.Run(name, func(t *testing.T) {
			// Whole staging buffers, so no partly filled one waits for more.
			n := 4 * int(smallPipeline.StagingBytes)
			p, err := b.Malloc(uint64(2 * n))
			if err != nil {
				t.Fatal(err)
			}
			first := make(chan error, 1)
			calls := 0
			next := func() (Pending, bool) {
				calls++
				switch calls {
				case 1:
					return Pending{Copy: Copy{Dst: p, Src: Memory(src[:n])}, Landed: func(err error) { first <- err }}, true
				case 2:
					select {
					case err := <-first:
						if err != nil {
							t.Errorf("first copy: %v", err)
						}
					case <-time.After(10 * time.Second): // a deadlock guard, not a timing
						t.Error("the first copy was not reported while the stream was still open")
						return Pending{}, false
					}
					return Pending{Copy: Copy{Dst: p + DevicePtr(n), Src: Memory(src[n : 2*n])}}, true
				}
				return Pending{}, false
			}
			if err := b.UploadStream(context.Background(), next); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestHostUploadStreamFaultMidStream(t *testing.T) {
	src := randomBytes(7, 6<<20)
	h := NewHost(HostOptions{Capacity: 64 << 20})
	defer h.Close()
	copies := streamCase(t, h, src)
	h.FailUpload(3) // the third copy pulled
	var r landedRecorder
	err := h.UploadStream(context.Background(), r.source(h, copies))
	if !errors.Is(err, ErrInjected) {
		t.Fatalf("UploadStream = %v, want the injected fault", err)
	}
	for i := range copies {
		got := r.reports[i]
		switch {
		case i < 2 && (len(got) != 1 || got[0] != nil):
			t.Errorf("copy %d before the fault reported %v, want one nil", i, got)
		case i == 2 && (len(got) != 1 || !errors.Is(got[0], ErrInjected)):
			t.Errorf("the faulted copy reported %v", got)
		case i > 2 && len(got) != 0:
			t.Errorf("copy %d after the fault was pulled (%v)", i, got)
		}
	}
	if len(r.wrong) > 0 {
		t.Errorf("copies %v reported landed with wrong bytes", r.wrong)
	}
}

func TestUploadStreamCancelReportsTheRest(t *testing.T) {
	src := randomBytes(8, 6<<20)
	for name, b := range streamBackends(t) {
		t.Run(name, func(t *testing.T) {
			copies := streamCase(t, b, src)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var r landedRecorder
			inner := r.source(b, copies)
			pulled := 0
			next := func() (Pending, bool) {
				if pulled == 3 {
					cancel()
				}
				pulled++
				return inner()
			}
			err := b.UploadStream(ctx, next)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("UploadStream = %v, want cancelled", err)
			}
			for i, got := range r.reports {
				if len(got) != 1 {
					t.Errorf("copy %d reported %d times", i, len(got))
				}
				if len(got) == 1 && got[0] != nil && !errors.Is(got[0], context.Canceled) {
					t.Errorf("copy %d: %v", i, got[0])
				}
			}
			if len(r.reports) == 0 || len(r.wrong) > 0 {
				t.Errorf("%d copies reported, wrong bytes in %v", len(r.reports), r.wrong)
			}
		})
	}
}
