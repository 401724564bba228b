package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"github.com/ggufs/ggufs/gguf"
)

// loadWorkers is how many tensors load asks the mount for at once: enough to
// keep the device busy while the next request crosses the kernel.
const loadWorkers = 4

func loadCommand() *cli.Command {
	return &cli.Command{
		Name:      "load",
		Usage:     "upload tensors of a mounted model to the device now instead of on first read",
		ArgsUsage: "MOUNTPOINT [TENSOR...]",
		Description: `Sets user.ggufs.load on each named tensor's directory of the ggufs mount at
MOUNTPOINT (every tensor when none is named) and waits until each is
resident, showing bytes, rate and ETA (a bar on a terminal, plain lines
otherwise). Tensors beyond the mount's --cache-size evict the least
recently used ones. Fails (exit 1) if any tensor could not be loaded.

Examples:
   ggufs load /mnt/m
   ggufs load /mnt/m output.weight token_embd.weight`,
		Action: runLoad,
	}
}

// loadTarget is one tensor to load.
type loadTarget struct {
	name string
	dir  string
	size uint64
}

func runLoad(c *cli.Context) error {
	if c.NArg() < 1 {
		return usageError{"load takes MOUNTPOINT and optionally tensor names"}
	}
	mnt, err := filepath.Abs(c.Args().First())
	if err != nil {
		return err
	}
	if m, ok, err := findMount(mnt); err != nil {
		return fmt.Errorf("reading the mount table: %w", err)
	} else if !ok || m.FsType != fsType {
		return fmt.Errorf("%s is not a ggufs mount point", mnt)
	}
	names := c.Args().Tail()
	all := len(names) == 0
	for _, n := range names {
		if n == "" || n == "." || n == ".." || strings.ContainsAny(n, "/\x00") {
			return usageError{fmt.Sprintf("%q is not a tensor name", n)}
		}
	}
	if len(names) == 0 {
		entries, err := os.ReadDir(filepath.Join(mnt, "tensors"))
		if err != nil {
			return fmt.Errorf("listing tensors: %w", err)
		}
		for _, e := range entries {
			names = append(names, e.Name())
		}
	}
	targets := make([]loadTarget, 0, len(names))
	var total uint64
	skipped := 0
	for _, n := range names {
		t := loadTarget{name: n, dir: filepath.Join(mnt, "tensors", n)}
		if all {
			// A type without a known layout can never be uploaded: loading
			// everything leaves such tensors out rather than failing.
			if dtype, err := getxattrString(t.dir, "user.ggufs.dtype"); err == nil {
				if _, err := gguf.ParseType(dtype); err != nil {
					skipped++
					continue
				}
			}
		}
		nbytes, err := getxattrString(t.dir, "user.ggufs.nbytes")
		if err != nil {
			if errors.Is(err, unix.ENOENT) {
				return fmt.Errorf("no tensor %q in %s", n, mnt)
			}
			return fmt.Errorf("tensor %q: %w", n, err)
		}
		if t.size, err = strconv.ParseUint(nbytes, 10, 64); err != nil {
			return fmt.Errorf("tensor %q: user.ggufs.nbytes = %q", n, nbytes)
		}
		total += t.size
		targets = append(targets, t)
	}

	if skipped > 0 {
		fmt.Fprintf(c.App.ErrWriter, "ggufs: load: skipping %d tensors of types without a known layout\n", skipped)
	}
	start := time.Now()
	progress := newUploadProgress(c.App.ErrWriter, "load", total)
	var failures []error
	if all {
		err := loadEverything(mnt, progress)
		switch {
		case errors.Is(err, unix.ENOTSUP):
			// A mount that cannot load everything at once: ask for each
			// tensor in turn.
			failures = loadTensors(targets, progress)
		case err != nil:
			failures = []error{err}
		}
	} else {
		failures = loadTensors(targets, progress)
	}
	progress.Finish(errors.Join(failures...))
	for _, err := range failures {
		fmt.Fprintf(c.App.ErrWriter, "ggufs: load: %v\n", err)
	}
	if len(failures) > 0 {
		return fmt.Errorf("load: %d of %d tensors failed", len(failures), len(targets))
	}
	elapsed := time.Since(start)
	fmt.Fprintf(c.App.Writer, "loaded %d tensors (%s) in %.2fs, %.2f GB/s\n",
		len(targets), bytesText(total), elapsed.Seconds(), float64(total)/elapsed.Seconds()/1e9)
	return nil
}

