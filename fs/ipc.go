package fs

import (
	"context"
	"syscall"

	fusefs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/ggufs/ggufs/share"
)

// Sharing is what the tree needs of the mount's sharing server
// (*share.Server): the JSON of ipc.json and tensors/<name>/ipc, which load
// the tensors first as reading data does, and the counters of stats.json.
type Sharing interface {
	ModelDescriptor(ctx context.Context) ([]byte, error)
	TensorDescriptor(ctx context.Context, name string) ([]byte, error)
	Stats() share.Stats
}

var _ Sharing = (*share.Server)(nil)

// fileMaker adds a file node under parent (OnAdd's helper).
type fileMaker func(parent *fusefs.Inode, name string, node fusefs.InodeEmbedder) *fusefs.Inode

// addModelIPC adds ipc.json to the root when the mount shares its device
// memory.
func (r *Root) addModelIPC(file fileMaker) {
	if s := r.cfg.Sharing; s != nil {
		file(&r.Inode, "ipc.json", &ipcFile{root: r, name: "ipc.json", render: s.ModelDescriptor})
	}
}

// addTensorIPC adds ipc to a tensor's directory when the mount shares.
func (r *Root) addTensorIPC(dir *fusefs.Inode, t *tensorEntry, file fileMaker) {
	s := r.cfg.Sharing
	if s == nil {
		return
	}
	name := t.info.Name
	file(dir, "ipc", &ipcFile{root: r, name: name, render: func(ctx context.Context) ([]byte, error) {
		return s.TensorDescriptor(ctx, name)
	}})
}

// ipcFile is a sharing descriptor: rendered at open (which loads what it
// describes), then served from that snapshot with direct I/O, as its size
// is unknown until then.
type ipcFile struct {
	fusefs.Inode
	fileOps
	root   *Root
	name   string // for errors: the tensor, or ipc.json
	render func(context.Context) ([]byte, error)
}

var (
	_ = (fusefs.NodeOpener)((*ipcFile)(nil))
	_ = (fusefs.NodeReader)((*ipcFile)(nil))
	_ = (fusefs.NodeGetattrer)((*ipcFile)(nil))
)

func (f *ipcFile) Getattr(ctx context.Context, fh fusefs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	size := 0 // a stat must not load tensors
	if s, ok := fh.(*snapshot); ok {
		size = len(s.content)
	}
	f.root.fileAttr(&out.Attr, uint64(size), fileMode)
	out.SetTimeout(liveAttrTimeout)
	return 0
}

func (f *ipcFile) Open(ctx context.Context, flags uint32) (fusefs.FileHandle, uint32, syscall.Errno) {
	if flags&writeFlags != 0 {
		return nil, 0, syscall.EROFS
	}
	// As for data, an interrupted open must not cancel a shared upload.
	b, err := f.render(context.WithoutCancel(ctx))
	if err != nil {
		return nil, 0, toErrno(f.root.log, "ipc", f.name, err)
	}
	return &snapshot{content: b}, fuse.FOPEN_DIRECT_IO, 0
}

func (f *ipcFile) Read(ctx context.Context, fh fusefs.FileHandle, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	s, ok := fh.(*snapshot)
	if !ok {
		return nil, syscall.EBADF
	}
	return readSlice(s.content, dest, off), 0
}
