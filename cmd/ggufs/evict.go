package main

import (
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/ggufs/ggufs/mount/ctl"
)

func evictCommand() *cli.Command {
	return &cli.Command{
		Name:      "evict",
		Usage:     "drop tensors of a ggufs mount from the device",
		ArgsUsage: "MOUNTPOINT [TENSOR...]",
		Description: `Evicts each named tensor (every resident one when none is named) from the
device and from the kernel's page cache, so that the next read uploads it
again. A tensor held open is refused (busy). Only the user who mounted it
(or root) may evict.

Examples:
   ggufs evict /mnt/m
   ggufs evict /mnt/m output.weight`,
		Action: runEvict,
	}
}

func runEvict(c *cli.Context) error {
	if c.NArg() < 1 {
		return usageError{"evict takes MOUNTPOINT and optionally tensor names"}
	}
	client, err := dialMount(c.Args().First())
	if err != nil {
		return err
	}
	names := c.Args().Tail()
	if len(names) == 0 {
		all, err := client.Tensors()
		if err != nil {
			return err
		}
		for _, t := range all {
			if t.Status == ctl.StatusResident {
				names = append(names, t.Name)
			}
		}
	}
	var failures []error
	for _, n := range names {
		if err := client.Evict(n); err != nil {
			if errors.Is(err, ctl.ErrRefused) {
				return fmt.Errorf("evict: %w", err)
			}
			failures = append(failures, err)
			fmt.Fprintf(c.App.ErrWriter, "ggufs: evict: %v\n", err)
		}
	}
	if len(failures) > 0 {
		return fmt.Errorf("evict: %d of %d tensors failed", len(failures), len(names))
	}
	fmt.Fprintf(c.App.Writer, "evicted %d tensors\n", len(names))
	return nil
}
