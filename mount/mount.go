// Package mount assembles a ggufs mount: it checks the mountpoint, opens the
// model, the device backend and the cache, wires the cache's evictions to
// the kernel's page cache, builds the tree, mounts it, and releases all of it
// in reverse order. The command line, the benchmarks and the end-to-end
// tests all mount through it.
package mount

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/ggufs/ggufs/cache"
	"github.com/ggufs/ggufs/fs"
	"github.com/ggufs/ggufs/gguf"
	"github.com/ggufs/ggufs/hip"
	"github.com/ggufs/ggufs/internal/units"
	"github.com/ggufs/ggufs/share"
)

// CacheSize is how much device memory the tensors may take: Bytes, or else
// a Fraction of the device's free memory (both zero: the cache's default).
type CacheSize struct {
	Bytes    uint64
	Fraction float64
}

// Options are a mount's choices.
type Options struct {
	// Backend selects the GPU runtime when OpenDevice is nil.
	Backend   hip.Options
	CacheSize CacheSize
	// ReadPoolBytes caps the host memory of all open data files' read-ahead
	// windows together (0: fs.DefaultReadPoolBytes of the cache's budget).
	ReadPoolBytes int64
	// OpenDevice opens the device the cache uploads to (nil: OpenBackend
	// with Backend). It is the one step that may take seconds (a GPU
	// runtime's start), so it runs in the background while the tree is
	// served: reads that need the device wait for it, and fail with its
	// error if it does not open. Only the host backend chosen by name is
	// opened before mounting (it has no runtime to start, and a bad option
	// then refuses the mount).
	OpenDevice DeviceOpener
	// AllowOther lets users other than the mounting one read the tree.
	AllowOther bool
	// Debug logs every FUSE request and every GPU runtime tried.
	Debug bool
	// Events, when set, receives structured records (log/slog) of what the
	// mount does: mounted and unmounted (info), each eviction (info), and the
	// failures the tree turns into EIO (error). Apart from Debug's FUSE traces.
	Events *slog.Logger
	// NonEmpty mounts over a mountpoint that holds files (hiding them);
	// without it such a mountpoint is refused (ErrNotEmpty).
	NonEmpty bool
	// Log receives diagnostics: skipped runtimes, errors the tree maps to
	// EIO (nil: os.Stderr).
	Log io.Writer
	// Share configures the socket that lets other processes map the
	// tensors' device memory (share.go).
	Share ShareOptions
}

// Mount is a live mount and everything it holds.
type Mount struct {
	File   string // the model, absolute (a split model's first shard)
	Dir    string // the mountpoint, absolute
	Model  *gguf.Model
	Device hip.Backend // "starting" until its runtime has opened (DeviceReady)
	Cache  *cache.Cache
	Root   *fs.Root
	Share  *share.Server // nil when not sharing

	log            io.Writer
	starting       *startingDevice // Device
	budgetFraction float64         // Options.CacheSize.Fraction, for Summary
	server         *fuse.Server
	served         chan struct{} // closed when the kernel has ended the mount
	total          uint64        // bytes of tensor data
	closed         bool
}

