package fs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"sync"
	"syscall"
	"time"

	"github.com/ggufs/ggufs/cache"
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
	running bool
	err     string
	cancel  context.CancelFunc
	done    sync.WaitGroup
}

// loadAllStatus is the load's report in stats.json.
type loadAllStatus struct {
	Running bool   `json:"running"`
	Error   string `json:"error,omitempty"`
}

// startLoadAll starts loading every tensor that can be uploaded, in file
// order through one LoadAll (the backend's pipelined rate, not a tensor at a
// time), unless such a load is already running.
func (r *Root) startLoadAll() {
	l := &r.loadAll
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.running {
		return
	}
	names := make([]string, 0, len(r.tensors))
	for _, t := range r.tensors {
		if t.info.Uploadable() == nil {
			names = append(names, t.info.Name)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	l.started, l.running, l.err, l.cancel = true, true, "", cancel
	l.done.Add(1)
	go func() {
		defer l.done.Done()
		defer cancel()
		err := r.cfg.Cache.LoadAll(ctx, names, nil)
		if err != nil {
			r.log.Printf("fs: loading every tensor: %v", err)
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		l.running = false
		if err != nil {
			l.err = err.Error()
		}
	}()
}

// status is the load's state for stats.json; nil when none was started.
func (l *loadAllState) status() *loadAllStatus {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.started {
		return nil
	}
	return &loadAllStatus{Running: l.running, Error: l.err}
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
	select {
	case <-r.inval.invalidate(t):
	case <-time.After(evictWait):
	}
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
	if t, ok := r.byName[name]; ok {
		r.inval.invalidate(t)
	}
}

// writeMetadataJSON renders metadata.json: one object, keys in file order.
func (r *Root) writeMetadataJSON(w io.Writer) error {
	var b bytes.Buffer
	b.WriteByte('{')
	i := 0
	for key, v := range r.cfg.Model.Metadata.All() {
		if i > 0 {
			b.WriteByte(',')
		}
		i++
		k, err := json.Marshal(key)
		if err != nil {
			return err
		}
		val, err := v.MarshalJSON()
		if err != nil {
			return err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(val)
	}
	b.WriteByte('}')
	var out bytes.Buffer
	if err := json.Indent(&out, b.Bytes(), "", "  "); err != nil {
		return err
	}
	out.WriteByte('\n')
	_, err := out.WriteTo(w)
	return err
}

// stats is stats.json's content.
type stats struct {
	Model   string `json:"model"` // the file mounted (a split model's first shard)
	Device  string `json:"device"`
	Tensors int    `json:"tensors"`
	// UploadGBps is the cache's upload rate so far: bytes over the time
	// spent in uploads.
	UploadGBps float64 `json:"upload_gb_per_s"`
	Cache      any     `json:"cache"`
	Backend    any     `json:"backend,omitempty"`
	// LoadAll reports the load user.ggufs.load on the root started.
	LoadAll *loadAllStatus `json:"load_all,omitempty"`
}

func (r *Root) statsJSON() []byte {
	cs := r.cfg.Cache.Stats()
	s := stats{Model: r.cfg.Model.Shards[0].Path, Device: r.cfg.Device, Tensors: len(r.tensors), Cache: cs,
		LoadAll: r.loadAll.status()}
	if cs.UploadSeconds > 0 {
		s.UploadGBps = float64(cs.UploadedBytes) / cs.UploadSeconds / 1e9
	}
	if r.cfg.BackendStats != nil {
		s.Backend = r.cfg.BackendStats()
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		r.log.Printf("fs: stats.json: %v", err)
		return []byte("{}\n")
	}
	return append(b, '\n')
}
