package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"time"

	"golang.org/x/sys/unix"
)

// fuseServer is the part of go-fuse's server that mount drives.
type fuseServer interface {
	Wait()
	Unmount() error
}

// shutdownGrace is how long mount waits, after detaching a busy mount, for
// the processes still reading to close their files before it exits (which
// makes their next read fail).
const shutdownGrace = 5 * time.Second

// serve waits until the mount ends: a signal (then unmount once) or an
// unmount from outside. Device memory is freed before it returns.
func (m *mounted) serve(signals <-chan os.Signal, stderr io.Writer) error {
	defer m.close()
	served := make(chan struct{})
	go func() {
		m.server.Wait()
		close(served)
	}()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	prefetched := make(chan struct{})
	if m.cfg.prefetch {
		go func() {
			defer close(prefetched)
			if err := m.prefetch(ctx, stderr); err != nil && ctx.Err() == nil {
				fmt.Fprintf(stderr, "ggufs: prefetch: %v (tensors load on first read)\n", err)
			}
		}()
	} else {
		close(prefetched)
	}

	var err error
	select {
	case <-served: // unmounted from outside: umount, ggufs unmount
	case sig := <-signals:
		if m.cfg.debug {
			fmt.Fprintf(stderr, "ggufs: %v: unmounting %s\n", sig, m.cfg.dir)
		}
		cancel()
		err = m.unmount(served, stderr)
	}
	cancel()
	<-prefetched
	return err
}

// unmount ends the mount. A busy mount (open files, a shell inside) is
// detached instead, so that no stale mount stays behind, and the server then
// runs until its last file closes or shutdownGrace passes.
func (m *mounted) unmount(served <-chan struct{}, stderr io.Writer) error {
	err := m.server.Unmount()
	if err == nil {
		return nil
	}
	if derr := unmountDir(m.cfg.dir, true); derr != nil {
		return fmt.Errorf("unmounting %s: %v; detaching: %w", m.cfg.dir, err, derr)
	}
	select {
	case <-served:
	case <-time.After(shutdownGrace):
		fmt.Fprintf(stderr, "ggufs: %s: files still open %s after detaching; closing them\n", m.cfg.dir, shutdownGrace)
	}
	return nil
}

// unmountDir unmounts dir, detaching it if lazy: directly as root, else
// through fusermount3 (or fusermount), which may unmount FUSE mounts of the
// calling user.
func unmountDir(dir string, lazy bool) error {
	flags := 0
	if lazy {
		flags = unix.MNT_DETACH
	}
	err := unix.Unmount(dir, flags)
	if err == nil || !errors.Is(err, unix.EPERM) {
		return err
	}
	for _, bin := range []string{"fusermount3", "fusermount"} {
		path, lerr := exec.LookPath(bin)
		if lerr != nil {
			continue
		}
		args := []string{"-u"}
		if lazy {
			args = append(args, "-z")
		}
		out, rerr := exec.Command(path, append(args, dir)...).CombinedOutput()
		if rerr != nil {
			return fmt.Errorf("%s: %s", bin, bytesTrim(out, rerr))
		}
		return nil
	}
	return err
}

func bytesTrim(out []byte, err error) string {
	s := string(out)
	for len(s) > 0 && (s[len(s)-1] == '\n' || s[len(s)-1] == ' ') {
		s = s[:len(s)-1]
	}
	if s == "" {
		return err.Error()
	}
	return s
}
