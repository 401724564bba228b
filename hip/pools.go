package hip

import (
	"context"
	"fmt"
)

// eventBlockingSync makes hipEventSynchronize sleep instead of spinning, so
// waiting threads leave the CPU to the goroutines filling staging buffers.
const eventBlockingSync = 0x1

// slot is one unit of upload concurrency: a stream, an event marking the end
// of the work queued on it, and for staging slots a pinned buffer.
type slot struct {
	stream, event uintptr
	buf           []byte  // pinned staging memory; nil for registration slots
	bufAddr       uintptr // address of buf
}

// pools holds the slots uploads and downloads take turns on. Concurrent
// uploads share them, which bounds pinned memory and work in flight.
type pools struct {
	staging  chan *slot
	register chan *slot
	all      []*slot
	// fillers bounds the staging fills running at once across concurrent
	// uploads to cfg.Workers: past that they only contend for memory
	// bandwidth (16 fill workers ran slower than 12 on the H200).
	fillers chan struct{}
}

// newPools creates the streams, events and pinned buffers cfg asks for; the
// caller has bound the device.
func newPools(rt *runtimeAPI, cfg UploadConfig) (*pools, error) {
	p := &pools{
		staging:  make(chan *slot, cfg.StagingBuffers),
		register: make(chan *slot, cfg.InFlight),
		fillers:  make(chan struct{}, cfg.Workers),
	}
	mk := func(bufBytes uint64) (*slot, error) {
		s := &slot{}
		p.all = append(p.all, s)
		if err := rt.check("StreamCreateWithFlags", rt.streamCreateWithFlags(&s.stream, streamNonBlocking)); err != nil {
			return nil, err
		}
		if err := rt.check("EventCreateWithFlags", rt.eventCreateWithFlags(&s.event, eventDisableTiming|eventBlockingSync)); err != nil {
			return nil, err
		}
		if bufBytes > 0 {
			if err := rt.check("HostAlloc", rt.hostAlloc(&s.bufAddr, bufBytes, hostAllocDefault)); err != nil {
				return nil, err
			}
			s.buf = bytesAt(s.bufAddr, int(bufBytes))
		}
		return s, nil
	}
	for i := 0; i < cfg.StagingBuffers; i++ {
		s, err := mk(cfg.StagingBytes)
		if err != nil {
			_ = p.destroy(rt)
			return nil, fmt.Errorf("%s: staging buffer %d of %d bytes: %w", rt.fl.kind, i, cfg.StagingBytes, err)
		}
		p.staging <- s
	}
	for i := 0; i < cfg.InFlight; i++ {
		s, err := mk(0)
		if err != nil {
			_ = p.destroy(rt)
			return nil, fmt.Errorf("%s: upload stream %d: %w", rt.fl.kind, i, err)
		}
		p.register <- s
	}
	return p, nil
}

// destroy frees every slot; no work may be in flight.
func (p *pools) destroy(rt *runtimeAPI) error {
	var first error
	keep := func(err error) {
		if err != nil && first == nil {
			first = err
		}
	}
	for _, s := range p.all {
		if s.bufAddr != 0 {
			keep(rt.check("FreeHost", rt.freeHost(s.bufAddr)))
		}
		if s.event != 0 {
			keep(rt.check("EventDestroy", rt.eventDestroy(s.event)))
		}
		if s.stream != 0 {
			keep(rt.check("StreamDestroy", rt.streamDestroy(s.stream)))
		}
	}
	p.all = nil
	return first
}

// take waits for a free slot of the pool or for ctx to end.
func take(ctx context.Context, pool chan *slot) (*slot, error) {
	select {
	case s := <-pool:
		return s, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// prepare creates the pools in the background, so that the first upload
// finds its staging buffers and streams made (off its timed path: on the
// H200 pinning 32 buffers of 4 MiB costs milliseconds) while the caller goes
// on. An upload that comes first waits for them or makes them itself; an
// error here recurs at the first upload, which reports it.
func (g *GPU) prepare() {
	if g.cfg.Path == PathPlain {
		return
	}
	g.warming.Add(1)
	go func() {
		defer g.warming.Done()
		_, _ = g.getPools()
	}()
}

// getPools returns the pools, creating them on first use.
func (g *GPU) getPools() (*pools, error) {
	g.poolsMu.Lock()
	defer g.poolsMu.Unlock()
	if g.pools != nil {
		return g.pools, nil
	}
	// Pools made after Close would never be freed.
	g.mu.Lock()
	closed := g.closed
	g.mu.Unlock()
	if closed {
		return nil, fmt.Errorf("%s: %w", g, ErrClosed)
	}
	unbind, err := g.bind()
	defer unbind()
	if err != nil {
		return nil, err
	}
	p, err := newPools(g.rt, g.cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", g, err)
	}
	g.pools = p
	return p, nil
}
