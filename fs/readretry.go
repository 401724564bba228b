package fs

import (
	"errors"
	"time"

	"github.com/ggufs/ggufs/cache"
)

// A read that finds no device memory for its tensor waits for some, a
// bounded time, before it fails with ENOMEM. The kernel splits one read(2)
// into several requests (readahead, max_read) and, when a later one fails,
// returns the bytes of the earlier ones: a short count inside the file,
// which readers take for end of file. Memory held by other readers frees
// within milliseconds as they move on, so waiting turns those failures into
// full reads; a tensor larger than the whole budget fails at once.
const (
	noSpaceFirstWait = time.Millisecond
	noSpaceRetries   = 9 // waits of 1, 2, 4, ... 256 ms: 511 ms in all
)

// noSpace reports whether err is a want of device memory (ENOMEM); the
// cache reports the device's own out-of-memory as ErrNoSpace.
func noSpace(err error) bool {
	return errors.Is(err, cache.ErrNoSpace)
}

// retryNoSpace runs read until it succeeds, fails for another reason, or
// has waited noSpaceRetries times for memory (never when hopeless: the
// tensor cannot fit at all). sleep is time.Sleep outside tests.
func retryNoSpace(read func() error, hopeless bool, sleep func(time.Duration)) error {
	wait := noSpaceFirstWait
	for i := 0; ; i++ {
		err := read()
		if err == nil || !noSpace(err) || hopeless || i == noSpaceRetries {
			return err
		}
		sleep(wait)
		wait *= 2
	}
}
