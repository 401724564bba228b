package hip

import (
	"context"
	"testing"
)

// The staging buffers and streams are made once, before the first upload,
// not inside it.
func TestPrepareMakesThePoolsBeforeTheFirstUpload(t *testing.T) {
	g, f := newFakeGPU(t, withPath(PathStaged))
	g.prepare()
	g.warming.Wait()
	f.mu.Lock()
	made := f.calls["hostAlloc"]
	f.mu.Unlock()
	if made != smallPipeline.StagingBuffers {
		t.Fatalf("prepare pinned %d staging buffers; want %d", made, smallPipeline.StagingBuffers)
	}
	_, copies := uploadCase(t, g, randomBytes(9, 2<<20))
	for range 2 {
		if err := g.Upload(context.Background(), copies); err != nil {
			t.Fatal(err)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if n := f.calls["hostAlloc"]; n != made {
		t.Fatalf("uploads pinned %d more buffers after prepare", n-made)
	}
}

// Close right after Open waits for prepare and frees what it made.
func TestCloseWaitsForPrepare(t *testing.T) {
	g, f := newFakeGPU(t, withPath(PathStaged))
	g.prepare()
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.calls["hostAlloc"] != f.calls["freeHost"] {
		t.Fatalf("%d staging buffers pinned, %d freed", f.calls["hostAlloc"], f.calls["freeHost"])
	}
}
