package hip

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Downloads larger than a staging buffer, more of them at once than there are
// buffers, each holding one: none may wait for a second.
func TestConcurrentDownloadsShareStagingWithoutDeadlock(t *testing.T) {
	g, f := newFakeGPU(t, withPath(PathStaged)) // 3 staging buffers of 16 KiB
	src := randomBytes(9, 100_000)
	p, _ := g.Malloc(uint64(len(src)))
	if err := g.Upload(context.Background(), []Copy{{Dst: p, Src: Memory(src)}}); err != nil {
		t.Fatal(err)
	}
	var n atomic.Int64
	var barrier sync.WaitGroup
	barrier.Add(3)
	f.onMemcpyAsync = func() {
		if n.Add(1) <= 3 { // each download's first piece: wait until all three hold a slot
			barrier.Done()
			barrier.Wait()
		}
	}
	done := make(chan error, 3)
	for i := 0; i < 3; i++ {
		go func() { done <- g.Download(make([]byte, len(src)), p) }()
	}
	for i := 0; i < 3; i++ {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(3 * time.Second):
			t.Fatalf("downloads deadlocked: %d of 3 staging slots free", len(g.pools.staging))
		}
	}
}
