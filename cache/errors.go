package cache

import (
	"context"
	"errors"
	"fmt"

	"github.com/ggufs/ggufs/gguf"
	"github.com/ggufs/ggufs/hip"
)

// Sentinel errors callers match with errors.Is. What the cache gets from the
// device or from a tensor's source is wrapped into one of ErrNoSpace,
// ErrDevice or ErrSourceFault with the original kept in the chain, so layers
// above map errors without knowing the device's own.
var (
	// ErrNoSpace: the tensor does not fit in the budget (or on the device) and
	// nothing could be evicted to make room. The filesystem maps it to ENOMEM.
	ErrNoSpace = errors.New("cache: no device memory left and nothing could be evicted")
	// ErrDevice: the device failed an operation (allocate, free, copy).
	ErrDevice = errors.New("cache: device failed")
	// ErrSourceFault: the tensor's source bytes could not be read (the file
	// was truncated or changed under its mapping).
	ErrSourceFault = errors.New("cache: tensor source unreadable")
	// ErrNotFound: no tensor has that name.
	ErrNotFound = errors.New("cache: no such tensor")
	// ErrPinned: the tensor is held (an open file, a live Handle, or an upload
	// in progress) and cannot be evicted now.
	ErrPinned = errors.New("cache: tensor is pinned")
	// ErrClosed: the cache was closed.
	ErrClosed = errors.New("cache: closed")
	// ErrReleased: the Handle was released; its device address may be reused.
	ErrReleased = errors.New("cache: handle released")
	// ErrInternal: one of the cache's invariants broke (a bug). Close
	// returns every such error; a caller should say so and exit non-zero.
	ErrInternal = errors.New("cache: internal invariant broken")
)

// maxFaults bounds how many faults Close lists; a cache that breaks an
// invariant on every call must not grow without bound.
const maxFaults = 16

// faultLog keeps the errors met outside any caller's request, for Close.
// Guarded by Cache.mu.
type faultLog struct {
	errs    []error
	dropped int // faults seen beyond maxFaults
}

func (l *faultLog) add(err error) {
	if len(l.errs) < maxFaults {
		l.errs = append(l.errs, err)
		return
	}
	l.dropped++
}

// err joins every fault kept, and says how many more there were.
func (l *faultLog) err() error {
	errs := l.errs
	if l.dropped > 0 {
		errs = append(errs[:len(errs):len(errs)], fmt.Errorf("cache: %d more faults not listed", l.dropped))
	}
	return errors.Join(errs...)
}

// fromDevice wraps an error met while loading or reading a tensor into the
// cache's own kind, keeping the original in the chain: a fault reading the
// source (hip.ErrSourceFault, or the gguf file truncated, changed or closed
// under its mapping) is ErrSourceFault, out of device memory is ErrNoSpace,
// any other device error ErrDevice. Cancellation, the cache's own errors and
// nil pass through unchanged.
func fromDevice(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, ErrNoSpace), errors.Is(err, ErrDevice), errors.Is(err, ErrSourceFault),
		errors.Is(err, ErrClosed), errors.Is(err, ErrNotFound), errors.Is(err, ErrReleased):
		return err
	case isSourceFault(err):
		return &kindError{kind: ErrSourceFault, err: err}
	case errors.Is(err, hip.ErrOutOfMemory):
		return &kindError{kind: ErrNoSpace, err: err}
	}
	return &kindError{kind: ErrDevice, err: err}
}

// kindError is err marked as one of the cache's kinds: errors.Is matches
// both, and the message is err's alone (it already says what failed; the
// kind would only repeat it).
type kindError struct{ kind, err error }

func (e *kindError) Error() string   { return e.err.Error() }
func (e *kindError) Unwrap() []error { return []error{e.kind, e.err} }

// isSourceFault reports whether err says the tensor's host bytes could not be
// read, rather than that the device failed.
func isSourceFault(err error) bool {
	var format *gguf.FormatError
	return errors.Is(err, hip.ErrSourceFault) || errors.Is(err, errSourceSize) ||
		errors.Is(err, gguf.ErrTruncated) || errors.Is(err, gguf.ErrChanged) ||
		errors.Is(err, gguf.ErrClosed) || errors.Is(err, gguf.ErrOutOfBounds) ||
		errors.As(err, &format)
}

// errNeverFits: the tensor is larger than the whole budget, so no read will
// ever load it (unlike a budget full for now).
var errNeverFits = errors.New("the tensor is larger than the whole budget")

// errSourceSize: a tensor's source gave a different number of bytes than its
// size.
var errSourceSize = errors.New("source size differs from the tensor's")

// fromSource wraps an error reading a tensor's host bytes as ErrSourceFault.
func fromSource(err error) error {
	if err == nil || errors.Is(err, ErrSourceFault) {
		return err
	}
	return &kindError{kind: ErrSourceFault, err: err}
}
