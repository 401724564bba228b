package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/ggufs/ggufs/internal/bench"
)

func benchUploadCommand() *cli.Command {
	return &cli.Command{
		Name:      "upload",
		Usage:     "time host-to-device upload paths from a file mapping against a pinned-memory copy",
		ArgsUsage: " ",
		Description: `Creates a file of random bytes (or uses --file), warms the page cache, maps it,
and times uploading --size bytes from the mapping by each path (registered
chunks, pinned staging buffers, plain pageable copy) beside one copy from a
pinned host buffer measured in the same run. Each path's result is
downloaded and compared byte for byte. A fresh mapping is made for each
timed upload, as a mount touches each page once.

--sizes runs the correctness check on many sizes and odd offsets (and a
batch of many small entries) for every path instead of timing.

Examples:
   ggufs bench upload --size 4GiB
   ggufs bench upload --backend host --size 64MiB
   ggufs bench upload --variant register:chunk=32MiB:inflight=8:workers=8 --variant staged:workers=12
   ggufs bench upload --sizes 1KiB,4097,1MiB+3,64MiB+5,4GiB`,
		Flags: append(gpuBackendFlags(),
			&cli.StringFlag{Name: "size", Value: "4GiB", Usage: "bytes uploaded per timed run"},
			&cli.StringFlag{Name: "file", Usage: "upload from this file instead of a temporary one", TakesFile: true},
			&cli.StringFlag{Name: "dir", Usage: "folder for the temporary file (default: the system's)"},
			&cli.IntFlag{Name: "reps", Value: 3, Usage: "timed runs per path"},
			&cli.StringSliceFlag{Name: "variant", Usage: "path[:chunk=N:inflight=N:workers=N:pinners=N:buffers=N:staging=N:small=N:populate=0|1:pread=0|1:fresh=0|1] to time (default: staged, register, hybrid, plain)"},
			&cli.StringFlag{Name: "sizes", Usage: "comma-separated sizes (1KiB, 4097, 1MiB+3) to check for correctness on every path"},
			&cli.BoolFlag{Name: "json", Usage: "print results as JSON"},
		),
		Action: runBenchUpload,
	}
}

func runBenchUpload(c *cli.Context) error {
	if c.NArg() > 0 {
		return usageError{"bench upload takes no arguments"}
	}
	o := bench.UploadOptions{Reps: c.Int("reps"), File: c.String("file"), Dir: c.String("dir"),
		SizeSet: c.IsSet("size"), JSON: c.Bool("json")}
	var err error
	if o.Backend, err = gpuBackendOptions(c); err != nil {
		return err
	}
	if o.Size, err = bench.ParseBytes(c.String("size")); err != nil || o.Size == 0 {
		return usageError{fmt.Sprintf("--size %q: want a byte count such as 4GiB", c.String("size"))}
	}
	if o.Reps < 1 {
		return usageError{"--reps must be at least 1"}
	}
	if s := c.String("sizes"); s != "" {
		for _, f := range strings.Split(s, ",") {
			n, err := bench.ParseBytes(f)
			if err != nil || n == 0 {
				return usageError{fmt.Sprintf("--sizes: %q is not a byte count", f)}
			}
			o.Sizes = append(o.Sizes, n)
		}
	}
	if o.Variants, err = bench.ParseVariants(c.StringSlice("variant")); err != nil {
		return usageError{"--" + err.Error()}
	}
	return bench.Upload(c.App.Writer, o)
}
