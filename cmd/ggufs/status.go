package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/ggufs/ggufs/internal/units"
	"github.com/ggufs/ggufs/mount/ctl"
)

func statusCommand() *cli.Command {
	return &cli.Command{
		Name:      "status",
		Usage:     "say what a ggufs mount holds on its device",
		ArgsUsage: "MOUNTPOINT",
		Description: `Prints the device, the cache's budget and what is resident, the state of a
load of every tensor, and each tensor that is not unloaded (every tensor
with --all). --json prints {"stats": stats.json, "tensors": [...]} instead
(schema: docs/protocol.md). --watch prints it again every interval until
Ctrl-C.

Examples:
   ggufs status /mnt/m
   ggufs status --all --json /mnt/m
   ggufs status --watch 1s /mnt/m`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "json", Usage: "print JSON (docs/protocol.md)"},
			&cli.BoolFlag{Name: "all", Usage: "list every tensor, unloaded ones too"},
			&cli.DurationFlag{Name: "watch", Usage: "print the status again every `INTERVAL` (e.g. 1s) until interrupted"},
		},
		Action: runStatus,
	}
}

// statusReport is what status --json prints.
type statusReport struct {
	Stats   ctl.Stats          `json:"stats"`
	Tensors []ctl.TensorStatus `json:"tensors"`
}

func runStatus(c *cli.Context) error {
	if c.NArg() != 1 {
		return usageError{fmt.Sprintf("status takes MOUNTPOINT (got %d arguments)", c.NArg())}
	}
	client, err := dialMount(c.Args().First())
	if err != nil {
		return err
	}
	every := c.Duration("watch")
	if every < 0 {
		return usageError{fmt.Sprintf("--watch %s: the interval must be positive", every)}
	}
	if every == 0 {
		return printStatusOnce(c, client)
	}
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		if err := printStatusOnce(c, client); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return nil // interrupted: the watch is what the user asked to end
		case <-tick.C:
			fmt.Fprintln(c.App.Writer)
		}
	}
}

func printStatusOnce(c *cli.Context, client *ctl.Client) error {
	var err error
	rep := statusReport{Tensors: []ctl.TensorStatus{}}
	if rep.Stats, err = client.Stats(); err != nil {
		return err
	}
	all, err := client.Tensors()
	if err != nil {
		return err
	}
	for _, t := range all {
		if c.Bool("all") || t.Status != ctl.StatusUnloaded {
			rep.Tensors = append(rep.Tensors, t)
		}
	}
	if c.Bool("json") {
		enc := json.NewEncoder(c.App.Writer)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	printStatus(c, rep)
	return nil
}

func printStatus(c *cli.Context, rep statusReport) {
	w, s := c.App.Writer, rep.Stats
	fmt.Fprintf(w, "%s on device %s: %d of %d tensors resident (%s of a %s cache)\n", s.Model, s.Device,
		s.Cache.ResidentTensors, s.Tensors, units.Text(s.Cache.ResidentBytes), units.Text(s.Cache.BudgetBytes))
	k := s.Cache
	fmt.Fprintf(w, "reads: %d hits, %d misses; uploads: %d (%s, %.2f GB/s); evictions: %d; failures: %d\n",
		k.Hits, k.Misses, k.Uploads, units.Text(k.UploadedBytes), s.UploadGBps, k.Evictions, k.Failures)
	if sh := s.Sharing; sh != nil {
		fmt.Fprintf(w, "sharing: %d consumers connected, %d holds on %d tensors (socket %s)\n",
			sh.Connections, sh.Holds, len(sh.Holders), sh.Socket)
	}
	if l := s.LoadAll; l != nil {
		state := "done"
		switch {
		case l.Running:
			state = "running"
		case l.Error != "":
			state = "failed: " + l.Error
		}
		fmt.Fprintf(w, "load of every tensor: %s, %s of %s in %.2fs (%.2f GB/s)\n", state,
			units.Text(l.BytesDone), units.Text(l.BytesTotal), l.ElapsedSeconds, l.GBPerSecond)
	}
	for _, t := range rep.Tensors {
		status := strings.TrimSpace(t.Status)
		if n := holders(s, t.Name); n > 0 {
			status += fmt.Sprintf(" (%d holders)", n)
		}
		fmt.Fprintf(w, "  %-40s %-8s %10s  %s\n", t.Name, t.Dtype, units.Text(t.Nbytes), status)
	}
}

// holders is how many sharing consumers hold the tensor now.
func holders(s ctl.Stats, name string) int {
	if s.Sharing == nil {
		return 0
	}
	return s.Sharing.Holders[name]
}
