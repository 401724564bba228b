package cache

import "errors"

// Sentinel errors callers match with errors.Is.
var (
	// ErrNoSpace: the tensor does not fit in the budget (or on the device) and
	// nothing could be evicted to make room. The filesystem maps it to ENOMEM.
	ErrNoSpace = errors.New("cache: no device memory left and nothing could be evicted")
	// ErrNotFound: no tensor has that name.
	ErrNotFound = errors.New("cache: no such tensor")
	// ErrPinned: the tensor is held (an open file, a live Handle, or an upload
	// in progress) and cannot be evicted now.
	ErrPinned = errors.New("cache: tensor is pinned")
	// ErrClosed: the cache was closed.
	ErrClosed = errors.New("cache: closed")
	// ErrReleased: the Handle was released; its device address may be reused.
	ErrReleased = errors.New("cache: handle released")
)
