package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/ggufs/ggufs/cache"
	ggufsfs "github.com/ggufs/ggufs/fs"
	"github.com/ggufs/ggufs/gguf"
	"github.com/ggufs/ggufs/hip"
)

func mountCommand() *cli.Command {
	return &cli.Command{
		Name:      "mount",
		Usage:     "mount a GGUF model as a filesystem whose tensor files are served from GPU memory",
		ArgsUsage: "FILE MOUNTPOINT",
		Description: `Parses only FILE's header, mounts it on MOUNTPOINT and serves it in the
foreground until SIGINT (Ctrl-C), SIGTERM, SIGHUP, "ggufs unmount MOUNTPOINT" or
"umount MOUNTPOINT"; then it unmounts and frees the device memory. A split
model (NAME-00001-of-00003.gguf) mounts from its first shard as one tree.

The tree:
   metadata/<key>        one file per metadata key; arrays one element a line
   metadata.json         all metadata as JSON, in file order
   tensors/<name>/data   the tensor's bytes; the first read uploads the whole
                         tensor to the device, reads are served from there
   tensors/<name>/data.npy   numpy header + bytes (f32, f16, f64, i8-i64)
   tensors/<name>/{shape,dtype,status}
   stats.json            cache and upload counters

Extended attributes on each tensor directory and data file: user.ggufs.shape,
dtype, status, nbytes, offset, device, shard. Setting user.ggufs.load uploads
the tensor; setting user.ggufs.evict drops it from the device.

Prints one line saying what was mounted on which device. The tree is
read-only; only the mounting user may enter it unless --allow-other.

Examples:
   ggufs mount model.gguf /mnt/m
   ggufs mount --backend cuda --device 1 --cache-size 20GiB model.gguf /mnt/m
   ggufs mount --prefetch model-00001-of-00002.gguf /mnt/m
   getfattr -d /mnt/m/tensors/output.weight
   setfattr -n user.ggufs.load -v 1 /mnt/m/tensors/output.weight`,
		Flags: append(gpuBackendFlags(),
			&cli.StringFlag{Name: "cache-size", Value: "80%", Usage: "device memory the tensors may take: a size (8GiB, 512MiB) or a share of the device's free memory (80%); least recently used tensors are evicted beyond it"},
			&cli.BoolFlag{Name: "prefetch", Usage: "upload every tensor right after mounting (with progress on stderr) instead of on first read"},
			&cli.BoolFlag{Name: "allow-other", Usage: "let other users read the tree (needs user_allow_other in /etc/fuse.conf when not root)"},
			&cli.BoolFlag{Name: "debug", Usage: "log every FUSE request and every GPU runtime tried to stderr"},
		),
		Action: runMount,
	}
}

// mountConfig is what the command line asked for, validated.
type mountConfig struct {
	file, dir  string
	backend    hip.Options
	size       cacheSize
	prefetch   bool
	allowOther bool
	debug      bool
}

func mountArgs(c *cli.Context) (mountConfig, error) {
	if c.NArg() != 2 {
		return mountConfig{}, usageError{fmt.Sprintf("mount takes FILE and MOUNTPOINT (got %d arguments)", c.NArg())}
	}
	backend, err := gpuBackendOptions(c)
	if err != nil {
		return mountConfig{}, err
	}
	size, err := parseCacheSize(c.String("cache-size"))
	if err != nil {
		return mountConfig{}, usageError{err.Error()}
	}
	return mountConfig{
		file: c.Args().Get(0), dir: c.Args().Get(1), backend: backend, size: size,
		prefetch: c.Bool("prefetch"), allowOther: c.Bool("allow-other"), debug: c.Bool("debug"),
	}, nil
}

func runMount(c *cli.Context) error {
	cfg, err := mountArgs(c)
	if err != nil {
		return err
	}
	// Catch signals from the start: one arriving while mounting must still
	// end in a clean unmount, never in a stale mount.
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP) // SIGHUP: a closed terminal must not leave a stale mount
	defer signal.Stop(signals)
	// A closed stdout (ggufs mount ... | head -1) must not kill the server
	// and leave a stale mount: writes then fail instead.
	signal.Ignore(syscall.SIGPIPE)

	stderr := c.App.ErrWriter
	if stderr == nil {
		stderr = os.Stderr
	}
	m, err := startMount(cfg, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintln(c.App.Writer, m.summary())
	return m.serve(signals, stderr)
}

// mounted is a live mount and everything it holds, closed in reverse order.
type mounted struct {
	cfg    mountConfig
	model  *gguf.Model
	dev    hip.Backend
	cache  *cache.Cache
	root   *ggufsfs.Root
	server fuseServer
	total  uint64 // bytes of tensor data
}

