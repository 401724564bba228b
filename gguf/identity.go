package gguf

import (
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// ErrChanged: the file behind a parsed header is no longer the file that was
// parsed (rewritten in place, or another file renamed over its path), so its
// tensor bytes can no longer be trusted to match the header.
var ErrChanged = errors.New("gguf: model file changed since it was opened")

// fileIdentity is what Open records of a file to notice, later, that it is
// not the file it parsed: device and inode (which file), size and
// modification time (whether it was written).
//
// Detected: a write through the file system that moves mtime (dd
// conv=notrunc, cp over it, an editor saving in place), growth or
// shrinkage, and any file renamed or copied over the path. Not detected: a
// write that restores mtime afterwards (touch -d, utimensat), a write within
// one timestamp tick on a file system with coarse timestamps, and writes
// through a shared mapping whose mtime update the kernel has not made yet.
// ctime would catch the first, but chmod, chown, ln and setfattr move it
// too, and refusing uploads for those would be wrong.
type fileIdentity struct {
	dev, ino uint64
	size     int64
	mtime    time.Time
}

func identityOf(st *unix.Stat_t) fileIdentity {
	return fileIdentity{
		dev:   uint64(st.Dev),
		ino:   uint64(st.Ino),
		size:  st.Size,
		mtime: time.Unix(int64(st.Mtim.Sec), int64(st.Mtim.Nsec)),
	}
}

// differs says how b is not a, or "" when it is the same file unchanged.
func (a fileIdentity) differs(b fileIdentity) string {
	switch {
	case a.dev != b.dev || a.ino != b.ino:
		return fmt.Sprintf("now another file (device %d inode %d, was device %d inode %d)", b.dev, b.ino, a.dev, a.ino)
	case a.size != b.size:
		return fmt.Sprintf("now %d bytes, was %d", b.size, a.size)
	case !a.mtime.Equal(b.mtime):
		return fmt.Sprintf("modified at %s, opened when last modified at %s",
			b.mtime.UTC().Format(time.RFC3339Nano), a.mtime.UTC().Format(time.RFC3339Nano))
	}
	return ""
}

// openRegular opens path read-only without blocking (a FIFO or a device
// would block open or the first read) and refuses anything that is not a
// regular file before a byte is read. It returns the file in blocking mode
// and its identity.
func openRegular(path string) (*os.File, fileIdentity, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fileIdentity{}, fmt.Errorf("gguf: %w", &os.PathError{Op: "open", Path: path, Err: err})
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, fileIdentity{}, fmt.Errorf("gguf: %w", &os.PathError{Op: "fstat", Path: path, Err: err})
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		return nil, fileIdentity{}, fmt.Errorf("gguf: %s: not a regular file (%s)", path, fileKind(st.Mode))
	}
	if err := unix.SetNonblock(fd, false); err != nil {
		unix.Close(fd)
		return nil, fileIdentity{}, fmt.Errorf("gguf: %w", &os.PathError{Op: "fcntl", Path: path, Err: err})
	}
	return os.NewFile(uintptr(fd), path), identityOf(&st), nil
}

// fileKind names a non-regular file's type for an error message.
func fileKind(mode uint32) string {
	switch mode & unix.S_IFMT {
	case unix.S_IFDIR:
		return "a directory"
	case unix.S_IFIFO:
		return "a FIFO"
	case unix.S_IFCHR:
		return "a character device"
	case unix.S_IFBLK:
		return "a block device"
	case unix.S_IFSOCK:
		return "a socket"
	}
	return fmt.Sprintf("file type %#o", mode&unix.S_IFMT)
}

// CheckUnchanged fails, with an error wrapping ErrChanged, when the open
// file is not as f parsed it (written since: its size or mtime moved) or
// the path now names another file (see fileIdentity for what is and is not
// noticed). A path that names nothing (the file was deleted) passes: the
// bytes come from the open descriptor, which still holds the parsed file.
// It costs an fstat and a stat. A File from NewReader has no file to check
// and always passes.
func (f *File) CheckUnchanged() error {
	_, err := f.checkIdentity()
	return err
}

// PathHoldsFile reports whether Path still names the file f parsed,
// unchanged: where it does not (replaced, rewritten or deleted), a caller
// naming the path (user.ggufs.shard) should say so.
func (f *File) PathHoldsFile() bool {
	atPath, err := f.checkIdentity()
	return err == nil && atPath
}

// checkIdentity is CheckUnchanged, also saying whether a file is at Path.
func (f *File) checkIdentity() (atPath bool, err error) {
	if f.osFile == nil {
		return true, nil
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(f.osFile.Fd()), &st); err != nil {
		return false, fmt.Errorf("gguf: %s: %w", f.Path, err)
	}
	if why := f.identity.differs(identityOf(&st)); why != "" {
		return false, changed(f.Path, why)
	}
	if err := unix.Stat(f.Path, &st); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return false, nil
		}
		return false, fmt.Errorf("%w: %w", changed(f.Path, "its path cannot be checked"), err)
	}
	if why := f.identity.differs(identityOf(&st)); why != "" {
		return true, changed(f.Path, why)
	}
	return true, nil
}

// changed says what changed about the file at path, once, matching
// ErrChanged.
func changed(path, why string) error {
	return detail(ErrChanged, "model file %s changed since it was opened: %s", path, why)
}
