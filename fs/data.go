package fs

import (
	"context"
	"errors"
	"io"
	"sync"
	"syscall"

	fusefs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// dataFile is tensors/<name>/data (or data.npy, which prefixes a numpy
// header). Opening pins the tensor; reading makes it resident and serves the
// bytes from the device copy. The kernel keeps the pages it has read
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

// pin is an open data file's hold on its tensor.
type pin struct {
	once  sync.Once
	unpin func()
}

var _ = (fusefs.FileReleaser)((*pin)(nil))

func (p *pin) Release(ctx context.Context) syscall.Errno {
	p.once.Do(p.unpin)
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
	return &pin{unpin: unpin}, fuse.FOPEN_KEEP_CACHE, 0
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
		// The upload is shared by every reader of the tensor: an interrupted
		// reader (Go programs are interrupted by SIGURG all the time) must
		// not cancel it for the others.
		m, err := f.root.cfg.Cache.ReadAt(context.WithoutCancel(ctx), name, dest[n:], tensorOff)
		if err != nil && !(errors.Is(err, io.EOF) && n+m == len(dest)) {
			return nil, toErrno(f.root.log, "read", name, err)
		}
	}
	return fuse.ReadResultData(dest), 0
}
