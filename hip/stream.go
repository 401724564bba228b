package hip

import (
	"context"
	"sync/atomic"
)

// Pending is one copy of a streamed upload and whom to tell when it ends.
type Pending struct {
	Copy
	// Landed, when set, is called exactly once, from any goroutine: with
	// nil as soon as every byte of the copy is on the device, or with the
	// reason it will not be (a failure, a cancellation).
	Landed func(err error)
}

// Streamer is implemented by backends whose pipeline takes an upload's
// copies one at a time, as it has room for them, and reports each copy the
// moment its own bytes land, so a consumer can use one tensor while the
// next are still moving and can change what comes next (a demand read) up
// to the last moment.
type Streamer interface {
	// UploadStream pulls copies from next (called from one goroutine at a
	// time, never after it returned false) and keeps the pipeline full
	// across them. It returns once every pulled copy has been reported;
	// after an error or a cancellation it pulls no more, and the pulled
	// copies that did not land are reported with the error.
	UploadStream(ctx context.Context, next func() (Pending, bool)) error
}

var (
	_ Streamer = (*GPU)(nil)
	_ Streamer = (*Host)(nil)
)

// landing tracks one pulled copy until all of its bytes have arrived.
type landing struct {
	remaining atomic.Uint64
	reported  atomic.Bool
	landed    func(error)
}

func newLanding(p Pending) *landing {
	l := &landing{landed: p.Landed}
	l.remaining.Store(uint64(p.Src.Len()))
	return l
}

// arrived counts n more bytes on the device; the last ones report success.
func (l *landing) arrived(n uint64) {
	if l == nil || n == 0 {
		return
	}
	if l.remaining.Add(^(n - 1)) == 0 {
		l.report(nil)
	}
}

// report tells the copy's owner how it ended; only the first call counts.
func (l *landing) report(err error) {
	if l == nil || !l.reported.CompareAndSwap(false, true) {
		return
	}
	if l.landed != nil {
		l.landed(err)
	}
}

// sliceSource streams a fixed list of copies.
func sliceSource(copies []Copy) func() (Pending, bool) {
	i := 0
	return func() (Pending, bool) {
		if i == len(copies) {
			return Pending{}, false
		}
		i++
		return Pending{Copy: copies[i-1]}, true
	}
}
