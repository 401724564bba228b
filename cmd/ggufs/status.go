package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

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
	rep, err := client.Status(c.Bool("all"))
	if err != nil {
		return err
	}
	if c.Bool("json") {
		enc := json.NewEncoder(c.App.Writer)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	rep.WriteText(c.App.Writer)
	return nil
}
