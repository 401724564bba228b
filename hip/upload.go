package hip

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"
)

// segment is one contiguous host-to-device copy.
type segment struct {
	dst     DevicePtr
	src     []byte
	file    *os.File // when set, src is also at off in file (see Source)
	off     int64
	landing *landing // the copy this segment is part of
}

// advance drops the first n bytes of the segment.
func (s segment) advance(n uint64) segment {
	s.dst += DevicePtr(n)
	s.src = s.src[n:]
	s.off += int64(n)
	return s
}

// head keeps the first n bytes of the segment.
func (s segment) head(n uint64) segment {
	s.src = s.src[:n]
	return s
}

// job is what one slot carries: a registered chunk (one segment), or the
// segments packed into one staging buffer.
type job struct {
	register bool
	segs     []segment
}

// submitted is a job queued on a slot's stream, waiting for its event.
type submitted struct {
	s       *slot
	pool    chan *slot
	path    string
	bytes   uint64
	regAddr uintptr   // registered host address to unregister, or 0
	segs    []segment // what the job copies: kept alive, counted as landed
}

// Upload copies every Src to its Dst: large entries by the configured path
// (registered chunks or staging buffers) on several streams at once, small
// entries packed into staging buffers. It returns when every copy it queued
// has completed, also on error or cancellation.
func (g *GPU) Upload(ctx context.Context, copies []Copy) error {
	var total uint64
	for i, c := range copies {
		if c.Src.Len() == 0 {
			continue
		}
		if err := g.checkRange(c.Dst, uint64(c.Src.Len())); err != nil {
			return fmt.Errorf("%s: upload %d of %d: %w", g, i, len(copies), err)
		}
		total += uint64(c.Src.Len())
	}
	if total == 0 {
		return ctx.Err()
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: upload: %w", g, err)
	}
	// Enough workers for the jobs there can be, no more.
	jobs := total/g.cfg.StagingBytes + uint64(len(copies))
	return g.stream(ctx, &planner{cfg: g.cfg, next: sliceSource(copies)}, int(min(jobs, uint64(g.workers()))))
}

// UploadStream is Upload of copies pulled one at a time (see Streamer):
// each copy is reported as soon as the last of its chunks' copies completes.
func (g *GPU) UploadStream(ctx context.Context, next func() (Pending, bool)) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: upload: %w", g, err)
	}
	pl := &planner{cfg: g.cfg, next: next, check: func(c Copy) error {
		return g.checkRange(c.Dst, uint64(c.Src.Len()))
	}}
	return g.stream(ctx, pl, g.workers())
}

// workers is how many goroutines feed the pipeline's slots.
func (g *GPU) workers() int {
	if g.cfg.Path == PathHybrid {
		return g.cfg.Workers + g.cfg.RegisterWorkers
	}
	return g.cfg.Workers
}

// stream runs the planner's jobs through the pipeline with up to nw
// workers, then reports every copy that did not land with the error.
func (g *GPU) stream(ctx context.Context, pl *planner, nw int) error {
	err := g.runStream(ctx, pl, nw)
	pl.finish(err)
	return err
}

func (g *GPU) runStream(ctx context.Context, pl *planner, nw int) error {
	if g.cfg.Path == PathPlain {
		return g.uploadPlain(ctx, pl)
	}
	p, err := g.getPools()
	if err != nil {
		return err
	}
	if err := g.runJobs(ctx, p, pl.nextJob, nw); err != nil {
		return fmt.Errorf("%s: upload: %w", g, err)
	}
	if pl.err != nil {
		return pl.err
	}
	g.stats.uploaded(pl.copies, pl.bytes)
	return nil
}

// planner turns a stream of copies into jobs lazily: it pulls the next copy
// only when a worker asks for a job and none is planned, so what is pulled
// next can change (a demand read) until a worker is free for it. Large
// entries on the register path become registration chunks; everything else
// goes into staging-buffer loads, small entries packed together.
type planner struct {
	cfg   UploadConfig
	next  func() (Pending, bool)
	check func(Copy) error // validates a pulled copy; nil: checked before

	queue    []job // planned, not yet handed out
	pack     job
	packed   uint64
	ended    bool
	landings []*landing // every pulled copy
	copies   int
	bytes    uint64
	err      error // the first invalid copy, which ended the stream
}

