package fs

import (
	"context"
	"strconv"
	"syscall"

	fusefs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/ggufs/ggufs/mount/ctl"
)

// The extended attributes, as the control protocol (mount/ctl) names them.
const (
	xattrPrefix = ctl.XattrPrefix
	xattrShape  = ctl.XattrShape
	xattrDtype  = ctl.XattrDtype
	xattrStatus = ctl.XattrStatus
	xattrNbytes = ctl.XattrNbytes
	xattrOffset = ctl.XattrOffset
	xattrDevice = ctl.XattrDevice
	xattrShard  = ctl.XattrShard
	xattrName   = ctl.XattrName
	xattrLoad   = ctl.XattrLoad
	xattrEvict  = ctl.XattrEvict
	xattrCancel = ctl.XattrCancel
)

// xattrList is ctl.Listed in listxattr's wire form (each name NUL-terminated).
var xattrList = func() []byte {
	var b []byte
	for _, n := range ctl.Listed {
		b = append(append(b, n...), 0)
	}
	return b
}()

// xattrReply implements the getxattr/listxattr size contract for value: an
// empty dest asks for the size; a dest too small gets ERANGE and the size
// (go-fuse turns ERANGE into success for the size query).
func xattrReply(dest, value []byte) (uint32, syscall.Errno) {
	if len(dest) < len(value) {
		return uint32(len(value)), syscall.ERANGE
	}
	return uint32(copy(dest, value)), 0
}

// tensorXattrs gives a node the tensor's extended attributes; tensor
// directories and data files embed it.
type tensorXattrs struct {
	root   *Root
	tensor *tensorEntry
}

// value returns the text of a readable attribute, or false for any other name.
func (x *tensorXattrs) value(attr string) (string, bool) {
	t := x.tensor
	switch attr {
	case xattrShape:
		return t.shape, true
	case xattrDtype:
		return t.dtype, true
	case xattrStatus:
		return x.root.status(t), true
	case xattrNbytes:
		return strconv.FormatUint(t.info.Size, 10), true
	case xattrOffset:
		return strconv.FormatUint(t.info.FileOffset, 10), true
	case xattrDevice:
		return x.root.deviceName(), true
	case xattrShard:
		return x.root.shardPath(t), true
	case xattrName:
		return t.info.Name, true
	}
	return "", false
}

func (x *tensorXattrs) Getxattr(ctx context.Context, attr string, dest []byte) (uint32, syscall.Errno) {
	v, ok := x.value(attr)
	if !ok {
		return 0, syscall.ENODATA
	}
	return xattrReply(dest, []byte(v))
}

func (x *tensorXattrs) Listxattr(ctx context.Context, dest []byte) (uint32, syscall.Errno) {
	return xattrReply(dest, xattrList)
}

// Setxattr runs the control commands. Loading waits for the upload and
// evicting waits for the kernel to drop its cached pages, so that what the
// caller reads next reflects the command.
func (x *tensorXattrs) Setxattr(ctx context.Context, attr string, data []byte, flags uint32) syscall.Errno {
	if attr != xattrLoad && attr != xattrEvict {
		if _, ok := x.value(attr); ok {
			return syscall.EPERM // read-only attribute
		}
		return syscall.ENOTSUP // we store no arbitrary attributes
	}
	if !x.root.mayControl(ctx) {
		return syscall.EPERM
	}
	if !ctl.Accepts(data) {
		return syscall.EINVAL
	}
	if attr == xattrLoad {
		return x.root.load(ctx, x.tensor)
	}
	return x.root.evict(x.tensor)
}

func (x *tensorXattrs) Removexattr(ctx context.Context, attr string) syscall.Errno {
	if _, ok := x.value(attr); ok || attr == xattrLoad || attr == xattrEvict {
		return syscall.EPERM
	}
	return syscall.ENODATA
}

// mayControl reports whether the caller may run control commands: the
// mounting user or root. With --allow-other others may read, not evict.
func (r *Root) mayControl(ctx context.Context) bool {
	caller, ok := fuse.FromContext(ctx)
	if !ok {
		return true // not from the kernel (a direct call in a test)
	}
	return caller.Uid == 0 || caller.Uid == r.owner.Uid
}

var _ = (fusefs.NodeSetxattrer)((*Root)(nil))
var _ = (fusefs.NodeGetxattrer)((*Root)(nil))
var _ = (fusefs.NodeListxattrer)((*Root)(nil))

// Setxattr on the mount's root: user.ggufs.load starts uploading every
// tensor (that has a known layout) in the background and returns at once;
// stats.json's load_all says when it is done and how it went. `ggufs load
// MOUNTPOINT` does this and waits. user.ggufs.cancel cancels that load.
func (r *Root) Setxattr(ctx context.Context, attr string, data []byte, flags uint32) syscall.Errno {
	if attr != xattrLoad && attr != xattrCancel {
		return syscall.ENOTSUP
	}
	if !r.mayControl(ctx) {
		return syscall.EPERM
	}
	if !ctl.Accepts(data) {
		return syscall.EINVAL
	}
	if attr == xattrCancel {
		r.loadAll.cancelRunning()
		return 0
	}
	r.startLoadAll()
	return 0
}

// The root has no readable attributes.
func (r *Root) Getxattr(ctx context.Context, attr string, dest []byte) (uint32, syscall.Errno) {
	return 0, syscall.ENODATA
}

func (r *Root) Listxattr(ctx context.Context, dest []byte) (uint32, syscall.Errno) {
	return 0, 0
}

// noXattrs gives a node that is neither the root nor a tensor no
// attributes: reading one is ENODATA, setting or removing one (a control
// command sent to the wrong node, say) ENOTSUP, as on a filesystem that
// stores no extended attributes.
type noXattrs struct{}

var (
	_ = (fusefs.NodeSetxattrer)((*noXattrs)(nil))
	_ = (fusefs.NodeRemovexattrer)((*noXattrs)(nil))
)

func (noXattrs) Setxattr(context.Context, string, []byte, uint32) syscall.Errno {
	return syscall.ENOTSUP
}

func (noXattrs) Removexattr(context.Context, string) syscall.Errno { return syscall.ENOTSUP }
