package main

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/ggufs/ggufs/internal/progress"
	"github.com/ggufs/ggufs/internal/units"
	"github.com/ggufs/ggufs/mount/ctl"
)

func loadCommand() *cli.Command {
	return &cli.Command{
		Name:      "load",
		Usage:     "upload tensors of a mounted model to the device now instead of on first read",
		ArgsUsage: "MOUNTPOINT [TENSOR...]",
		Description: `Loads each named tensor of the ggufs mount at MOUNTPOINT (every tensor that
can be uploaded when none is named, in one pipelined batch) and waits until
each is resident, showing bytes, rate and ETA (a bar on a terminal, plain
lines otherwise). Tensors beyond the mount's --cache-size evict the least
recently used ones. Fails (exit 1) if any tensor could not be loaded. Only
the user who mounted it (or root) may load.

Examples:
   ggufs load /mnt/m
   ggufs load /mnt/m output.weight token_embd.weight`,
		Action: runLoad,
	}
}

func runLoad(c *cli.Context) error {
	if c.NArg() < 1 {
		return usageError{"load takes MOUNTPOINT and optionally tensor names"}
	}
	client, err := dialMount(c.Args().First())
	if err != nil {
		return err
	}
	names := c.Args().Tail()
	start := time.Now()
	bar := progress.New(c.App.ErrWriter, "load", 0)
	var loaded int
	if len(names) == 0 {
		// Ctrl-C or SIGTERM cancels the load this started in the mount.
		ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
		defer stop()
		err = client.LoadAll(ctx, bar.Progress)
		bar.Finish(err)
		s, serr := client.Stats()
		if serr == nil && s.LoadAll != nil {
			if n := s.LoadAll.Skipped; n > 0 {
				fmt.Fprintf(c.App.ErrWriter, "ggufs: load: skipping %d tensors of types without a known layout\n", n)
			}
			if r := s.LoadAll.Result; r != nil {
				// What is resident now, and what is not, whatever the outcome.
				fmt.Fprintf(c.App.Writer, "loaded %d tensors: %s in %.2fs, %.2f GB/s\n",
					r.Resident, r.Summary, s.LoadAll.ElapsedSeconds, s.LoadAll.GBPerSecond)
			}
		}
		if err != nil {
			return fmt.Errorf("load: %w", err)
		}
		if s.LoadAll != nil && s.LoadAll.Result != nil {
			return nil
		}
		loaded = s.Cache.ResidentTensors
	} else {
		var total uint64
		for _, n := range names {
			if t, err := client.Tensor(n); err == nil {
				total += t.Nbytes
			}
		}
		bar.Progress(0, total)
		failures := client.LoadTensors(names, bar.Add)
		bar.Finish(errors.Join(failures...))
		if err := loadFailed(c, failures, len(names)); err != nil {
			return err
		}
		loaded = len(names)
	}
	elapsed := time.Since(start)
	total := bar.Done()
	fmt.Fprintf(c.App.Writer, "loaded %d tensors (%s) in %.2fs, %.2f GB/s\n",
		loaded, units.Text(total), elapsed.Seconds(), float64(total)/elapsed.Seconds()/1e9)
	return nil
}

// loadFailed reports each failure and sums them up: a refusal says who may
// load instead of counting tensors.
func loadFailed(c *cli.Context, failures []error, of int) error {
	if len(failures) == 0 {
		return nil
	}
	for _, err := range failures {
		if errors.Is(err, ctl.ErrRefused) {
			return fmt.Errorf("load: %w", err)
		}
	}
	for _, err := range failures {
		fmt.Fprintf(c.App.ErrWriter, "ggufs: load: %v\n", err)
	}
	return fmt.Errorf("load: %d of %d tensors failed", len(failures), of)
}
