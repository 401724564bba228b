package mount

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// fuseDevice is the kernel's FUSE device.
const fuseDevice = "/dev/fuse"

// FsType is how ggufs mounts appear in /proc/self/mountinfo.
const FsType = "fuse.ggufs"

// Entry is one line of /proc/self/mountinfo.
type Entry struct {
	Point  string // where it is mounted
	FsType string // "fuse.ggufs", "ext4"
	Source string
}

// mountinfoFile is the table of this process's mount namespace.
const mountinfoFile = "/proc/self/mountinfo"

// Find returns the mount whose mount point is dir (absolute, clean).
// The last entry wins: it is the one on top.
func Find(dir string) (Entry, bool, error) {
	f, err := os.Open(mountinfoFile)
	if err != nil {
		return Entry{}, false, err
	}
	defer f.Close()
	var found Entry
	ok := false
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if e, valid := parseMountinfo(sc.Text()); valid && e.Point == dir {
			found, ok = e, true
		}
	}
	return found, ok, sc.Err()
}

// parseMountinfo reads "id parent maj:min root point options [tags] - type source super".
func parseMountinfo(line string) (Entry, bool) {
	before, after, ok := strings.Cut(line, " - ")
	if !ok {
		return Entry{}, false
	}
	fields, tail := strings.Fields(before), strings.Fields(after)
	if len(fields) < 5 || len(tail) < 2 {
		return Entry{}, false
	}
	return Entry{Point: unescapeMountinfo(fields[4]), FsType: tail[0], Source: unescapeMountinfo(tail[1])}, true
}

// unescapeMountinfo undoes the kernel's octal escapes (\040 for a space).
func unescapeMountinfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && isOctal(s[i+1]) && isOctal(s[i+2]) && isOctal(s[i+3]) {
			b.WriteByte((s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0'))
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

// Why a directory cannot be mounted on; test with errors.Is.
var (
	// ErrStaleMount: a FUSE mount whose server has gone (ENOTCONN).
	ErrStaleMount = errors.New("stale mount")
	// ErrBusyMount: something is mounted there already.
	ErrBusyMount = errors.New("busy")
	// ErrNoDir: the mountpoint does not exist.
	ErrNoDir = errors.New("does not exist")
	// ErrNotDir: the mountpoint is not a directory.
	ErrNotDir = errors.New("not a directory")
)

// CheckMountpoint returns dir as an absolute path if a filesystem can be
// mounted there, or an error that says what to do instead.
func CheckMountpoint(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	// statfs always reaches a FUSE server, where stat may be answered from
	// cached attributes: it tells a dead server's mount (ENOTCONN) reliably.
	var sfs unix.Statfs_t
	serr := unix.Statfs(abs, &sfs)
	st, err := os.Stat(abs)
	if errors.Is(serr, unix.ENOTCONN) {
		err = serr
	}
	switch {
	case errors.Is(err, syscall.ENOTCONN):
		return "", fmt.Errorf("%s: %w: run ggufs unmount %s (its server is gone)", abs, ErrStaleMount, dir)
	case errors.Is(err, os.ErrNotExist):
		return "", fmt.Errorf("mountpoint %s %w (create it with mkdir)", abs, ErrNoDir)
	case err != nil:
		return "", fmt.Errorf("mountpoint: %w", err)
	case !st.IsDir():
		return "", fmt.Errorf("mountpoint %s: %w", abs, ErrNotDir)
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	m, mounted, err := Find(abs)
	if err != nil {
		return "", fmt.Errorf("reading the mount table: %w", err)
	}
	if mounted {
		return "", fmt.Errorf("mountpoint %s is %w: %s (%s) is mounted there; unmount it first", abs, ErrBusyMount, m.Source, m.FsType)
	}
	return abs, nil
}

// CheckFuseDevice fails when the kernel offers no FUSE device.
func CheckFuseDevice() error {
	if _, err := os.Stat(fuseDevice); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%s is missing: FUSE is not available here (load the fuse module; in a container, add --device /dev/fuse)", fuseDevice)
		}
		return fmt.Errorf("FUSE device: %w", err)
	}
	return nil
}
