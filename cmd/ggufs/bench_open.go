package main

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"syscall"
	"time"

	"github.com/ggufs/ggufs/gguf"
	"github.com/urfave/cli/v2"
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

// benchOpenResult is what bench open measures; the JSON field names are stable.
type benchOpenResult struct {
	File        string  `json:"file"`
	FileBytes   int64   `json:"file_bytes"`
	HeaderBytes uint64  `json:"header_bytes"`
	Tensors     int     `json:"tensors"`
	Keys        int     `json:"keys"`
	Mapped      bool    `json:"mapped"`
	Borrow      bool    `json:"borrow"`
	Runs        int     `json:"runs"`
	FloorNs     int64   `json:"floor_ns"`
	OpenNs      int64   `json:"open_ns"`
	Ratio       float64 `json:"ratio"`
	// PeakRSSOneOpen is the process's peak RSS with one File open (the
	// program, its runtime and one parsed, mapped header); PeakRSS is the
	// peak after all the runs, garbage not yet collected included.
	PeakRSSOneOpen int64 `json:"peak_rss_one_open_bytes"`
	PeakRSS        int64 `json:"peak_rss_bytes"`
}

func runBenchOpen(c *cli.Context) error {
	if c.NArg() != 1 {
		return usageError{"bench open: want exactly one FILE"}
	}
	runs := c.Int("runs")
	if runs < 1 {
		return usageError{"bench open: --runs must be at least 1"}
	}
	path := c.Args().First()
	opts := gguf.Options{BorrowArrays: c.Bool("borrow")}
	f, err := gguf.OpenWith(path, opts)
	if err != nil {
		return err
	}
	r := benchOpenResult{File: path, FileBytes: f.Size, HeaderBytes: f.HeaderSize, Tensors: len(f.Tensors),
		Keys: f.Metadata.Len(), Mapped: f.Mapped(), Borrow: opts.BorrowArrays, Runs: runs}
	if r.PeakRSSOneOpen, err = peakRSS(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	// Interleaved runs, so that both see the same load on a shared machine.
	buf := make([]byte, r.HeaderBytes)
	floor, open, err := interleavedMedians(runs, func() error { return readHeader(path, buf) }, func() error {
		f, err := gguf.OpenWith(path, opts)
		if err != nil {
			return err
		}
		return f.Close()
	})
	if err != nil {
		return err
	}
	if r.PeakRSS, err = peakRSS(); err != nil {
		return err
	}
	r.OpenNs, r.FloorNs = open.Nanoseconds(), floor.Nanoseconds()
	r.Ratio = float64(open) / float64(floor)
	w := c.App.Writer
	if c.Bool("json") {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	fmt.Fprintf(w, "file          %s: %.1f GiB, header %d bytes, %d tensors, %d keys, mapped %v, arrays borrowed %v\n",
		r.File, float64(r.FileBytes)/(1<<30), r.HeaderBytes, r.Tensors, r.Keys, r.Mapped, r.Borrow)
	fmt.Fprintf(w, "header floor  %8.3f ms  (one pread of the header bytes, median of %d)\n", ms(floor), runs)
	fmt.Fprintf(w, "gguf.Open     %8.3f ms  (map, parse, validate; median of %d)\n", ms(open), runs)
	fmt.Fprintf(w, "ratio         %8.2f x   (target: at most 5x)\n", r.Ratio)
	fmt.Fprintf(w, "peak RSS      %8.1f MiB with one file open, %.1f MiB after all runs (whole process)\n",
		float64(r.PeakRSSOneOpen)/(1<<20), float64(r.PeakRSS)/(1<<20))
	return nil
}

// peakRSS is the process's peak resident set size in bytes.
func peakRSS() (int64, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, fmt.Errorf("bench open: getrusage: %w", err)
	}
	return ru.Maxrss * 1024, nil // Linux reports KiB
}

// readHeader is the floor: open, one read of len(buf) bytes, close.
func readHeader(path string, buf []byte) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.ReadAt(buf, 0)
	return err
}

// interleavedMedians runs a and b alternately n times each and returns
// their median durations.
func interleavedMedians(n int, a, b func() error) (time.Duration, time.Duration, error) {
	da, db := make([]time.Duration, n), make([]time.Duration, n)
	for i := 0; i < n; i++ {
		t0 := time.Now()
		if err := a(); err != nil {
			return 0, 0, err
		}
		t1 := time.Now()
		if err := b(); err != nil {
			return 0, 0, err
		}
		da[i], db[i] = t1.Sub(t0), time.Since(t1)
	}
	slices.Sort(da)
	slices.Sort(db)
	return da[n/2], db[n/2], nil
}

func ms(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }
