package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/ggufs/ggufs/internal/eventlog"
	"github.com/ggufs/ggufs/internal/progress"
	"github.com/ggufs/ggufs/mount"
)

func mountCommand() *cli.Command {
	return &cli.Command{
		Name:      "mount",
		Usage:     "mount a GGUF model as a filesystem whose tensor files are served from GPU memory",
		ArgsUsage: "FILE MOUNTPOINT",
		Description: `Parses only FILE's header, mounts it on MOUNTPOINT and serves it in the
foreground until SIGINT (Ctrl-C), SIGTERM, SIGHUP, SIGQUIT, "ggufs unmount
MOUNTPOINT" or "umount MOUNTPOINT"; then it unmounts and frees the device
memory. SIGKILL cannot be caught: it leaves a stale mount ("Transport endpoint
is not connected") that "ggufs unmount MOUNTPOINT" clears. A split
model (NAME-00001-of-00003.gguf) mounts from its first shard as one tree.

The tree:
   metadata/<key>        one file per metadata key; arrays one element a line
   metadata.json         all metadata as JSON, in file order
   tensors/<name>/data   the tensor's bytes; the first read uploads the whole
                         tensor to the device, reads are served from there
   tensors/<name>/data.npy   numpy header + bytes (f32, f16, f64, i8-i64)
   tensors/<name>/{shape,dtype,status}
   tensors/<name>/ipc    where the tensor's device copy is, for other processes
   ipc.json              the same for every tensor (docs/sharing.md)
   stats.json            cache and upload counters

Other processes map the device copy, without copying, through a unix socket
that the mount serves (named in ipc.json; --share-socket to choose it,
--no-share for none).

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
			&cli.StringFlag{Name: "read-pool", Usage: "host memory that all open data files' read-ahead windows may take together, a size (256MiB); a reader that finds it spent reads without a window (default: a sixteenth of the cache size, from 8MiB to 1GiB)"},
			&cli.BoolFlag{Name: "prefetch", Usage: "upload every tensor right after mounting (with progress on stderr) instead of on first read"},
			&cli.BoolFlag{Name: "allow-other", Usage: "let other users read the tree (needs user_allow_other in /etc/fuse.conf when not root)"},
			&cli.BoolFlag{Name: "debug", Usage: "log every FUSE request and every GPU runtime tried to stderr"},
			&cli.StringFlag{Name: "share-socket", Usage: "the unix socket through which other processes map the tensors' device memory (default: in the runtime directory)", TakesFile: true},
			&cli.BoolFlag{Name: "no-share", Usage: "serve no sharing socket and no ipc files"},
			&cli.StringFlag{Name: "log-level", Usage: "log mounts, uploads, evictions (info), failed uploads (warn) and failures turned into EIO (error) as structured records at this level and above: debug, info, warn, error (apart from --debug's FUSE traces)"},
			&cli.BoolFlag{Name: "nonempty", Usage: "mount over a directory that holds files (they are hidden until unmounted)"},
			&cli.BoolFlag{Name: "daemon", Aliases: []string{"background"}, Usage: "serve in the background: return once the mount is ready, logging to --log-file"},
			&cli.StringFlag{Name: "log-file", Usage: "where --daemon logs (default /var/log/ggufs/MOUNTPOINT.log for root, else ~/.local/state/ggufs/)", TakesFile: true},
		),
		Action: runMount,
	}
}

// endSignals are the signals that end a mount: each unmounts cleanly.
// SIGHUP: a closed terminal; SIGQUIT: Ctrl-\ (which would otherwise dump
// goroutines and leave a stale mount). SIGKILL cannot be caught.
var endSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT}

func mountOptions(c *cli.Context) (file, dir string, o mount.Options, err error) {
	if c.NArg() != 2 {
		return "", "", o, usageError{fmt.Sprintf("mount takes FILE and MOUNTPOINT (got %d arguments)", c.NArg())}
	}
	if o.Backend, err = gpuBackendOptions(c); err != nil {
		return "", "", o, err
	}
	if o.CacheSize, err = parseCacheSize(c.String("cache-size")); err != nil {
		return "", "", o, usageError{err.Error()}
	}
	if o.ReadPoolBytes, err = parseReadPool(c.String("read-pool")); err != nil {
		return "", "", o, usageError{err.Error()}
	}
	o.AllowOther, o.Debug, o.Log = c.Bool("allow-other"), c.Bool("debug"), c.App.ErrWriter
	o.NonEmpty = c.Bool("nonempty")
	if o.Events, err = eventlog.New(c.String("log-level"), c.App.ErrWriter); err != nil {
		return "", "", o, usageError{"--log-level " + err.Error()}
	}
	o.Share = mount.ShareOptions{Off: c.Bool("no-share"), Socket: c.String("share-socket")}
	return c.Args().Get(0), c.Args().Get(1), o, nil
}

func runMount(c *cli.Context) error {
	if daemonRequested(c) {
		return runDaemon(c)
	}
	file, dir, opts, err := mountOptions(c)
	if err != nil {
		return err
	}
	if opts.Log == nil {
		opts.Log = os.Stderr
	}
	// Catch signals from the start: one arriving while mounting must still
	// end in a clean unmount, never in a stale mount.
	ctx, stop := signal.NotifyContext(context.Background(), endSignals...)
	defer stop()
	// A closed stdout (ggufs mount ... | head -1) must not kill the server
	// and leave a stale mount: writes then fail instead.
	signal.Ignore(syscall.SIGPIPE)

	m, err := mount.Open(file, dir, opts)
	if err != nil {
		return err
	}
	if ctx.Err() != nil { // a signal while mounting
		return m.Close()
	}
	fmt.Fprintln(c.App.Writer, m.Summary())
	prefetched := make(chan struct{})
	if c.Bool("prefetch") {
		pctx, cancel := context.WithCancel(ctx)
		go func() { // ends when the mount does, stopping the prefetch with it
			m.Wait()
			cancel()
		}()
		go func() { // ends with the load
			defer close(prefetched)
			p := progress.New(opts.Log, "prefetch", 0)
			err := m.Prefetch(pctx, p.Progress)
			p.Finish(err)
			if err != nil && pctx.Err() == nil {
				fmt.Fprintf(opts.Log, "ggufs: prefetch: %v (tensors load on first read)\n", err)
			}
		}()
	} else {
		close(prefetched)
	}
	err = m.Serve(ctx)
	stop()
	<-prefetched
	return err
}
