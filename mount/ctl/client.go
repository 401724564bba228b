package ctl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Client drives one mount through its files and extended attributes.
type Client struct {
	Dir   string // the mountpoint, absolute
	owner uint32 // the mounting user: the owner of the root
	// The attribute calls (setxattr and getxattr, retried on EINTR), apart
	// so that tests can stand in for a mount.
	set func(path, name string, value []byte) error
	get func(path, name string) (string, error)
}

// Dial checks that dir serves a ggufs tree (its stats.json parses) and
// returns a client of it.
func Dial(dir string) (*Client, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	c := &Client{Dir: abs, set: setxattr, get: getxattr}
	if _, err := c.Stats(); err != nil {
		return nil, fmt.Errorf("%s is not a ggufs mount: %w", abs, err)
	}
	var st unix.Stat_t
	if err := unix.Stat(abs, &st); err != nil {
		return nil, fmt.Errorf("%s: %w", abs, err)
	}
	c.owner = st.Uid
	return c, nil
}

// Stats reads stats.json.
func (c *Client) Stats() (Stats, error) {
	var s Stats
	b, err := os.ReadFile(filepath.Join(c.Dir, StatsFile))
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("%s/%s: %w", c.Dir, StatsFile, err)
	}
	return s, nil
}

// ErrNoTensor: the mount has no tensor of that name.
var ErrNoTensor = errors.New("no such tensor")

// ErrRefused: the mount refused a control command from this user.
var ErrRefused = errors.New("refused")

// entry finds the directory of the tensor name: its name itself or, for a
// name that had to be escaped, the entry whose user.ggufs.name it is.
func (c *Client) entry(name string) (string, error) {
	if name != "" && name != "." && name != ".." && filepath.Base(name) == name {
		if got, err := c.get(c.tensorPath(name), XattrName); err == nil && got == name {
			return name, nil
		}
	}
	entries, err := os.ReadDir(filepath.Join(c.Dir, TensorsDir))
	if err != nil {
		return "", fmt.Errorf("listing tensors: %w", err)
	}
	for _, e := range entries {
		if got, err := c.get(c.tensorPath(e.Name()), XattrName); err == nil && got == name {
			return e.Name(), nil
		}
	}
	return "", fmt.Errorf("%q: %w in %s", name, ErrNoTensor, c.Dir)
}

func (c *Client) tensorPath(entry string) string { return filepath.Join(c.Dir, TensorsDir, entry) }

// Tensor reads one tensor's status.
func (c *Client) Tensor(name string) (TensorStatus, error) {
	e, err := c.entry(name)
	if err != nil {
		return TensorStatus{}, err
	}
	return c.tensorAt(e)
}

func (c *Client) tensorAt(entry string) (TensorStatus, error) {
	path := c.tensorPath(entry)
	t := TensorStatus{Entry: entry}
	var nbytes string
	for _, f := range []struct {
		attr string
		dst  *string
	}{{XattrName, &t.Name}, {XattrStatus, &t.Status}, {XattrDtype, &t.Dtype}, {XattrShape, &t.Shape},
		{XattrNbytes, &nbytes}, {XattrDevice, &t.Device}} {
		v, err := c.get(path, f.attr)
		if err != nil {
			return t, fmt.Errorf("tensor %s: %s: %w", entry, f.attr, err)
		}
		*f.dst = v
	}
	n, err := strconv.ParseUint(nbytes, 10, 64)
	if err != nil {
		return t, fmt.Errorf("tensor %s: %s = %q is not a size", entry, XattrNbytes, nbytes)
	}
	t.Nbytes = n
	return t, nil
}

// Tensors reads every tensor's status, in the tree's order.
func (c *Client) Tensors() ([]TensorStatus, error) {
	entries, err := os.ReadDir(filepath.Join(c.Dir, TensorsDir))
	if err != nil {
		return nil, fmt.Errorf("listing tensors: %w", err)
	}
	out := make([]TensorStatus, 0, len(entries))
	for _, e := range entries {
		t, err := c.tensorAt(e.Name())
		if err != nil {
			return out, err
		}
		out = append(out, t)
	}
	return out, nil
}

// control sets a control attribute on path, saying why when refused.
func (c *Client) control(path, attr string) error {
	err := c.set(path, attr, []byte("1"))
	if errors.Is(err, unix.EPERM) {
		return fmt.Errorf("%w: only the user who mounted %s (uid %d) or root may send %s, not uid %d",
			ErrRefused, c.Dir, c.owner, attr, os.Getuid())
	}
	return err
}

