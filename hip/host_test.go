package hip

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
)

func newTestHost(t *testing.T, capacity uint64) *Host {
	t.Helper()
	h := NewHost(HostOptions{Capacity: capacity})
	t.Cleanup(func() { _ = h.Close() })
	return h
}

func randomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func TestHostRoundTripAndSubRange(t *testing.T) {
	h := newTestHost(t, 1<<20)
	src := randomBytes(1, 10_001)
	p, err := h.Malloc(uint64(len(src)))
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Upload(context.Background(), []Copy{{Dst: p, Src: Memory(src)}}); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(src))
	if err := h.Download(got, p); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, src) {
		t.Fatal("download differs from upload")
	}
	part := make([]byte, 333)
	if err := h.Download(part, p+4097); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(part, src[4097:4097+333]) {
		t.Fatal("sub-range download differs")
	}
	// An upload into the middle of an allocation lands there.
	if err := h.Upload(context.Background(), []Copy{{Dst: p + 10, Src: Memory([]byte{1, 2, 3})}}); err != nil {
		t.Fatal(err)
	}
	if err := h.Download(part[:3], p+10); err != nil || !bytes.Equal(part[:3], []byte{1, 2, 3}) {
		t.Fatalf("offset upload: %v %v", part[:3], err)
	}
}

func TestHostCapacityEnforced(t *testing.T) {
	h := newTestHost(t, 8192)
	a, err := h.Malloc(5000)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Malloc(5000); !errors.Is(err, ErrOutOfMemory) {
		t.Fatalf("malloc beyond capacity: got %v, want ErrOutOfMemory", err)
	}
	if got := h.Allocated(); got != 5000 {
		t.Fatalf("Allocated = %d, want 5000", got)
	}
	free, total, err := h.MemInfo()
	if err != nil || free != 3192 || total != 8192 {
		t.Fatalf("MemInfo = %d, %d, %v", free, total, err)
	}
	if err := h.Free(a); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Malloc(8192); err != nil {
		t.Fatalf("malloc of the whole capacity after free: %v", err)
	}
}

func TestHostRejectsBadPointersAndSizes(t *testing.T) {
	h := newTestHost(t, 1<<20)
	p, err := h.Malloc(100)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Malloc(0); !errors.Is(err, ErrInvalidValue) {
		t.Errorf("malloc(0): %v, want ErrInvalidValue", err)
	}
	if err := h.Free(p + 1); !errors.Is(err, ErrInvalidPointer) {
		t.Errorf("free of interior pointer: %v", err)
	}
	if err := h.Free(0x1234); !errors.Is(err, ErrInvalidPointer) {
		t.Errorf("free of unknown pointer: %v", err)
	}
	if err := h.Download(make([]byte, 101), p); !errors.Is(err, ErrInvalidPointer) {
		t.Errorf("download past the end: %v", err)
	}
	if err := h.Download(make([]byte, 1), p-1); !errors.Is(err, ErrInvalidPointer) {
		t.Errorf("download before the start: %v", err)
	}
	err = h.Upload(context.Background(), []Copy{{Dst: p, Src: Memory(make([]byte, 50))}, {Dst: p + 60, Src: Memory(make([]byte, 41))}})
	if !errors.Is(err, ErrInvalidPointer) {
		t.Errorf("upload past the end: %v", err)
	}
	if s := h.Stats(); s.Uploads != 0 {
		t.Errorf("a rejected upload copied %d entries", s.Uploads)
	}
	if err := h.Free(p); err != nil {
		t.Fatal(err)
	}
	if err := h.Free(p); !errors.Is(err, ErrInvalidPointer) {
		t.Errorf("double free: %v", err)
	}
	if err := h.Download(make([]byte, 1), p); !errors.Is(err, ErrInvalidPointer) {
		t.Errorf("download after free: %v", err)
	}
}

func TestHostFailAllocInjectsNth(t *testing.T) {
	h := newTestHost(t, 1<<20)
	h.FailAlloc(2)
	if _, err := h.Malloc(10); err != nil {
		t.Fatalf("first malloc: %v", err)
	}
	_, err := h.Malloc(10)
	if !errors.Is(err, ErrInjected) || !errors.Is(err, ErrOutOfMemory) {
		t.Fatalf("second malloc: %v, want ErrInjected and ErrOutOfMemory", err)
	}
	if _, err := h.Malloc(10); err != nil {
		t.Fatalf("third malloc: %v", err)
	}
	if s := h.Stats(); s.LiveAllocations != 2 || s.TotalAllocations != 2 || s.AllocatedBytes != 20 {
		t.Fatalf("stats after injected failure: %+v", s)
	}
}

