package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/ggufs/ggufs/cache"
	"github.com/ggufs/ggufs/internal/bench"
	"github.com/ggufs/ggufs/internal/units"
)

func benchLoadCommand() *cli.Command {
	return &cli.Command{
		Name:      "load",
		Usage:     "time loading every tensor of a model into the GPU cache against a pinned-memory copy",
		ArgsUsage: "FILE",
		Description: `Reads the model once to warm the page cache, times one copy from a pinned
host buffer (the physical limit), then for each rep opens the model afresh
(a new mapping, as a mount does), times one Upload call of every tensor
into one allocation (the hip layer's own rate, no cache), then makes a new
cache and times LoadAll of every tensor. Prints bytes/s, the ratios to the
pinned copy and to the single Upload call, the cache's device allocations,
and checks a sample of tensors by downloading them.

Examples:
   ggufs gen -o /tmp/llama-7b.gguf --preset llama-7b
   ggufs bench load /tmp/llama-7b.gguf
   ggufs bench load --backend host --reps 1 /tmp/tiny.gguf
   ggufs bench load --group-size 1GiB --groups 3 --json /tmp/llama-7b.gguf`,
		Flags: append(gpuBackendFlags(),
			&cli.StringFlag{Name: "cache-size", Value: "90%", Usage: "cache budget: bytes (8GiB) or a share of free device memory (80%)"},
			&cli.StringFlag{Name: "arena-size", Usage: "size of each pooled device allocation (default: the cache's, 1 GiB)"},
			&cli.StringFlag{Name: "group-size", Usage: "bytes per Upload call of LoadAll (default: the cache's, 4 GiB)"},
			&cli.IntFlag{Name: "groups", Usage: "Upload calls of LoadAll in flight (default: the cache's, 1)"},
			&cli.IntFlag{Name: "reps", Value: 3, Usage: "timed loads, each from a fresh mapping into a fresh cache"},
			&cli.IntFlag{Name: "verify", Value: 16, Usage: "tensors downloaded and compared after each load"},
			&cli.BoolFlag{Name: "json", Usage: "print results as JSON"},
		),
		Action: runBenchLoad,
	}
}

func runBenchLoad(c *cli.Context) error {
	if c.NArg() != 1 {
		return usageError{"bench load takes one argument: the model FILE"}
	}
	o, err := benchLoadArgs(c)
	if err != nil {
		return err
	}
	return bench.Load(c.Context, c.App.Writer, o)
}

// benchLoadArgs validates the flags.
func benchLoadArgs(c *cli.Context) (bench.LoadOptions, error) {
	o := bench.LoadOptions{File: c.Args().First(), Reps: c.Int("reps"), Verify: c.Int("verify"), JSON: c.Bool("json")}
	var err error
	if o.Backend, err = gpuBackendOptions(c); err != nil {
		return o, err
	}
	if o.Reps < 1 {
		return o, usageError{"--reps must be at least 1"}
	}
	if o.Verify < 0 {
		return o, usageError{"--verify must be 0 or more"}
	}
	if c.Int("groups") < 0 {
		return o, usageError{"--groups must be 0 (default) or more"}
	}
	size, err := parseCacheSize(c.String("cache-size"))
	if err != nil {
		return o, usageError{err.Error()}
	}
	o.Cache = cache.Options{Budget: size.Bytes, BudgetFraction: size.Fraction, LoadGroupsInFlight: c.Int("groups")}
	for flag, dst := range map[string]*uint64{"arena-size": &o.Cache.ArenaSize, "group-size": &o.Cache.LoadGroupBytes} {
		if s := c.String(flag); s != "" {
			n, err := units.Parse(s)
			if err != nil || n == 0 {
				return o, usageError{fmt.Sprintf("--%s %q: want a byte count such as 512MiB", flag, s)}
			}
			*dst = n
		}
	}
	return o, nil
}
