package fs

import (
	"sync"
	"sync/atomic"
	"time"

	fusefs "github.com/hanwen/go-fuse/v2/fs"
)

// invalidator drops the kernel's cached pages of evicted tensors.
//
// The notification is a write to /dev/fuse that the kernel handles by
// locking each cached page of the file. A read of that file in flight holds
// such a lock while it waits for this server, so notifying from inside a
// request handler (or with the cache's locks held) can deadlock: each
// notification therefore runs on its own goroutine.
type invalidator struct {
	wg      sync.WaitGroup
	waiting atomic.Int32 // callers in await
	// files returns the inodes of a tensor's entry whose pages the kernel
	// may cache (Root.pageCachedFiles); nil: none.
	files func(entry string) []*fusefs.Inode
	// gate, when set (tests), holds every invalidation until it closes.
	gate chan struct{}
}

// invalidate starts dropping t's cached pages; the channel closes when done.
func (v *invalidator) invalidate(t *tensorEntry) <-chan struct{} {
	done := make(chan struct{})
	v.wg.Add(1)
	go func() {
		defer v.wg.Done()
		defer close(done)
		if v.gate != nil {
			<-v.gate
		}
		if v.files == nil {
			return
		}
		for _, ino := range v.files(t.entry) {
			// Errors need no action: ENOENT means the kernel has
			// forgotten the file and caches nothing; ENOSYS or EBADF
			// that the filesystem is not mounted (yet, or any more).
			ino.NotifyContent(0, 0)
		}
	}()
	return done
}

// await blocks until done closes or limit passes.
func (v *invalidator) await(done <-chan struct{}, limit time.Duration) {
	v.waiting.Add(1)
	defer v.waiting.Add(-1)
	select {
	case <-done:
	case <-time.After(limit):
	}
}

// wait blocks until every started invalidation has finished.
func (v *invalidator) wait() { v.wg.Wait() }