// Open mounts model on mountpoint and returns once the kernel serves it.
// On failure everything opened so far is released.
func Open(model, mountpoint string, o Options) (_ *Mount, err error) {
	if o.Log == nil {
		o.Log = os.Stderr
	}
	if err := CheckFuseDevice(); err != nil {
		return nil, err
	}
	dir, err := CheckMountpoint(mountpoint)
	if err != nil {
		return nil, err
	}
	if !o.NonEmpty {
		if err := checkEmpty(dir); err != nil {
			return nil, err
		}
	}
	// Absolute, so that stats.json and user.ggufs.shard name the file for
	// readers in any directory.
	if abs, err := filepath.Abs(model); err == nil {
		model = abs
	}
	m := &Mount{File: model, Dir: dir, log: o.Log, budgetFraction: o.CacheSize.Fraction}
	defer func() {
		if err != nil {
			err = errors.Join(err, m.Close())
		}
	}()
	if m.Model, err = gguf.OpenModel(model); err != nil {
		return nil, err
	}
	for _, t := range m.Model.Tensors {
		m.total += t.Size
	}
	open := o.OpenDevice
	if open == nil {
		open = OpenBackend(o.Backend, o.CacheSize, o.Log, o.Debug)
	}
	background := o.OpenDevice != nil || o.Backend.Backend != hip.BackendHost
	m.starting = startDevice(open, m.total, m.deviceOpened(o, background))
	m.Device = m.starting
	if !background {
		if _, err := m.starting.device(); err != nil {
			return nil, err
		}
	}
	if err := m.build(o); err != nil {
		return nil, err
	}
	// A budget that is a share of free device memory is known once the
	// device is open; the cache refuses a tensor larger than it then.
	if budget, ok := m.Cache.BudgetKnown(); ok {
		if err := checkBudget(budget, m.Model.Tensors); err != nil {
			return nil, err
		}
	}
	server, err := fs.Mount(dir, m.Root, fs.MountOptions{AllowOther: o.AllowOther, Debug: o.Debug, Logger: m.logger()})
	if err != nil {
		return nil, fmt.Errorf("mounting on %s: %w", dir, err)
	}
	m.server, m.served = server, make(chan struct{})
	if o.Events != nil {
		budget, _ := m.Cache.BudgetKnown()
		o.Events.Info("mounted", "model", model, "dir", dir, "device", m.Device.String(),
			"tensors", len(m.Model.Tensors), "bytes", m.total, "budget_bytes", budget)
	}
	go func() { // ends when the kernel ends the mount; Close waits for it
		server.Wait()
		if o.Events != nil {
			o.Events.Info("unmounted", "dir", dir)
		}
		close(m.served)
	}()
	return m, nil
}

// deviceOpened reports a device opened in the background once it is known:
// which one and how long it took, or why the tree's data cannot be read.
func (m *Mount) deviceOpened(o Options, background bool) func(hip.Backend, time.Duration, error) {
	return func(dev hip.Backend, took time.Duration, err error) {
		if !background {
			return // the mount waits for it and reports it
		}
		if err != nil {
			fmt.Fprintf(m.log, "ggufs: %v: reads of tensor data fail (EIO) until remounted\n", err)
			if o.Events != nil {
				o.Events.Error("device failed", "err", err)
			}
			return
		}
		fmt.Fprintf(m.log, "ggufs: device %s open %d ms after starting\n", dev, took.Milliseconds())
		if o.Events != nil {
			o.Events.Info("device open", "device", dev.String(), "seconds", took.Seconds())
		}
	}
}

// DeviceReady waits until the device has opened (or ctx ends) and returns
// it, or why it did not open.
func (m *Mount) DeviceReady(ctx context.Context) (hip.Backend, error) {
	return m.starting.Wait(ctx)
}

// build makes the cache and the tree, every eviction dropping the kernel's
// cached pages of the tensor so that no read is served stale bytes' pages
// after the device copy is gone.
func (m *Mount) build(o Options) error {
	var root *fs.Root // the eviction callback needs the root, the root the cache
	var err error
	m.Cache, err = cache.New(m.Device, cache.TensorsFromModel(m.Model), cache.Options{
		Budget:         o.CacheSize.Bytes,
		BudgetFraction: o.CacheSize.Fraction,
		OnEvict: func(name string) {
			root.OnEvict(name)
			if o.Events != nil {
				o.Events.Info("evicted", "tensor", name)
			}
		},
		OnUpload: func(name string, bytes uint64, err error) {
			switch {
			case o.Events == nil:
			case err != nil:
				o.Events.Warn("upload failed", "tensor", name, "bytes", bytes, "err", err)
			default:
				o.Events.Info("uploaded", "tensor", name, "bytes", bytes)
			}
		},
	})
	if err != nil {
		return err
	}
	var sharing fs.Sharing
	if !o.Share.Off {
		m.Share, err = m.startSharing(o)
		switch {
		case err != nil && o.Share.Socket != "":
			return err
		case err != nil:
			// The default place failed (no runtime or temporary
			// directory of ours): the mount still serves files.
			fmt.Fprintf(m.log, "ggufs: not sharing device memory with other processes: %v\n", err)
			m.Share = nil
		default:
			sharing = m.Share
		}
	}
	dev := m.Device
	readPool := o.ReadPoolBytes
	if _, known := m.Cache.BudgetKnown(); readPool == 0 && !known {
		// Asking the budget would wait for the device: size the pool
		// from the model, more than which the cache never holds.
		readPool = fs.DefaultReadPoolBytes(m.total)
	}
	root, err = fs.New(fs.Config{
		Model:         m.Model,
		Cache:         m.Cache,
		DeviceName:    dev.String,
		BackendStats:  dev.Stats,
		Logger:        m.treeLogger(o.Events),
		Sharing:       sharing,
		ReadPoolBytes: readPool,
	})
	if err != nil {
		return err
	}
	m.Root = root
	return nil
}

