package fs

import (
	"context"
	"syscall"

	fusefs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// dirOps refuses every change to a directory with EROFS. The mount itself is
// not MS_RDONLY because the kernel would then refuse setxattr, which carries
// the load and evict commands; read-only is enforced here instead.
type dirOps struct{}

var (
	_ = (fusefs.NodeMkdirer)((*dirOps)(nil))
	_ = (fusefs.NodeMknoder)((*dirOps)(nil))
	_ = (fusefs.NodeCreater)((*dirOps)(nil))
	_ = (fusefs.NodeUnlinker)((*dirOps)(nil))
	_ = (fusefs.NodeRmdirer)((*dirOps)(nil))
	_ = (fusefs.NodeRenamer)((*dirOps)(nil))
	_ = (fusefs.NodeSymlinker)((*dirOps)(nil))
	_ = (fusefs.NodeLinker)((*dirOps)(nil))
	_ = (fusefs.NodeSetattrer)((*dirOps)(nil))
)

func (dirOps) Mkdir(context.Context, string, uint32, *fuse.EntryOut) (*fusefs.Inode, syscall.Errno) {
	return nil, syscall.EROFS
}

func (dirOps) Mknod(context.Context, string, uint32, uint32, *fuse.EntryOut) (*fusefs.Inode, syscall.Errno) {
	return nil, syscall.EROFS
}

func (dirOps) Create(context.Context, string, uint32, uint32, *fuse.EntryOut) (*fusefs.Inode, fusefs.FileHandle, uint32, syscall.Errno) {
	return nil, nil, 0, syscall.EROFS
}

func (dirOps) Unlink(context.Context, string) syscall.Errno { return syscall.EROFS }

func (dirOps) Rmdir(context.Context, string) syscall.Errno { return syscall.EROFS }

func (dirOps) Rename(context.Context, string, fusefs.InodeEmbedder, string, uint32) syscall.Errno {
	return syscall.EROFS
}

func (dirOps) Symlink(context.Context, string, string, *fuse.EntryOut) (*fusefs.Inode, syscall.Errno) {
	return nil, syscall.EROFS
}

func (dirOps) Link(context.Context, fusefs.InodeEmbedder, string, *fuse.EntryOut) (*fusefs.Inode, syscall.Errno) {
	return nil, syscall.EROFS
}

func (dirOps) Setattr(context.Context, fusefs.FileHandle, *fuse.SetAttrIn, *fuse.AttrOut) syscall.Errno {
	return syscall.EROFS
}

// plainDir is a directory of the immutable tree (metadata/, tensors/).
type plainDir struct {
	fusefs.Inode
	dirOps
	noXattrs // a tensorDir's own attributes take precedence
	root     *Root
}

var _ = (fusefs.NodeGetattrer)((*plainDir)(nil))

func (d *plainDir) Getattr(ctx context.Context, f fusefs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	d.root.dirAttr(&out.Attr)
	return 0
}

// tensorDir is tensors/<name>/: a directory carrying the tensor's attributes.
type tensorDir struct {
	plainDir
	tensorXattrs
}

var (
	_ = (fusefs.NodeGetxattrer)((*tensorDir)(nil))
	_ = (fusefs.NodeListxattrer)((*tensorDir)(nil))
	_ = (fusefs.NodeSetxattrer)((*tensorDir)(nil))
	_ = (fusefs.NodeRemovexattrer)((*tensorDir)(nil))
)