// statsPoll is how often loadEverything reads the mount's stats.json.
const statsPoll = 50 * time.Millisecond

// loadStats is what loadEverything reads of stats.json.
type loadStats struct {
	Backend struct {
		PathBytes map[string]uint64 `json:"path_bytes"`
	} `json:"backend"`
	LoadAll *struct {
		Running bool   `json:"running"`
		Error   string `json:"error"`
	} `json:"load_all"`
}

// uploaded is the bytes the device has received, by every path; it moves
// while an upload runs, unlike the cache's count of finished uploads.
func (s loadStats) uploaded() uint64 {
	var n uint64
	for _, b := range s.Backend.PathBytes {
		n += b
	}
	return n
}

// loadEverything asks the mount to load every tensor in one batched upload
// (user.ggufs.load on its root, which starts it in the background), then
// follows it in stats.json until it ends, showing progress.
func loadEverything(mnt string, progress *uploadProgress) error {
	before, err := readLoadStats(mnt)
	if err != nil {
		return err
	}
	if err := setxattrRetry(mnt, "user.ggufs.load", []byte("1")); err != nil {
		return err
	}
	for {
		time.Sleep(statsPoll)
		s, err := readLoadStats(mnt)
		if err != nil {
			return err
		}
		if n := s.uploaded(); n >= before.uploaded() {
			progress.Update(min(n-before.uploaded(), progress.total))
		}
		if s.LoadAll == nil {
			return fmt.Errorf("%s/stats.json reports no load", mnt)
		}
		if !s.LoadAll.Running {
			if s.LoadAll.Error != "" {
				return errors.New(s.LoadAll.Error)
			}
			progress.Update(progress.total)
			return nil
		}
	}
}

func readLoadStats(mnt string) (loadStats, error) {
	var s loadStats
	b, err := os.ReadFile(filepath.Join(mnt, "stats.json"))
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("%s/stats.json: %w", mnt, err)
	}
	return s, nil
}

// loadTensors asks the mount to load each target, a few at a time, and
// returns one error per tensor that failed.
func loadTensors(targets []loadTarget, progress *uploadProgress) []error {
	work := make(chan loadTarget)
	var mu sync.Mutex
	var failures []error
	var noSpace []loadTarget // failed for want of device memory
	var wg sync.WaitGroup
	for range min(loadWorkers, len(targets)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for t := range work {
				if err := setxattrRetry(t.dir, "user.ggufs.load", []byte("1")); err != nil {
					mu.Lock()
					if errors.Is(err, unix.ENOMEM) {
						noSpace = append(noSpace, t)
					} else {
						failures = append(failures, fmt.Errorf("%s: %w", t.name, err))
					}
					mu.Unlock()
					continue
				}
				progress.Add(t.size)
			}
		}()
	}
	for _, t := range targets {
		work <- t
	}
	close(work)
	wg.Wait()
	// A tensor still uploading cannot be evicted, so parallel loads that
	// each fit the cache can fail together: retry those one at a time.
	for _, t := range noSpace {
		if err := setxattrRetry(t.dir, "user.ggufs.load", []byte("1")); err != nil {
			failures = append(failures, fmt.Errorf("%s: %w", t.name, err))
			continue
		}
		progress.Add(t.size)
	}
	return failures
}

// setxattrRetry sets an attribute, retrying when a signal interrupts the call.
func setxattrRetry(path, name string, value []byte) error {
	for {
		err := unix.Setxattr(path, name, value, 0)
		if !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}

// getxattrString reads a small attribute as text.
func getxattrString(path, name string) (string, error) {
	buf := make([]byte, 256)
	for {
		n, err := unix.Getxattr(path, name, buf)
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.ERANGE):
			buf = make([]byte, 2*len(buf))
			continue
		case err != nil:
			return "", err
		}
		return string(buf[:n]), nil
	}
}