func TestHostFailUploadInjectsNth(t *testing.T) {
	h := newTestHost(t, 1<<20)
	p, err := h.Malloc(4)
	if err != nil {
		t.Fatal(err)
	}
	h.FailUpload(1)
	err = h.Upload(context.Background(), []Copy{{Dst: p, Src: Memory([]byte{9, 9, 9, 9})}})
	if !errors.Is(err, ErrInjected) {
		t.Fatalf("upload: %v, want ErrInjected", err)
	}
	got := make([]byte, 4)
	if err := h.Download(got, p); err != nil || !bytes.Equal(got, make([]byte, 4)) {
		t.Fatalf("failed upload changed device memory: %v %v", got, err)
	}
	if err := h.Upload(context.Background(), []Copy{{Dst: p, Src: Memory([]byte{9, 9, 9, 9})}}); err != nil {
		t.Fatalf("next upload: %v", err)
	}
	h.FailUpload(3)
	h.FailUpload(0) // cancelled
	for i := 0; i < 4; i++ {
		if err := h.Upload(context.Background(), nil); err != nil {
			t.Fatalf("upload after cancelled injection: %v", err)
		}
	}
}

func TestHostStatsCountEverything(t *testing.T) {
	h := newTestHost(t, 1<<20)
	p, _ := h.Malloc(300)
	q, _ := h.Malloc(200)
	if err := h.Upload(context.Background(), []Copy{{Dst: p, Src: Memory(make([]byte, 300))}, {Dst: q, Src: Memory(make([]byte, 7))}}); err != nil {
		t.Fatal(err)
	}
	if err := h.Download(make([]byte, 10), q); err != nil {
		t.Fatal(err)
	}
	if err := h.Free(p); err != nil {
		t.Fatal(err)
	}
	s := h.Stats()
	want := Stats{LiveAllocations: 1, AllocatedBytes: 200, TotalAllocations: 2, Uploads: 2, UploadedBytes: 307,
		Downloads: 1, DownloadedBytes: 10}
	if s.LiveAllocations != want.LiveAllocations || s.AllocatedBytes != want.AllocatedBytes ||
		s.TotalAllocations != want.TotalAllocations || s.Uploads != want.Uploads ||
		s.UploadedBytes != want.UploadedBytes || s.Downloads != want.Downloads ||
		s.DownloadedBytes != want.DownloadedBytes || s.PathBytes["host"] != 307 {
		t.Fatalf("stats = %+v, want %+v and host path 307", s, want)
	}
}

func TestHostUploadHonoursCancel(t *testing.T) {
	h := newTestHost(t, 1<<20)
	p, _ := h.Malloc(8)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := h.Upload(ctx, []Copy{{Dst: p, Src: Memory(make([]byte, 8))}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("upload with cancelled context: %v", err)
	}
}

func TestHostCloseFreesAll(t *testing.T) {
	h := NewHost(HostOptions{Capacity: 1 << 20})
	p, _ := h.Malloc(100)
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if h.Allocated() != 0 || h.Stats().LiveAllocations != 0 {
		t.Fatalf("after Close: %d bytes, stats %+v", h.Allocated(), h.Stats())
	}
	if _, err := h.Malloc(1); !errors.Is(err, ErrClosed) {
		t.Errorf("malloc after close: %v", err)
	}
	if err := h.Download(make([]byte, 1), p); !errors.Is(err, ErrClosed) {
		t.Errorf("download after close: %v", err)
	}
}

// A file truncated under its mapping raises SIGBUS on access: the upload must
// return ErrSourceFault, and the process must live on.
func TestHostUploadFromTruncatedMappingFaults(t *testing.T) {
	h := newTestHost(t, 1<<20)
	src, shrink := mappedFile(t, 4*pageSize)
	shrink()
	p, _ := h.Malloc(uint64(len(src)))
	err := h.Upload(context.Background(), []Copy{{Dst: p, Src: Memory(src)}})
	if !errors.Is(err, ErrSourceFault) {
		t.Fatalf("upload from truncated mapping: %v, want ErrSourceFault", err)
	}
}

// mappedFile maps a file of n random bytes and returns a func truncating it to 0.
func mappedFile(t *testing.T, n int) ([]byte, func()) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "src")
	if err := os.WriteFile(path, randomBytes(7, n), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	mem, err := syscall.Mmap(int(f.Fd()), 0, n, syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Munmap(mem) })
	return mem, func() {
		if err := os.Truncate(path, 0); err != nil {
			t.Fatal(err)
		}
	}
}

func TestHostConcurrentUse(t *testing.T) {
	h := newTestHost(t, 64<<20)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				src := randomBytes(uint64(g*1000+i), 1+i*37)
				p, err := h.Malloc(uint64(len(src)))
				if err != nil {
					errs <- err
					return
				}
				if err := h.Upload(context.Background(), []Copy{{Dst: p, Src: Memory(src)}}); err != nil {
					errs <- err
					return
				}
				got := make([]byte, len(src))
				if err := h.Download(got, p); err != nil || !bytes.Equal(got, src) {
					errs <- errors.Join(err, errors.New("round trip differs"))
					return
				}
				_, _, _ = h.MemInfo()
				_ = h.Stats()
				if err := h.Free(p); err != nil {
					errs <- err
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if h.Allocated() != 0 {
		t.Fatalf("%d bytes left allocated", h.Allocated())
	}
}
