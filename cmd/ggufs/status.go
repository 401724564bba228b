package main

import (
	"encoding/json"
	"fmt"
	"strings"

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
(schema: docs/protocol.md).

Examples:
   ggufs status /mnt/m
   ggufs status --all --json /mnt/m`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "json", Usage: "print JSON (docs/protocol.md)"},
			&cli.BoolFlag{Name: "all", Usage: "list every tensor, unloaded ones too"},
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
	if l := s.LoadAll; l != nil {
		state := "done"
		switch {
		case l.Running:
			state = "running"
		case l.Error != "":
			state = "failed: " + l.Error
		}
		fmt.Fprintf(w, "load of every tensor: %s, %s of %s\n", state, units.Text(l.BytesDone), units.Text(l.BytesTotal))
	}
	for _, t := range rep.Tensors {
		fmt.Fprintf(w, "  %-40s %-8s %10s  %s\n", t.Name, t.Dtype, units.Text(t.Nbytes), strings.TrimSpace(t.Status))
	}
}