// nextJob is the next job to run; false once the stream has ended and every
// job was handed out. Called from one goroutine.
func (p *planner) nextJob() (job, bool) {
	for len(p.queue) == 0 && !p.ended {
		pc, ok := p.next()
		if !ok {
			p.ended = true
			p.flushPack()
			break
		}
		p.add(pc)
	}
	if len(p.queue) == 0 {
		return job{}, false
	}
	j := p.queue[0]
	p.queue[0] = job{}
	p.queue = p.queue[1:]
	return j, true
}

func (p *planner) add(pc Pending) {
	l := newLanding(pc)
	p.landings = append(p.landings, l)
	if pc.Src.Len() == 0 {
		l.report(nil)
		return
	}
	if p.check != nil {
		if err := p.check(pc.Copy); err != nil {
			p.err = fmt.Errorf("hip: upload %d: %w", len(p.landings), err)
			p.ended = true // the packed jobs so far still run; nothing more is pulled
			p.flushPack()
			return
		}
	}
	p.copies++
	p.bytes += uint64(pc.Src.Len())
	cfg := p.cfg
	seg := segment{dst: pc.Dst, src: pc.Src.Bytes(), landing: l}
	if !cfg.NoPread {
		seg.file, seg.off = pc.Src.File()
	}
	if (cfg.Path == PathRegister || cfg.Path == PathHybrid) && uint64(len(seg.src)) >= cfg.SmallBytes {
		for _, piece := range registerPieces(seg.src, cfg.ChunkBytes) {
			n := uint64(len(piece))
			p.queue = append(p.queue, job{register: true, segs: []segment{seg.head(n)}})
			seg = seg.advance(n)
		}
		return
	}
	for len(seg.src) > 0 {
		n := min(uint64(len(seg.src)), cfg.StagingBytes-p.packed)
		p.pack.segs = append(p.pack.segs, seg.head(n))
		p.packed += n
		seg = seg.advance(n)
		if p.packed == cfg.StagingBytes {
			p.flushPack()
		}
	}
}

func (p *planner) flushPack() {
	if len(p.pack.segs) > 0 {
		p.queue = append(p.queue, p.pack)
	}
	p.pack, p.packed = job{}, 0
}

// finish reports every pulled copy that has not landed: with err, or, when
// the stream ended without one, as never copied (a bug).
func (p *planner) finish(err error) {
	if err == nil {
		err = errNotCopied
	}
	for _, l := range p.landings {
		l.report(err)
	}
}

var errNotCopied = errors.New("hip: upload ended before the copy was made")

// planJobs plans every job of copies at once.
func planJobs(copies []Copy, cfg UploadConfig) []job {
	p := &planner{cfg: cfg, next: sliceSource(copies)}
	var jobs []job
	for {
		j, ok := p.nextJob()
		if !ok {
			return jobs
		}
		jobs = append(jobs, j)
	}
}

// registerPieces cuts src at absolute addresses that are multiples of chunk,
// so neighbouring pieces never share a page (registering a page twice
// fails), and no piece is shorter than half a chunk unless src is.
func registerPieces(src []byte, chunk uint64) [][]byte {
	var pieces [][]byte
	base := uint64(addressOf(src))
	for off := uint64(0); off < uint64(len(src)); {
		start := base + off
		end := (start + chunk) / chunk * chunk
		if end-start < chunk/2 {
			end += chunk
		}
		n := min(end-start, uint64(len(src))-off)
		pieces = append(pieces, src[off:off+n])
		off += n
	}
	return pieces
}

// runJobs feeds the jobs nextJob hands out to nw goroutines, which queue
// them on slots' streams; as many goroutines wait for each slot's event,
// count its bytes as landed, unregister its chunk and return the slot. It
// returns once no work is in flight.
func (g *GPU) runJobs(ctx context.Context, p *pools, nextJob func() (job, bool), nw int) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var once sync.Once
	var firstErr error
	fail := func(err error) {
		once.Do(func() { firstErr = err; cancel() })
	}

	work := make(chan job)
	done := make(chan submitted, cap(p.staging)+cap(p.register))
	var workers, recyclers sync.WaitGroup
	// On the hybrid path some workers pin chunks and the others stage
	// them, all taking from one queue, so each runs at its own pace.
	nw = max(nw, 1)
	pinners := 0
	switch g.cfg.Path {
	case PathRegister:
		pinners = nw
	case PathHybrid:
		pinners = min(g.cfg.RegisterWorkers, nw)
	}
	for i := 0; i < nw; i++ {
		workers.Add(1)
		recyclers.Add(1)
		stageOnly := i >= pinners
		go func() {
			defer workers.Done()
			g.submitLoop(ctx, p, work, done, fail, stageOnly)
		}()
		go func() {
			defer recyclers.Done()
			g.recycleLoop(done, fail)
		}()
	}
