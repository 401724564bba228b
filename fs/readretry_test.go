package fs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ggufs/ggufs/cache"
	"github.com/ggufs/ggufs/gguf"
	"github.com/ggufs/ggufs/hip"
	"github.com/ggufs/ggufs/synth"
)

func TestRetryNoSpace(t *testing.T) {
	noMem := fmt.Errorf("alloc: %w", cache.ErrNoSpace)
	other := errors.New("some other failure")
	for _, c := range []struct {
		name      string
		failures  int   // reads that fail before one succeeds
		fail      error // what they fail with
		hopeless  bool
		wantErr   error
		wantReads int
		wantWait  time.Duration
	}{
		{"succeeds at once", 0, nil, false, nil, 1, 0},
		{"memory frees after 3 waits", 3, noMem, false, nil, 4, 7 * time.Millisecond},
		{"device OOM too", 2, fmt.Errorf("%w: %w", cache.ErrNoSpace, hip.ErrOutOfMemory), false, nil, 3, 3 * time.Millisecond},
		{"never frees: bounded", 1000, noMem, false, cache.ErrNoSpace, noSpaceRetries + 1, 511 * time.Millisecond},
		{"larger than the budget: at once", 1000, noMem, true, cache.ErrNoSpace, 1, 0},
		{"other errors: at once", 1000, other, false, other, 1, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			reads := 0
			var waited time.Duration
			err := retryNoSpace(func() error {
				reads++
				if reads <= c.failures {
					return c.fail
				}
				return nil
			}, c.hopeless, func(d time.Duration) { waited += d })
			if !errors.Is(err, c.wantErr) || (c.wantErr == nil && err != nil) {
				t.Errorf("err %v, want %v", err, c.wantErr)
			}
			if reads != c.wantReads || waited != c.wantWait {
				t.Errorf("%d reads after waiting %v, want %d after %v", reads, waited, c.wantReads, c.wantWait)
			}
		})
	}
}

// A read whose upload finds no device memory for a moment (another reader
// holds the rest of the budget, and lets go while this one waits) waits and
// returns every byte it asked for, through O_DIRECT and through the page
// cache: neither ENOMEM nor a short count.
func TestReadWaitsOutATransientENOMEM(t *testing.T) {
	const opts = "tiny"
	model, err := synthModel(t, synth.Options{Preset: opts, DType: "f32", Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	// b, the largest tensor, and a, the next, do not fit together.
	var a, b *gguf.TensorInfo
	for _, c := range model.Tensors {
		switch {
		case b == nil || c.Size > b.Size:
			a, b = b, c
		case a == nil || c.Size > a.Size:
			a = c
		}
	}
	budget := (b.Size + a.Size/2 + 4095) &^ 4095
	if a.Size < 16<<10 || budget >= a.Size+b.Size {
		t.Fatalf("tensors of %d and %d bytes: too small for this test", a.Size, b.Size)
	}
	// The read waits on the FUSE server's goroutine: mu guards holder and
	// waits against the test's.
	var mu sync.Mutex
	var holder *cache.Handle
	waits := 0
	f := testMountTuned(t, synth.Options{Preset: opts, DType: "f32", Seed: 9}, budget, func(r *Root) {
		r.memoryWait = func(time.Duration) {
			mu.Lock()
			defer mu.Unlock()
			waits++
			if holder != nil {
				holder.Release() // the other reader moves on
				holder = nil
			}
		}
	})
	hold := func() {
		t.Helper()
		h, err := f.cache.Get(context.Background(), a.Name)
		if err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		holder, waits = h, 0
		mu.Unlock()
	}
	waited := func() int {
		mu.Lock()
		defer mu.Unlock()
		return waits
	}
	want := f.tensorBytes(b)
	buf, err := syscall.Mmap(-1, 0, 1<<20, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANONYMOUS)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Munmap(buf)
	n := min(len(buf), len(want)) &^ 4095

	hold()
	fd, err := syscall.Open(f.tensorPath(b.Name, "data"), syscall.O_RDONLY|syscall.O_DIRECT, 0)
	if err != nil {
		t.Fatal(err)
	}
	got, err := syscall.Pread(fd, buf[:n], 0)
	syscall.Close(fd)
	if err != nil || got != n || !bytes.Equal(buf[:n], want[:n]) {
		t.Fatalf("O_DIRECT read of %d bytes while memory was short: %d, %v (or wrong bytes)", n, got, err)
	}
	if waited() == 0 {
		t.Fatal("the read never waited for memory: the test did not make it short")
	}

	// The kernel releases the closed file a moment later: until then b
	// is pinned.
	for i := 0; ; i++ {
		err := f.cache.Evict(b.Name)
		if err == nil {
			break
		}
		if !errors.Is(err, cache.ErrPinned) || i == 5000 {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond)
	}
	f.root.inval.wait()
	hold()
	if whole := readText(t, f.tensorPath(b.Name, "data")); whole != string(want) || waited() == 0 {
		t.Fatalf("read through the page cache while memory was short: %d bytes after %d waits, want the tensor's %d", len(whole), waited(), len(want))
	}
}

// synthModel generates a model to look at before mounting it.
func synthModel(t *testing.T, opts synth.Options) (*gguf.Model, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "model.gguf")
	if _, err := synth.GenerateFile(path, opts); err != nil {
		return nil, err
	}
	m, err := gguf.OpenModel(path)
	if err == nil {
		t.Cleanup(func() { m.Close() })
	}
	return m, err
}
