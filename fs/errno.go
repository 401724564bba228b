package fs

import (
	"context"
	"errors"
	"log"
	"syscall"

	"github.com/ggufs/ggufs/cache"
	"github.com/ggufs/ggufs/gguf"
	"github.com/ggufs/ggufs/hip"
)

// ioFailures are the known causes of EIO: the tensor's status says which.
var ioFailures = []error{
	gguf.ErrUnknownType,   // a type without a layout can never be uploaded
	gguf.ErrTruncated,     // the file shrank under the mount
	gguf.ErrChanged,       // the file was rewritten or replaced under the mount
	gguf.ErrOutOfBounds,   // likewise
	gguf.ErrClosed,        // the model was closed (unmounting)
	hip.ErrSourceFault,    // reading the mapping faulted (SIGBUS)
	hip.ErrInjected,       // a test's injected device fault
	hip.ErrInvalidPointer, // a device-side bug, but a known kind
	hip.ErrClosed,         // the device was closed (unmounting)
	cache.ErrClosed,       // the cache was closed (unmounting)
}

// toErrno is the one place an error becomes what a FUSE caller sees. Known
// conditions map to the errno a user can act on; anything else is logged
// (with op and tensor, so the log explains the EIO) and becomes EIO.
func toErrno(logger *log.Logger, op, name string, err error) syscall.Errno {
	if err == nil {
		return 0
	}
	var errno syscall.Errno
	var formatErr *gguf.FormatError
	var runtimeErr *hip.RuntimeError
	switch {
	case errors.Is(err, cache.ErrNoSpace), errors.Is(err, hip.ErrOutOfMemory):
		return syscall.ENOMEM
	case errors.Is(err, cache.ErrNotFound):
		return syscall.ENOENT
	case errors.Is(err, cache.ErrPinned):
		return syscall.EBUSY
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return syscall.EINTR
	case isAny(err, ioFailures), errors.As(err, &formatErr), errors.As(err, &runtimeErr):
		logger.Printf("fs: %s %q: %v", op, name, err)
		return syscall.EIO
	case errors.As(err, &errno) && errno != 0:
		return errno
	}
	logger.Printf("fs: %s %q: unexpected error: %v", op, name, err)
	return syscall.EIO
}

func isAny(err error, targets []error) bool {
	for _, t := range targets {
		if errors.Is(err, t) {
			return true
		}
	}
	return false
}
