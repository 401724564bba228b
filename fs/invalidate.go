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
	// gate, when set (tests), holds every invalidation until it closes.
	gate chan struct{}
}

// cachedInodes are the inodes whose pages the kernel may cache for a tensor.
// They are set when the tree is built and read by invalidations, which can
// start from the cache at any time.
type cachedInodes struct {
	data, npy atomic.Pointer[fusefs.Inode]
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
		for _, ino := range []*fusefs.Inode{t.inodes.data.Load(), t.inodes.npy.Load()} {
			if ino != nil {
				// Errors need no action: ENOENT means the kernel never
				// looked the file up and caches nothing; ENOSYS or EBADF
				// that the filesystem is not mounted (yet, or any more).
				ino.NotifyContent(0, 0)
			}
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