// Load makes one tensor resident and returns when it is.
func (c *Client) Load(name string) error {
	e, err := c.entry(name)
	if err != nil {
		return err
	}
	if err := c.control(c.tensorPath(e), XattrLoad); err != nil {
		return fmt.Errorf("loading %s: %w", name, err)
	}
	return nil
}

// Evict drops one tensor from the device and the kernel's page cache.
func (c *Client) Evict(name string) error {
	e, err := c.entry(name)
	if err != nil {
		return err
	}
	if err := c.control(c.tensorPath(e), XattrEvict); err != nil {
		return fmt.Errorf("evicting %s: %w", name, err)
	}
	return nil
}

// loadWorkers is how many tensors LoadTensors asks the mount for at once:
// enough to keep the device busy while the next request crosses the kernel.
const loadWorkers = 4

// LoadTensors loads the named tensors, a few at a time, calling loaded with
// each one's size as it becomes resident. Tensors that fail for want of
// device memory are retried one at a time at the end: a tensor still
// uploading cannot be evicted, so parallel loads that each fit the cache can
// fail together. It returns one error per tensor that failed.
func (c *Client) LoadTensors(names []string, loaded func(nbytes uint64)) []error {
	var failures []error
	var sizes []TensorStatus
	for _, n := range names {
		t, err := c.Tensor(n)
		if err != nil {
			failures = append(failures, err)
			continue
		}
		sizes = append(sizes, t)
	}
	work := make(chan TensorStatus)
	var mu sync.Mutex
	var noSpace []TensorStatus
	var wg sync.WaitGroup
	load := func(t TensorStatus) error {
		err := c.control(c.tensorPath(t.Entry), XattrLoad)
		if err == nil && loaded != nil {
			loaded(t.Nbytes)
		}
		return err
	}
	for range min(loadWorkers, len(sizes)) {
		wg.Add(1)
		go func() { // ends when work is closed and drained
			defer wg.Done()
			for t := range work {
				err := load(t)
				mu.Lock()
				switch {
				case errors.Is(err, unix.ENOMEM):
					noSpace = append(noSpace, t)
				case err != nil:
					failures = append(failures, fmt.Errorf("%s: %w", t.Name, err))
				}
				mu.Unlock()
			}
		}()
	}
	for _, t := range sizes {
		work <- t
	}
	close(work)
	wg.Wait()
	for _, t := range noSpace {
		if err := load(t); err != nil {
			failures = append(failures, fmt.Errorf("%s: %w", t.Name, err))
		}
	}
	return failures
}

// statsPoll is how often LoadAll reads stats.json.
const statsPoll = 50 * time.Millisecond

// LoadAll asks the mount to load every tensor that can be loaded, in one
// pipelined batch in the background (user.ggufs.load on the root), then
// follows it in stats.json until it ends, reporting this load's bytes.
// When ctx ends first, it cancels the load in the mount (what has landed
// stays resident).
func (c *Client) LoadAll(ctx context.Context, progress func(done, total uint64)) error {
	if err := c.control(c.Dir, XattrLoad); err != nil {
		return fmt.Errorf("loading every tensor: %w", err)
	}
	err := follow(ctx, c.Stats, statsPoll, progress)
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		if cerr := c.control(c.Dir, XattrCancel); cerr != nil {
			return fmt.Errorf("%w; cancelling the mount's load: %w", err, cerr)
		}
	}
	return err
}

// follow reads stats until the whole-model load ends, reporting its
// progress; it returns the load's error.
func follow(ctx context.Context, read func() (Stats, error), poll time.Duration, progress func(done, total uint64)) error {
	for {
		s, err := read()
		if err != nil {
			return err
		}
		l := s.LoadAll
		if l == nil {
			return errors.New("stats.json reports no load of every tensor")
		}
		if progress != nil {
			progress(l.BytesDone, l.BytesTotal)
		}
		if !l.Running {
			if l.Error != "" {
				return errors.New(l.Error)
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(poll):
		}
	}
}

// setxattr sets an attribute, retrying when a signal interrupts the call.
func setxattr(path, name string, value []byte) error {
	for {
		err := unix.Setxattr(path, name, value, 0)
		if !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}

// getxattr reads an attribute as text.
func getxattr(path, name string) (string, error) {
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