// startMount checks the inputs, opens model, device and cache, and mounts.
func startMount(cfg mountConfig, stderr io.Writer) (_ *mounted, err error) {
	if err := checkFuseDevice(); err != nil {
		return nil, err
	}
	dir, err := checkMountpoint(cfg.dir)
	if err != nil {
		return nil, err
	}
	cfg.dir = dir
	m := &mounted{cfg: cfg}
	defer func() {
		if err != nil {
			m.close()
		}
	}()

	// Absolute, so that stats.json and user.ggufs.shard name the file for
	// readers in any directory.
	if abs, err := filepath.Abs(cfg.file); err == nil {
		cfg.file = abs
	}
	if m.model, err = gguf.OpenModel(cfg.file); err != nil {
		return nil, err
	}
	for _, t := range m.model.Tensors {
		m.total += t.Size
	}
	cfg.backend.HostCapacity = hostCapacity(cfg.size, m.total)
	dev, rep, err := hip.Open(cfg.backend)
	reportBackends(stderr, rep, cfg.debug, dev)
	if err != nil {
		return nil, err
	}
	m.dev = dev

	var root *ggufsfs.Root // the eviction callback needs the root, the root the cache
	m.cache, err = cache.New(dev, cache.TensorsFromModel(m.model), cache.Options{
		Budget:         cfg.size.bytes,
		BudgetFraction: cfg.size.fraction,
		OnEvict:        func(name string) { root.OnEvict(name) },
	})
	if err != nil {
		return nil, err
	}
	logger := log.New(stderr, "ggufs: ", log.LstdFlags)
	root, err = ggufsfs.New(ggufsfs.Config{
		Model:        m.model,
		Cache:        m.cache,
		Device:       dev.String(),
		BackendStats: func() any { return dev.Stats() },
		Logger:       logger,
	})
	if err != nil {
		return nil, err
	}
	m.root = root
	server, err := ggufsfs.Mount(cfg.dir, root, ggufsfs.MountOptions{AllowOther: cfg.allowOther, Debug: cfg.debug, Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("mounting on %s: %w", cfg.dir, err)
	}
	m.server = server
	return m, nil
}

// hostCapacity sizes the host backend, which emulates a device in RAM: the
// cache size when given in bytes, else large enough that the share of it the
// cache may take holds the whole model with room for arena tails (memory
// is only taken as tensors load), at least the default.
func hostCapacity(size cacheSize, modelBytes uint64) uint64 {
	if size.bytes > 0 {
		return max(size.bytes, hip.DefaultHostCapacity)
	}
	want := modelBytes + modelBytes/8
	if size.fraction > 0 && size.fraction < 1 {
		want = uint64(float64(want) / size.fraction)
	}
	return max(want, hip.DefaultHostCapacity)
}

// reportBackends says which runtimes were skipped and why: every attempt with
// --debug, otherwise one line when auto fell back to host memory.
func reportBackends(w io.Writer, rep *hip.Report, debug bool, chosen hip.Backend) {
	if rep == nil {
		return
	}
	var skipped []string
	for _, a := range rep.Attempts {
		if a.Skipped == "" {
			continue
		}
		skipped = append(skipped, a.Backend+": "+a.Skipped)
		if debug {
			fmt.Fprintf(w, "ggufs: backend %s skipped: %s\n", a.Backend, a.Skipped)
		}
	}
	if !debug && chosen != nil && chosen.Kind() == hip.BackendHost && len(skipped) > 0 {
		fmt.Fprintf(w, "ggufs: no GPU runtime (%s); serving from host memory\n", strings.Join(skipped, "; "))
	}
}

// summary is the one line mount prints.
func (m *mounted) summary() string {
	shards := ""
	if n := len(m.model.Shards); n > 1 {
		shards = fmt.Sprintf(" (%d shards)", n)
	}
	return fmt.Sprintf("mounted %s%s on %s: %d tensors, %s, device %s, cache %s",
		m.cfg.file, shards, m.cfg.dir, len(m.model.Tensors), bytesText(m.total), m.dev, bytesText(m.cache.Budget()))
}

// close releases in reverse order of acquisition; the device memory goes
// with the cache and the backend.
func (m *mounted) close() {
	if m.root != nil {
		m.root.Wait()
	}
	if m.cache != nil {
		m.cache.Close()
	}
	if m.dev != nil {
		m.dev.Close()
	}
	if m.model != nil {
		m.model.Close()
	}
}

// prefetch uploads every tensor, showing progress on w.
func (m *mounted) prefetch(ctx context.Context, w io.Writer) error {
	names := make([]string, 0, len(m.model.Tensors))
	var total uint64
	for _, t := range m.model.Tensors {
		if m.root.Tensor(t.Name) && t.Uploadable() == nil {
			names = append(names, t.Name)
			total += t.Size
		}
	}
	p := newUploadProgress(w, "prefetch", total)
	err := m.cache.LoadAll(ctx, names, func(done, _ uint64) { p.Update(done) })
	p.Finish(err)
	return err
}
