package fs

import (
	"log"
	"time"

	fusefs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// MountOptions are the user's choices for a mount.
type MountOptions struct {
	// AllowOther lets users other than the mounting one read the tree.
	AllowOther bool
	// Debug logs every FUSE request.
	Debug bool
	// Logger receives go-fuse's diagnostics (nil: log.Default()).
	Logger *log.Logger
}

// treeTimeout is how long the kernel may cache entries and attributes: the
// tree never changes while mounted (live files set their own short timeout).
const treeTimeout = time.Hour

// maxRead is the largest read the kernel sends (1 MiB, the kernel's maximum
// of 256 pages): fewer round trips for sequential reads of big tensors.
const maxRead = 1 << 20

// FuseOptions are the go-fuse options of a ggufs mount. Benchmarks mount
// their baseline servers with the same options.
//
// The mount is not "ro": the kernel would then refuse setxattr, which carries
// the load and evict commands, so the tree refuses every change itself
// (EROFS). Without default_permissions the kernel forwards setxattr on 0444
// files to the server, which allows control commands from the mounting user
// (and root) only; without allow_other no other user gets in at all.
func FuseOptions(o MountOptions) *fusefs.Options {
	timeout := treeTimeout
	return &fusefs.Options{
		MountOptions: fuse.MountOptions{
			FsName:     "ggufs",
			Name:       "ggufs",
			AllowOther: o.AllowOther,
			Debug:      o.Debug,
			Logger:     o.Logger,
			MaxWrite:   maxRead,
			// Reads through the page cache arrive in readahead-sized
			// requests (128 KiB by default): each costs a device download,
			// so ask for the largest.
			MaxReadAhead:         maxRead,
			IgnoreSecurityLabels: true,
			// Replies carry bytes from memory (ReadResultData), never from a
			// file descriptor: splicing would only cost a wasted pipe setup
			// per read (and fails outright for 1 MiB reads, larger than
			// the default pipe-max-size).
			DisableSplice: true,
			// As root, mount(2) directly (no fusermount3 needed); otherwise
			// go-fuse falls back to fusermount3.
			DirectMount: true,
			// With readdirplus go-fuse looks up every listed entry: `ls
			// tensors` would make a node per tensor (lazytree.go).
			DisableReadDirPlus: true,
		},
		// Tools that walk trees (find, du) take inode 0 for "no inode".
		RootStableAttr:  &fusefs.StableAttr{Ino: 1},
		EntryTimeout:    &timeout,
		AttrTimeout:     &timeout,
		NegativeTimeout: &timeout,
		Logger:          o.Logger,
	}
}

// Mount mounts root on dir and returns once the kernel serves it. The caller
// ends the mount with Unmount on the returned server.
func Mount(dir string, root *Root, o MountOptions) (*fuse.Server, error) {
	server, err := fusefs.Mount(dir, root, FuseOptions(o))
	if err != nil {
		return nil, err
	}
	return server, nil
}

// Wait stops a load of every tensor still running, then blocks until every
// kernel cache invalidation and background read-ahead the tree started has
// finished; call it after unmounting, before closing
// the cache.
func (r *Root) Wait() {
	r.loadAll.stop()
	r.inval.wait()
	r.readAhead.Wait()
}
