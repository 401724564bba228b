package fs

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"sync"
	"syscall"
	"time"

	"github.com/ggufs/ggufs/cache"
	"github.com/ggufs/ggufs/mount/ctl"
)

// load makes t resident (user.ggufs.load).
func (r *Root) load(ctx context.Context, t *tensorEntry) syscall.Errno {
	// Like a read, an interrupted setfattr must not cancel a shared upload.
	err := r.cfg.Cache.LoadAll(context.WithoutCancel(ctx), []string{t.info.Name}, nil)
	return toErrno(r.log, "load", t.info.Name, err)
}

// loadAllState tracks the background load of every tensor that
// user.ggufs.load on the root starts. It runs in the background because the
// kernel holds the root's lock for as long as a setxattr on it takes, which
// would stall every listing and lookup in the mount.
type loadAllState struct {
	mu      sync.Mutex
	started bool
	report  ctl.LoadAll // the latest load's, for stats.json
	cancel  context.CancelFunc
	done    sync.WaitGroup
}

// startLoadAll starts loading every tensor that can be uploaded, in file
// order through one LoadAll (the backend's pipelined rate, not a tensor at a
// time), unless such a load is already running.
func (r *Root) startLoadAll() {
	l := &r.loadAll
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.report.Running {
		return
	}
	names := r.LoadableTensors()
	ctx, cancel := context.WithCancel(context.Background())
	l.begin(cancel, len(r.tensors)-len(names))
	l.done.Add(1)
	go func() { // ends with the load; stop cancels it
		defer l.done.Done()
		defer cancel()
		_, err := r.cfg.Cache.Load(ctx, names, cache.LoadOptions{Progress: l.progress, Report: true})
		if err != nil {
			r.log.Printf("fs: loading every tensor: %v", err)
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		l.report.Running = false
		if err != nil {
			l.report.Error = err.Error()
		}
	}()
}

// begin starts a new load's report, its bytes from zero whatever the last
// load reached; l.mu is held.
func (l *loadAllState) begin(cancel context.CancelFunc, skipped int) {
	l.started, l.cancel = true, cancel
	l.report = ctl.LoadAll{Running: true, Skipped: skipped}
}

// progress records the running load's bytes (a cache.LoadAll callback).
func (l *loadAllState) progress(done, total uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.report.BytesDone = max(l.report.BytesDone, done)
	l.report.BytesTotal = total
}

// LoadableTensors names, in file order, the tensors the tree serves that
// can be uploaded (their type has a known layout): what loading everything
// loads.
func (r *Root) LoadableTensors() []string {
	names := make([]string, 0, len(r.tensors))
	for _, t := range r.tensors {
		if t.Uploadable() == nil {
			names = append(names, t.Name)
		}
	}
	return names
}

// status is the load's report for stats.json; nil when none was started.
func (l *loadAllState) status() *ctl.LoadAll {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.started {
		return nil
	}
	r := l.report
	return &r
}

// timed adds the cache's account of the load (cs) to its report r: time,
// rate and, once it has ended, its result.
func timed(r *ctl.LoadAll, cs *cache.LoadAllStats) *ctl.LoadAll {
	if r == nil || cs == nil {
		return r
	}
	r.ElapsedSeconds, r.GBPerSecond = cs.ElapsedSeconds, cs.GBPerSecond
	if !r.Running {
		r.Result = cs.Result
	}
	return r
}

// cancelRunning cancels the running load (user.ggufs.cancel on the root);
// what has landed stays resident.
func (l *loadAllState) cancelRunning() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.report.Running && l.cancel != nil {
		l.cancel()
	}
}

// stop cancels a running load and waits for it to end.
func (l *loadAllState) stop() {
	l.mu.Lock()
	if l.cancel != nil {
		l.cancel()
	}
	l.mu.Unlock()
	l.done.Wait()
}

// evictWait bounds how long user.ggufs.evict waits for the kernel to drop
// the tensor's cached pages; the drop itself runs on its own goroutine.
const evictWait = 5 * time.Second

// releaseWait bounds how long user.ggufs.evict waits for pins to go: the
// kernel sends a file's release after close(2) has returned, so a tensor
// read by `cat` just before is briefly still pinned.
const releaseWait = 500 * time.Millisecond

// evict drops t from the device (user.ggufs.evict) and from the kernel's
// page cache, so that the next read uploads again.
func (r *Root) evict(t *tensorEntry) syscall.Errno {
	deadline := time.Now().Add(releaseWait)
	for {
		err := r.cfg.Cache.Evict(t.info.Name)
		if err == nil {
			break
		}
		if !errors.Is(err, cache.ErrPinned) || time.Now().After(deadline) {
			return toErrno(r.log, "evict", t.info.Name, err)
		}
		time.Sleep(time.Millisecond)
	}
	r.inval.await(r.inval.invalidate(t), evictWait)
	return 0
}

// OnEvict is the cache's eviction callback (cache.Options.OnEvict): it drops
// the kernel's cached pages of the tensor. It may be called with the cache's
// locks held and from inside a FUSE request, so it only starts the work.
// A nil Root ignores the call, so the callback can be wired before New.
func (r *Root) OnEvict(name string) {
	if r == nil {
		return
	}
	if t, ok := r.lookupTensor(name); ok {
		r.inval.invalidate(t)
	}
}

// writeMetadataJSON renders metadata.json: one object, keys in file order.
func (r *Root) writeMetadataJSON(w io.Writer) error {
	// Written as it goes (gguf's WriteJSON): never the whole document and
	// an indented copy of it at once.
	return r.cfg.Model.Metadata.WriteJSON(w)
}

// deviceName names the device as of now (Config.DeviceName).
func (r *Root) deviceName() string {
	if r.cfg.DeviceName != nil {
		return r.cfg.DeviceName()
	}
	return r.cfg.Device
}

func (r *Root) statsJSON() []byte {
	cs := r.cfg.Cache.Stats()
	s := ctl.Stats{Model: r.cfg.Model.Shards[0].Path, Device: r.deviceName(), Tensors: len(r.tensors), Cache: cs,
		LoadAll: timed(r.loadAll.status(), cs.LoadAll), ReadPool: r.windows.snapshot()}
	if cs.UploadSeconds > 0 {
		s.UploadGBps = float64(cs.UploadedBytes) / cs.UploadSeconds / 1e9
	}
	if r.cfg.BackendStats != nil {
		b := r.cfg.BackendStats()
		s.Backend = &b
	}
	if r.cfg.Sharing != nil {
		sh := r.cfg.Sharing.Stats()
		s.Sharing = &sh
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		r.log.Printf("fs: stats.json: %v", err)
		return []byte("{}\n")
	}
	return append(b, '\n')
}
