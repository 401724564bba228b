package mount

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// shutdownGrace is how long Unmount waits, after detaching a busy mount, for
// the processes still reading to close their files before it returns (and
// Close makes their next read fail).
const shutdownGrace = 5 * time.Second

// Unmount ends the mount. A busy mount (open files, a shell inside) is
// detached instead, so that no stale mount stays behind, and the server then
// runs until its last file closes or shutdownGrace passes.
func (m *Mount) Unmount() error {
	err := m.server.Unmount()
	if err == nil {
		return nil
	}
	if derr := UnmountDir(m.Dir, true); derr != nil {
		return fmt.Errorf("unmounting %s: %v; detaching: %w", m.Dir, err, derr)
	}
	select {
	case <-m.served:
	case <-time.After(shutdownGrace):
		fmt.Fprintf(m.log, "ggufs: %s: files still open %s after detaching; closing them\n", m.Dir, shutdownGrace)
	}
	return nil
}

// UnmountDir unmounts dir, detaching it if lazy: directly as root, else
// through fusermount3 (or fusermount), which may unmount FUSE mounts of the
// calling user. It also clears a stale mount, whose server has died.
func UnmountDir(dir string, lazy bool) error {
	flags := 0
	if lazy {
		flags = unix.MNT_DETACH
	}
	err := unix.Unmount(dir, flags)
	if err == nil || !errors.Is(err, unix.EPERM) {
		return err
	}
	if oerr := checkOwner(dir); oerr != nil {
		return oerr
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
			if msg := strings.TrimSpace(string(out)); msg != "" {
				return fmt.Errorf("%s: %s", bin, msg)
			}
			return fmt.Errorf("%s: %w", bin, rerr)
		}
		return nil
	}
	return err
}
