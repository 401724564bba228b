package fs

import (
	"context"
	"errors"
	"log"
	"syscall"

	"github.com/ggufs/ggufs/cache"
)

// toErrno is the one place an error becomes what a FUSE caller sees. The
// conditions a user can act on get their own errno; an errno from below
// passes through; everything else (cache.ErrDevice, cache.ErrSourceFault: a
// file truncated or changed under the mount; a closed cache) is EIO, logged with op and tensor
// so that the log explains it, the tensor's status saying why.
func toErrno(logger *log.Logger, op, name string, err error) syscall.Errno {
	var errno syscall.Errno
	switch {
	case err == nil:
		return 0
	case errors.Is(err, cache.ErrNoSpace): // the device's own out-of-memory included
		return syscall.ENOMEM
	case errors.Is(err, cache.ErrNotFound):
		return syscall.ENOENT
	case errors.Is(err, cache.ErrPinned):
		return syscall.EBUSY
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return syscall.EINTR
	case errors.As(err, &errno) && errno != 0:
		return errno
	}
	logger.Printf("fs: %s %q: %v", op, name, err)
	return syscall.EIO
}