func (m *Mount) logger() *log.Logger { return log.New(m.log, "ggufs: ", log.LstdFlags) }

// treeLogger is where the tree reports the failures it turns into EIO: the
// structured log at error level when there is one.
func (m *Mount) treeLogger(events *slog.Logger) *log.Logger {
	if events == nil {
		return m.logger()
	}
	return slog.NewLogLogger(events.Handler(), slog.LevelError)
}

// Summary is the one line that says what is mounted where.
func (m *Mount) Summary() string {
	shards := ""
	if n := len(m.Model.Shards); n > 1 {
		shards = fmt.Sprintf(" (%d shards)", n)
	}
	return fmt.Sprintf("mounted %s%s on %s: %d tensors, %s, device %s, cache %s",
		m.File, shards, m.Dir, len(m.Model.Tensors), units.Text(m.total), m.Device, m.budgetText())
}

// budgetText is the cache's budget, or the share of free device memory it
// will be once the device is open.
func (m *Mount) budgetText() string {
	if b, ok := m.Cache.BudgetKnown(); ok {
		return units.Text(b)
	}
	if f := m.budgetFraction; f > 0 {
		return fmt.Sprintf("%g%% of free device memory", f*100)
	}
	return "a share of free device memory"
}

// Prefetch uploads every tensor the tree serves that can be uploaded,
// reporting bytes landed so far to progress (nil: none).
func (m *Mount) Prefetch(ctx context.Context, progress func(done, total uint64)) error {
	if _, err := m.starting.Wait(ctx); err != nil {
		return fmt.Errorf("prefetch: %w", err)
	}
	return m.Cache.LoadAll(ctx, m.Root.LoadableTensors(), progress)
}

// Wait blocks until the kernel has ended the mount (ggufs unmount, umount,
// or Unmount).
func (m *Mount) Wait() { <-m.served }

// Serve waits until the mount ends from outside or ctx is done, when it
// unmounts; then it releases everything and returns every error met.
func (m *Mount) Serve(ctx context.Context) error {
	var err error
	select {
	case <-m.served:
	case <-ctx.Done():
		err = m.Unmount()
	}
	return errors.Join(err, m.Close())
}

// Close unmounts if still mounted, waits for the tree's background work, and
// releases cache, device and model in reverse order of acquisition. It
// returns every error met, the cache's report of a broken invariant
// included. Later calls return nil.
func (m *Mount) Close() error {
	if m.closed {
		return nil
	}
	m.closed = true
	if m.starting != nil {
		// An open still pending gives up (the runtime allows): reads
		// waiting for it fail, so that unmounting does not wait on them.
		m.starting.cancel()
	}
	var errs []error
	if m.server != nil {
		select {
		case <-m.served:
		default:
			errs = append(errs, m.Unmount())
		}
		<-m.served
	}
	if m.Root != nil {
		m.Root.Wait()
	}
	if m.Share != nil {
		// Consumers' holds end here; what they mapped stays theirs.
		if err := m.Share.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	if m.Cache != nil {
		if err := m.Cache.Close(); err != nil {
			errs = append(errs, fmt.Errorf("closing the cache: %w", err))
		}
	}
	if m.Device != nil {
		if err := m.Device.Close(); err != nil {
			errs = append(errs, fmt.Errorf("closing device %s: %w", m.Device, err))
		}
	}
	if m.Model != nil {
		if err := m.Model.Close(); err != nil {
			errs = append(errs, fmt.Errorf("closing %s: %w", m.File, err))
		}
	}
	return errors.Join(errs...)
}
