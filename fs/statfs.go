package fs

import (
	"context"
	"syscall"

	fusefs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// statfsBlock is the block size statfs reports sizes in.
const statfsBlock = 4096

var _ = (fusefs.NodeStatfser)((*Root)(nil))

// Statfs makes df tell the truth about a mount: its size is the model's
// (every shard's bytes), all of it used and none free, since nothing can be
// written; its inodes are the tensors (df -i), none free.
func (r *Root) Statfs(ctx context.Context, out *fuse.StatfsOut) syscall.Errno {
	var size uint64
	for _, f := range r.cfg.Model.Shards {
		if f.Size > 0 {
			size += uint64(f.Size)
		}
	}
	*out = fuse.StatfsOut{
		Blocks:  (size + statfsBlock - 1) / statfsBlock,
		Files:   uint64(len(r.tensors)),
		Bsize:   statfsBlock,
		Frsize:  statfsBlock,
		NameLen: maxNameLen,
	}
	return 0
}

var _ = (fusefs.NodeStatfser)((*plainDir)(nil))

// Statfs of metadata/, tensors/ and each tensor directory is the mount's.
func (d *plainDir) Statfs(ctx context.Context, out *fuse.StatfsOut) syscall.Errno {
	return d.root.Statfs(ctx, out)
}
