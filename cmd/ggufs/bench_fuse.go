package main

import (
	"fmt"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/ggufs/ggufs/internal/bench"
	"github.com/ggufs/ggufs/internal/units"
	"github.com/ggufs/ggufs/mount"
)

func benchFuseCommand() *cli.Command {
	return &cli.Command{
		Name:      "fuse",
		Usage:     "time reads of a tensor's data file against a bare go-fuse server and the file itself",
		ArgsUsage: " ",
		Description: `Writes a model with one tensor of --size bytes and one of 100 MB, and in the
same run times sequential 1 MiB reads of:
   a bare go-fuse server of an in-memory file, mounted with ggufs's options
     (the baseline: what any go-fuse filesystem can reach here),
   the tensor's bytes read from the GGUF file directly,
   ggufs's tensors/<name>/data: the first read (which uploads the tensor),
     a re-read (served by the kernel page cache) and O_DIRECT reads (each
     one served from the device copy),
then the first-read latency of the 100 MB tensor and the time to mount
models of several sizes (tiny; llama-7b and llama-70b as sparse files).
Ratios are against the bare server's read of the same kind.

Examples:
   ggufs bench fuse
   ggufs bench fuse --size 512MiB --backend host
   ggufs bench fuse --backend cuda --dir /dev/shm`,
		Flags: append(gpuBackendFlags(),
			&cli.StringFlag{Name: "size", Value: "2GiB", Usage: "bytes of the tensor read sequentially"},
			&cli.StringFlag{Name: "dir", Usage: "folder for the model files and mountpoints (default: the system's temporary folder)"},
		),
		Action: runBenchFuse,
	}
}

func runBenchFuse(c *cli.Context) error {
	if c.NArg() > 0 {
		return usageError{"bench fuse takes no arguments"}
	}
	size, err := units.Parse(c.String("size"))
	if err != nil || size < 1<<20 {
		return usageError{fmt.Sprintf("--size %q: want at least 1MiB", c.String("size"))}
	}
	size &^= 3 // whole f32 elements
	opts, err := gpuBackendOptions(c)
	if err != nil {
		return err
	}
	if err := mount.CheckFuseDevice(); err != nil {
		return err
	}
	work, err := os.MkdirTemp(c.String("dir"), "ggufs-bench-fuse")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	// Whatever stops the run must not leave its mounts behind. This process
	// serves the files it reads, so it must never exit with a read in
	// flight (the kernel would wait for an answer only this process could
	// give): a signal asks the run to stop after the current read, and the
	// run then unmounts as usual. A closed stdout (| head) is an error, not
	// a death.
	signal.Ignore(syscall.SIGPIPE)
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(signals)
	var stop atomic.Bool
	done := make(chan error, 1)
	go func() { done <- bench.Fuse(c.App.Writer, work, size, opts, &stop) }()
	select {
	case err := <-done:
		return err
	case sig := <-signals:
		stop.Store(true)
		<-done
		return fmt.Errorf("bench fuse: %v: stopped", sig)
	}
}