feed:
	for {
		j, ok := nextJob()
		if !ok {
			break
		}
		select {
		case work <- j:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	workers.Wait()
	close(done)
	recyclers.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err() // the caller's cancellation
}

// submitLoop queues jobs until work closes or ctx ends; with stageOnly it
// stages chunks planned for registration.
func (g *GPU) submitLoop(ctx context.Context, p *pools, work <-chan job, done chan<- submitted, fail func(error), stageOnly bool) {
	unbind, err := g.bind()
	defer unbind()
	if err != nil {
		fail(err)
		return
	}
	for j := range work {
		if ctx.Err() != nil {
			continue // drain
		}
		if j.register && stageOnly {
			for _, seg := range splitSegment(j.segs[0], g.cfg.StagingBytes) {
				if !g.stage(ctx, p, []segment{seg}, done, fail) {
					break
				}
			}
			continue
		}
		if j.register {
			sub, err := g.submitRegistered(ctx, p, j.segs[0])
			if err == nil {
				done <- sub
				continue
			}
			if !errors.Is(err, errRegisterFailed) {
				fail(err)
				continue
			}
			// The runtime would not pin this chunk (a page shared with a
			// chunk registered elsewhere, memory it cannot pin): stage it.
			j.segs = splitSegment(j.segs[0], g.cfg.StagingBytes)
			for _, seg := range j.segs {
				if !g.stage(ctx, p, []segment{seg}, done, fail) {
					break
				}
			}
			continue
		}
		g.stage(ctx, p, j.segs, done, fail)
	}
}

// stage submits segs through a staging buffer; false when it failed.
func (g *GPU) stage(ctx context.Context, p *pools, segs []segment, done chan<- submitted, fail func(error)) bool {
	sub, err := g.submitStaged(ctx, p, segs)
	if err != nil {
		fail(err)
		return false
	}
	done <- sub
	return true
}

// splitSegment cuts seg into pieces of at most n bytes.
func splitSegment(seg segment, n uint64) []segment {
	var out []segment
	for len(seg.src) > 0 {
		k := min(n, uint64(len(seg.src)))
		out = append(out, seg.head(k))
		seg = seg.advance(k)
	}
	return out
}

var errRegisterFailed = errors.New("hip: host register failed")

// submitRegistered pins seg.src in place and queues its copy.
func (g *GPU) submitRegistered(ctx context.Context, p *pools, seg segment) (submitted, error) {
	s, err := take(ctx, p.register)
	if err != nil {
		return submitted{}, err
	}
	addr := addressOf(seg.src)
	n := uint64(len(seg.src))
	if !g.cfg.NoPopulate {
		populate(seg.src)
	}
	t0 := time.Now()
	code := g.rt.hostRegister(addr, n, g.rt.fl.registerReadOnly)
	g.stats.spent(&g.stats.s.RegisterNanos, int64(time.Since(t0)))
	if err := g.rt.check("HostRegister", code); err != nil {
		p.register <- s
		return submitted{}, fmt.Errorf("%w: %w", errRegisterFailed, err)
	}
	if err := g.rt.check("MemcpyAsync", g.rt.memcpyAsync(uintptr(seg.dst), addr, n, memcpyHostToDevice, s.stream)); err != nil {
		_ = g.rt.hostUnregister(addr)
		p.register <- s
		return submitted{}, err
	}
	if err := g.rt.check("EventRecord", g.rt.eventRecord(s.event, s.stream)); err != nil {
		_ = g.rt.streamSynchronize(s.stream)
		_ = g.rt.hostUnregister(addr)
		p.register <- s
		return submitted{}, err
	}
	return submitted{s: s, pool: p.register, path: PathRegister, bytes: n, regAddr: addr,
		segs: []segment{seg}}, nil
}

// submitStaged copies segs into a pinned buffer and queues one copy per run
// of segments contiguous on the device.
func (g *GPU) submitStaged(ctx context.Context, p *pools, segs []segment) (submitted, error) {
	s, err := take(ctx, p.staging)
	if err != nil {
		return submitted{}, err
	}
	var filled uint64
	p.fillers <- struct{}{}
	t0 := time.Now()
	for _, seg := range segs {
		if err := g.fill(s.buf[filled:filled+uint64(len(seg.src))], seg); err != nil {
			<-p.fillers
			p.staging <- s
			return submitted{}, err
		}
		filled += uint64(len(seg.src))
	}
	g.stats.spent(&g.stats.s.FillNanos, int64(time.Since(t0)))
	<-p.fillers
	var off uint64
	for i := 0; i < len(segs); {
		runDst := segs[i].dst
		runLen := uint64(len(segs[i].src))
		for i++; i < len(segs) && segs[i].dst == runDst+DevicePtr(runLen); i++ {
			runLen += uint64(len(segs[i].src))
		}
		if err := g.rt.check("MemcpyAsync", g.rt.memcpyAsync(uintptr(runDst), s.bufAddr+uintptr(off), runLen, memcpyHostToDevice, s.stream)); err != nil {
			_ = g.rt.streamSynchronize(s.stream)
			p.staging <- s
			return submitted{}, err
		}
		off += runLen
	}
	if err := g.rt.check("EventRecord", g.rt.eventRecord(s.event, s.stream)); err != nil {
		_ = g.rt.streamSynchronize(s.stream)
		p.staging <- s
		return submitted{}, err
	}
	return submitted{s: s, pool: p.staging, path: PathStaged, bytes: filled, segs: segs}, nil
}

// fill copies seg's source bytes into dst (len(dst) == len(seg.src)): by
// pread from its file where it has one, else from the mapping.
func (g *GPU) fill(dst []byte, seg segment) error {
	if seg.file != nil {
		return preadFull(seg.file, dst, seg.off)
	}
	if !g.cfg.NoPopulate && len(seg.src) >= populateMin {
		populate(seg.src)
	}
	_, err := copyFromSource(dst, seg.src)
	return err
}

// recycleLoop waits for each submitted job, unpins its chunk and returns its
// slot to the pool.
func (g *GPU) recycleLoop(done <-chan submitted, fail func(error)) {
	unbind, err := g.bind()
	defer unbind()
	if err != nil {
		fail(err)
	}
	for sub := range done {
		err := g.rt.check("EventSynchronize", g.rt.eventSynchronize(sub.s.event))
		if err != nil {
			// Never hand back a slot whose copy may still run.
			_ = g.rt.streamSynchronize(sub.s.stream)
			fail(err)
		}
		if sub.regAddr != 0 {
			t0 := time.Now()
			code := g.rt.hostUnregister(sub.regAddr)
			g.stats.spent(&g.stats.s.UnregisterNanos, int64(time.Since(t0)))
			if uerr := g.rt.check("HostUnregister", code); uerr != nil {
				fail(uerr)
			}
		}
		runtime.KeepAlive(sub.segs)
		sub.pool <- sub.s
		if err == nil {
			g.stats.pathBytes(sub.path, sub.bytes)
			for _, seg := range sub.segs {
				seg.landing.arrived(uint64(len(seg.src)))
			}
		}
	}
}

// uploadPlain is the last resort: a synchronous pageable copy per entry.
func (g *GPU) uploadPlain(ctx context.Context, pl *planner) error {
	unbind, err := g.bind()
	defer unbind()
	if err != nil {
		return err
	}
	for !pl.ended {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("%s: upload: %w", g, err)
		}
		pc, ok := pl.next()
		if !ok {
			break
		}
		l := newLanding(pc)
		pl.landings = append(pl.landings, l)
		if pc.Src.Len() == 0 {
			l.report(nil)
			continue
		}
		if pl.check != nil {
			if err := pl.check(pc.Copy); err != nil {
				return fmt.Errorf("%s: upload %d: %w", g, len(pl.landings), err)
			}
		}
		// The runtime reads the source in C, where a fault would kill the
		// process: find a truncated mapping here first.
		if err := touchSource(pc.Src.Bytes()); err != nil {
			return fmt.Errorf("%s: upload %d: %w", g, len(pl.landings), err)
		}
		err := g.rt.check("Memcpy", g.rt.memcpy(uintptr(pc.Dst), addressOf(pc.Src.Bytes()), uint64(pc.Src.Len()), memcpyHostToDevice))
		runtime.KeepAlive(pc.Src.Bytes())
		if err != nil {
			return fmt.Errorf("%s: upload %d: %w", g, len(pl.landings), err)
		}
		g.stats.pathBytes(PathPlain, uint64(pc.Src.Len()))
		pl.copies++
		pl.bytes += uint64(pc.Src.Len())
		l.arrived(uint64(pc.Src.Len()))
	}
	g.stats.uploaded(pl.copies, pl.bytes)
	return nil
}
