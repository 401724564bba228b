package fs

import (
	"bytes"
	"context"
	"io"
	"sync"
	"syscall"
	"time"

	fusefs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// fileMode is every regular file's permission: read for all (the kernel keeps
// other users out unless mounted with allow_other).
const fileMode = 0o444

// fileOps refuses changes to a file's attributes (truncate, chmod, utimes).
type fileOps struct{}

var _ = (fusefs.NodeSetattrer)((*fileOps)(nil))

func (fileOps) Setattr(context.Context, fusefs.FileHandle, *fuse.SetAttrIn, *fuse.AttrOut) syscall.Errno {
	return syscall.EROFS
}

// writeFlags are the open flags that would change a file.
const writeFlags = syscall.O_WRONLY | syscall.O_RDWR | syscall.O_TRUNC | syscall.O_APPEND

// readSlice answers a read of content at off: clamped at both ends.
func readSlice(content []byte, dest []byte, off int64) fuse.ReadResult {
	if off < 0 || off >= int64(len(content)) {
		return fuse.ReadResultData(nil)
	}
	end := min(int64(len(content)), off+int64(len(dest)))
	return fuse.ReadResultData(content[off:end])
}

// constText renders fixed text.
func constText(s string) func(io.Writer) error {
	return func(w io.Writer) error {
		_, err := io.WriteString(w, s)
		return err
	}
}

// textFile is a file whose content never changes but may be costly to
// produce (a metadata array of 128k strings): it is rendered on first use,
// not at mount, and then kept. The kernel may cache its pages.
type textFile struct {
	fusefs.Inode
	fileOps
	noXattrs
	root *Root
	name string
	// render writes the content; called at most once.
	render func(io.Writer) error

	once    sync.Once
	content []byte
	err     error
}

var (
	_ = (fusefs.NodeOpener)((*textFile)(nil))
	_ = (fusefs.NodeReader)((*textFile)(nil))
	_ = (fusefs.NodeGetattrer)((*textFile)(nil))
)

func newTextFile(r *Root, name string, render func(io.Writer) error) *textFile {
	return &textFile{root: r, name: name, render: render}
}

func (f *textFile) bytes() ([]byte, error) {
	f.once.Do(func() {
		var b bytes.Buffer
		f.err = f.render(&b)
		f.content = b.Bytes()
	})
	return f.content, f.err
}

func (f *textFile) Getattr(ctx context.Context, fh fusefs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	b, err := f.bytes()
	if err != nil {
		return toErrno(f.root.log, "render", f.name, err)
	}
	f.root.fileAttr(&out.Attr, uint64(len(b)), fileMode)
	return 0
}

func (f *textFile) Open(ctx context.Context, flags uint32) (fusefs.FileHandle, uint32, syscall.Errno) {
	if flags&writeFlags != 0 {
		return nil, 0, syscall.EROFS
	}
	return nil, fuse.FOPEN_KEEP_CACHE, 0
}

func (f *textFile) Read(ctx context.Context, fh fusefs.FileHandle, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	b, err := f.bytes()
	if err != nil {
		return nil, toErrno(f.root.log, "render", f.name, err)
	}
	return readSlice(b, dest, off), 0
}

// liveFile is a file whose content changes (status, stats.json). Each open
// takes a snapshot that its reads serve; direct I/O keeps the kernel from
// caching pages or trusting a stale size. The content a stat measured is
// what the next open serves (stated.go), so a file reads at the size it stats.
type liveFile struct {
	fusefs.Inode
	fileOps
	noXattrs
	root   *Root
	render func() []byte
	stated statedRender
}

var (
	_ = (fusefs.NodeOpener)((*liveFile)(nil))
	_ = (fusefs.NodeReader)((*liveFile)(nil))
	_ = (fusefs.NodeGetattrer)((*liveFile)(nil))
)

// snapshot is an open liveFile's content.
type snapshot struct{ content []byte }

// liveAttrTimeout makes the kernel ask again for a live file's size at
// nearly every stat (zero would mean "the mount's default").
const liveAttrTimeout = time.Nanosecond

func (f *liveFile) Getattr(ctx context.Context, fh fusefs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	size := 0
	if s, ok := fh.(*snapshot); ok {
		size = len(s.content)
	} else {
		size = len(f.stated.measure(f.render))
	}
	f.root.fileAttr(&out.Attr, uint64(size), fileMode)
	out.SetTimeout(liveAttrTimeout)
	return 0
}

func (f *liveFile) Open(ctx context.Context, flags uint32) (fusefs.FileHandle, uint32, syscall.Errno) {
	if flags&writeFlags != 0 {
		return nil, 0, syscall.EROFS
	}
	return &snapshot{content: f.stated.take(f.render)}, fuse.FOPEN_DIRECT_IO, 0
}

func (f *liveFile) Read(ctx context.Context, fh fusefs.FileHandle, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	s, ok := fh.(*snapshot)
	if !ok {
		s = &snapshot{content: f.render()}
	}
	return readSlice(s.content, dest, off), 0
}
