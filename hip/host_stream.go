package hip

import (
	"context"
	"fmt"
	"runtime"
	"sync"
)

// hostChunk is the grain of the host backend's streamed copies: large enough
// that a pread costs little per byte, small enough that a big tensor spreads
// over every worker and a demand read waits for at most a chunk per worker.
const hostChunk = 4 << 20

// hostWorkers copy chunks at once: memory copies out of the page cache are
// CPU bound, so one per core.
func hostWorkers() int { return max(2, runtime.NumCPU()) }

// hostPiece is one chunk of a streamed copy.
type hostPiece struct {
	dst     []byte
	seg     segment
	landing *landing
}

// UploadStream copies what next hands out (see Streamer) with one worker per
// core, each chunk by pread where the copy names its file. Each pulled copy
// counts as one Upload call for FailUpload, so a fault can hit mid-stream. A
// copy that fails is reported at once and ends the pulling; the copies
// pulled before it still land.
func (h *Host) UploadStream(ctx context.Context, next func() (Pending, bool)) error {
	stop, stopFeed := context.WithCancel(ctx)
	defer stopFeed()
	var once sync.Once
	var firstErr error
	fail := func(l *landing, err error) {
		l.report(err)
		once.Do(func() { firstErr = err; stopFeed() })
	}

	work := make(chan hostPiece)
	var workers sync.WaitGroup
	for range hostWorkers() {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for p := range work {
				if ctx.Err() != nil {
					continue // drain; the landing is reported below
				}
				if err := h.copyPiece(p); err != nil {
					fail(p.landing, err)
					continue
				}
				p.landing.arrived(uint64(len(p.dst)))
			}
		}()
	}

	var landings []*landing
	var copies int
	var bytes uint64
feed:
	for stop.Err() == nil {
		pc, ok := next()
		if !ok {
			break
		}
		l := newLanding(pc)
		landings = append(landings, l)
		if pc.Src.Len() == 0 {
			l.report(nil)
			continue
		}
		if err := h.faults.fire(opUpload); err != nil {
			fail(l, fmt.Errorf("host: upload %d: %w", len(landings), err))
			break
		}
		dst, err := h.spanOf(pc.Dst, pc.Src.Len())
		if err != nil {
			fail(l, fmt.Errorf("host: upload %d: %w", len(landings), err))
			break
		}
		copies++
		bytes += uint64(pc.Src.Len())
		seg := segment{dst: pc.Dst, src: pc.Src.Bytes()}
		seg.file, seg.off = pc.Src.File()
		for off := 0; off < len(dst); off += hostChunk {
			n := min(hostChunk, len(dst)-off)
			p := hostPiece{dst: dst[off : off+n], seg: seg.advance(uint64(off)).head(uint64(n)), landing: l}
			select {
			case work <- p:
			case <-stop.Done():
				break feed
			}
		}
	}
	close(work)
	workers.Wait()

	err := firstErr
	if err == nil && ctx.Err() != nil {
		err = fmt.Errorf("host: upload: %w", ctx.Err())
	}
	if err == nil {
		h.stats.uploaded(copies, bytes) // and every pulled copy has landed
		return nil
	}
	for _, l := range landings {
		l.report(err)
	}
	return err
}

// copyPiece copies one chunk: by pread from its file where it names one.
func (h *Host) copyPiece(p hostPiece) error {
	var err error
	if p.seg.file != nil {
		err = preadFull(p.seg.file, p.dst, p.seg.off)
	} else {
		_, err = copyFromSource(p.dst, p.seg.src)
	}
	if err != nil {
		return fmt.Errorf("host: upload: %w", err)
	}
	h.stats.pathBytes(PathHost, uint64(len(p.dst)))
	return nil
}

// spanOf resolves a destination under the lock.
func (h *Host) spanOf(p DevicePtr, n int) ([]byte, error) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.closed {
		return nil, ErrClosed
	}
	return h.span(p, n)
}
