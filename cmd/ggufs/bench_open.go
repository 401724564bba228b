package main

import (
	"github.com/urfave/cli/v2"

	"github.com/ggufs/ggufs/internal/bench"
)

func benchOpenCommand() *cli.Command {
	return &cli.Command{
		Name:      "open",
		Usage:     "time gguf.Open (parse and validate the header) against reading the header bytes in one read",
		ArgsUsage: "FILE",
		Description: `Opens FILE once to learn its header size (which also warms the page cache),
then alternates --runs reads of the header bytes with one pread into a
reused buffer (the floor) with --runs opens with gguf.Open (map, parse,
validate every count, name and tensor range; the data section is never
read). Prints the medians, their ratio (the target is at most 5x), the peak
RSS of the process (getrusage maxrss) with the first file open and after all
runs, and the tensor and key counts. --borrow opens with metadata arrays
borrowed from a mapping of the header rather than copied (as inspect does).

Examples:
   ggufs gen -o llama70b.gguf --preset llama-70b --sparse
   ggufs bench open llama70b.gguf
   ggufs bench open --runs 50 --json llama70b.gguf
   ggufs bench open --borrow llama70b.gguf`,
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "runs", Value: 20, Usage: "timed runs of each"},
			&cli.BoolFlag{Name: "json", Usage: "print the result as JSON"},
			&cli.BoolFlag{Name: "borrow", Usage: "borrow metadata arrays from a header mapping (gguf.Options.BorrowArrays)"},
		},
		Action: runBenchOpen,
	}
}

func runBenchOpen(c *cli.Context) error {
	if c.NArg() != 1 {
		return usageError{"bench open: want exactly one FILE"}
	}
	o := bench.OpenOptions{Path: c.Args().First(), Runs: c.Int("runs"), Borrow: c.Bool("borrow"), JSON: c.Bool("json")}
	if o.Runs < 1 {
		return usageError{"bench open: --runs must be at least 1"}
	}
	return bench.Open(c.App.Writer, o)
}
