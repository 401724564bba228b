package progress

import (
	"io"
	"sync"
	"testing"
)

func TestUploadProgressAddsConcurrently(t *testing.T) {
	p := New(io.Discard, "t", 16000)
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 1000 {
				p.Add(1)
			}
		}()
	}
	wg.Wait()
	if got := p.Done(); got != 16000 {
		t.Errorf("16 goroutines adding 1000 each: %d, want 16000", got)
	}
}

func TestUploadProgressNeverGoesBackwards(t *testing.T) {
	p := New(io.Discard, "t", 0)
	p.Progress(500, 1000)
	p.Progress(200, 1000)
	p.Update(100)
	if got := p.Done(); got != 500 {
		t.Errorf("after 500 then 200 and 100: %d, want 500", got)
	}
	p.Finish(nil)
	p.Add(10)
	if got := p.Done(); got != 500 {
		t.Errorf("after Finish: %d, want 500", got)
	}
}
