package hip

import (
	"fmt"
	"runtime"
)

// directDownloadBytes: below this a pageable copy costs less than a trip
// through a staging buffer.
const directDownloadBytes = 64 << 10

// Download copies len(dst) bytes from device address src (any address inside
// an allocation) into dst, through pinned staging buffers, two in flight so
// copying one out overlaps the device filling the next.
func (g *GPU) Download(dst []byte, src DevicePtr) error {
	if len(dst) == 0 {
		return nil
	}
	if err := g.checkRange(src, uint64(len(dst))); err != nil {
		return fmt.Errorf("%s: download: %w", g, err)
	}
	if err := g.download(dst, src); err != nil {
		return fmt.Errorf("%s: download of %d bytes from %#x: %w", g, len(dst), uintptr(src), err)
	}
	g.stats.download(uint64(len(dst)))
	return nil
}

func (g *GPU) download(dst []byte, src DevicePtr) error {
	if len(dst) < directDownloadBytes || g.cfg.Path == PathPlain {
		unbind, err := g.bind()
		defer unbind()
		if err != nil {
			return err
		}
		err = g.rt.check("Memcpy", g.rt.memcpy(addressOf(dst), uintptr(src), uint64(len(dst)), memcpyDeviceToHost))
		runtime.KeepAlive(dst)
		return err
	}
	p, err := g.getPools()
	if err != nil {
		return err
	}
	unbind, err := g.bind()
	defer unbind()
	if err != nil {
		return err
	}
	type pending struct {
		s   *slot
		out []byte
	}
	var queue []pending
	var firstErr error
	// finish waits for the oldest piece and copies it out; it always returns
	// the slot, so nothing stays in flight.
	finish := func() {
		q := queue[0]
		queue = queue[1:]
		if err := g.rt.check("EventSynchronize", g.rt.eventSynchronize(q.s.event)); err != nil {
			_ = g.rt.streamSynchronize(q.s.stream)
			if firstErr == nil {
				firstErr = err
			}
		} else if firstErr == nil {
			copy(q.out, q.s.buf)
		}
		p.staging <- q.s
	}
	depth := min(2, cap(p.staging)) // never wait for a slot this download holds
	for off := 0; off < len(dst) && firstErr == nil; {
		if len(queue) == depth {
			finish()
			continue
		}
		var s *slot
		if len(queue) == 0 {
			s = <-p.staging
		} else {
			// Holding a slot, take another only if one is free: concurrent
			// downloads each waiting for a second slot would deadlock.
			select {
			case s = <-p.staging:
			default:
				finish()
				continue
			}
		}
		n := min(len(dst)-off, len(s.buf))
		err := g.rt.check("MemcpyAsync", g.rt.memcpyAsync(s.bufAddr, uintptr(src)+uintptr(off), uint64(n), memcpyDeviceToHost, s.stream))
		if err == nil {
			err = g.rt.check("EventRecord", g.rt.eventRecord(s.event, s.stream))
		}
		if err != nil {
			_ = g.rt.streamSynchronize(s.stream)
			p.staging <- s
			firstErr = err
			break
		}
		queue = append(queue, pending{s: s, out: dst[off : off+n]})
		off += n
	}
	for len(queue) > 0 {
		finish()
	}
	return firstErr
}
