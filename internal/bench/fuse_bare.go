package bench

import (
	"context"
	"syscall"

	fusefs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	ggufsfs "github.com/ggufs/ggufs/fs"
)

// bareRoot is the baseline of bench fuse: the least a go-fuse server can do
// to serve a file from memory, mounted with ggufs's options.
type bareRoot struct {
	fusefs.Inode
	data []byte
}

var _ = (fusefs.NodeOnAdder)((*bareRoot)(nil))

func (r *bareRoot) OnAdd(ctx context.Context) {
	ch := r.NewPersistentInode(ctx, &bareFile{data: r.data}, fusefs.StableAttr{Mode: syscall.S_IFREG})
	r.AddChild("data", ch, false)
}

// bareFile serves data with the kernel page cache kept, as ggufs's data files.
type bareFile struct {
	fusefs.Inode
	data []byte
}

var (
	_ = (fusefs.NodeOpener)((*bareFile)(nil))
	_ = (fusefs.NodeReader)((*bareFile)(nil))
	_ = (fusefs.NodeGetattrer)((*bareFile)(nil))
)

func (f *bareFile) Open(ctx context.Context, flags uint32) (fusefs.FileHandle, uint32, syscall.Errno) {
	return nil, fuse.FOPEN_KEEP_CACHE, 0
}

func (f *bareFile) Getattr(ctx context.Context, fh fusefs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	out.Mode = 0o444
	out.Size = uint64(len(f.data))
	return 0
}

func (f *bareFile) Read(ctx context.Context, fh fusefs.FileHandle, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	if off >= int64(len(f.data)) {
		return fuse.ReadResultData(nil), 0
	}
	return fuse.ReadResultData(f.data[off:min(int64(len(f.data)), off+int64(len(dest)))]), 0
}

// mountBare mounts data as dir/data with ggufs's mount options.
func mountBare(dir string, data []byte) (*fuse.Server, error) {
	return fusefs.Mount(dir, &bareRoot{data: data}, ggufsfs.FuseOptions(ggufsfs.MountOptions{}))
}
