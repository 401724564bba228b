package fs

import (
	"context"
	"sync"
	"syscall"

	fusefs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// dataFile is tensors/<name>/data (or data.npy, which prefixes a numpy
// header). Opening pins the tensor; reading makes it resident and serves the
// bytes from the device copy, downloaded ahead of a sequential reader
// (window.go). The kernel keeps the pages it has read
// (FOPEN_KEEP_CACHE) until the cache evicts the tensor and the tree
// invalidates them.
type dataFile struct {
	fusefs.Inode
	fileOps
	tensorXattrs
	header []byte // served before the tensor's bytes; nil for data
}

var (
	_ = (fusefs.NodeOpener)((*dataFile)(nil))
	_ = (fusefs.NodeReader)((*dataFile)(nil))
	_ = (fusefs.NodeGetattrer)((*dataFile)(nil))
	_ = (fusefs.NodeGetxattrer)((*dataFile)(nil))
	_ = (fusefs.NodeListxattrer)((*dataFile)(nil))
	_ = (fusefs.NodeSetxattrer)((*dataFile)(nil))
	_ = (fusefs.NodeRemovexattrer)((*dataFile)(nil))
)

func (f *dataFile) size() uint64 { return uint64(len(f.header)) + f.tensor.info.Size }

func (f *dataFile) Getattr(ctx context.Context, fh fusefs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	f.root.fileAttr(&out.Attr, f.size(), fileMode)
	return 0
}

// openData is an open data file: its hold on the tensor and its
// download-ahead window.
type openData struct {
	once   sync.Once
	unpin  func()
	window *readWindow
}

var _ = (fusefs.FileReleaser)((*openData)(nil))

func (o *openData) Release(ctx context.Context) syscall.Errno {
	o.once.Do(func() {
		o.unpin()
		o.window.close()
	})
	return 0
}

func (f *dataFile) Open(ctx context.Context, flags uint32) (fusefs.FileHandle, uint32, syscall.Errno) {
	if flags&writeFlags != 0 {
		return nil, 0, syscall.EROFS
	}
	name := f.tensor.info.Name
	unpin, err := f.root.cfg.Cache.Pin(name)
	if err != nil {
		return nil, 0, toErrno(f.root.log, "open", name, err)
	}
	o := &openData{unpin: unpin}
	o.window = newReadWindow(int64(f.tensor.info.Size), f.root.windows.size, f.root.windows,
		f.fetch, func() bool { return f.root.cfg.Cache.IsResident(name) }, &f.root.readAhead)
	return o, fuse.FOPEN_KEEP_CACHE, 0
}

// fetch downloads the tensor's bytes [off, off+len(p)) from its device copy,
// uploading it first if needed (waiting a bounded time for device memory:
// readretry.go); the range lies within the tensor.
func (f *dataFile) fetch(p []byte, off int64) error {
	// No request's context: the upload is shared by every reader of the
	// tensor, and an interrupted reader (Go programs are interrupted by
	// SIGURG all the time) must not cancel it for the others.
	c := f.root.cfg.Cache
	name := f.tensor.info.Name
	return retryNoSpace(func() error {
		_, err := c.ReadAt(context.Background(), name, p, off)
		return err
	}, f.tensor.info.Size > c.Budget(), f.root.memoryWait)
}

func (f *dataFile) Read(ctx context.Context, fh fusefs.FileHandle, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	size := f.size()
	if off < 0 || uint64(off) >= size {
		return fuse.ReadResultData(nil), 0
	}
	dest = dest[:min(uint64(len(dest)), size-uint64(off))]
	n := 0
	if off < int64(len(f.header)) {
		n = copy(dest, f.header[off:])
	}
	if n < len(dest) {
		name := f.tensor.info.Name
		tensorOff := off + int64(n) - int64(len(f.header))
		o, ok := fh.(*openData)
		if ok && n == 0 {
			// Only tensor bytes: reply from the window without a copy.
			data, ref, err := o.window.read(dest, tensorOff)
			if err != nil {
				return nil, toErrno(f.root.log, "read", name, err)
			}
			if ref != nil {
				return &windowReply{w: o.window, ref: ref, data: data}, 0
			}
			return fuse.ReadResultData(data), 0
		}
		var err error
		if ok {
			err = o.window.readInto(dest[n:], tensorOff)
		} else {
			err = f.fetch(dest[n:], tensorOff)
		}
		if err != nil {
			return nil, toErrno(f.root.log, "read", name, err)
		}
	}
	return fuse.ReadResultData(dest), 0
}
