package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"syscall"
	"time"

	"github.com/ggufs/ggufs/gguf"
)

// OpenOptions are bench open's settings.
type OpenOptions struct {
	Path   string
	Runs   int  // timed runs of each
	Borrow bool // gguf.Options.BorrowArrays
	JSON   bool
}

// Open times gguf.Open of a file against one pread of its header bytes,
// writing the results to w.
func Open(w io.Writer, o OpenOptions) error {
	path, runs := o.Path, o.Runs
	opts := gguf.Options{BorrowArrays: o.Borrow}
	f, err := gguf.OpenWith(path, opts)
	if err != nil {
		return err
	}
	r := OpenResult{File: path, FileBytes: f.Size, HeaderBytes: f.HeaderSize, Tensors: len(f.Tensors),
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
	if o.JSON {
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

// OpenResult is what bench open measures; the JSON field names are stable.
type OpenResult struct {
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
