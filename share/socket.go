package share

import (
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// maxSocketPath is the longest path a unix socket address holds (108 bytes
// of sun_path, NUL included).
const maxSocketPath = 107

// DefaultSocketPath is where a mount of mountpoint listens:
// <runtime dir>/ggufs/<hash of mountpoint>-<pid>.sock, the runtime directory
// being $XDG_RUNTIME_DIR, else /run/user/<uid>, else the temporary directory.
// A socket for every user (allowOther) goes in the temporary directory, as
// a runtime directory is private to its user.
func DefaultSocketPath(mountpoint string, allowOther bool) (string, error) {
	dir := os.Getenv("XDG_RUNTIME_DIR")
	if allowOther {
		dir = filepath.Join(os.TempDir(), "ggufs-"+strconv.Itoa(os.Getuid()))
	} else if dir == "" || !isDir(dir) {
		dir = filepath.Join("/run/user", strconv.Itoa(os.Getuid()))
		if !isDir(dir) {
			dir = filepath.Join(os.TempDir(), "ggufs-"+strconv.Itoa(os.Getuid()))
		}
	}
	h := fnv.New64a()
	h.Write([]byte(mountpoint))
	path := filepath.Join(dir, "ggufs", fmt.Sprintf("%016x-%d.sock", h.Sum64(), os.Getpid()))
	if len(path) > maxSocketPath {
		return "", fmt.Errorf("share: socket path %s is longer than %d bytes; choose a shorter one", path, maxSocketPath)
	}
	return path, nil
}

func isDir(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.IsDir()
}

// PrepareSocketDir makes the directory of a socket path, private to this
// user (0700), or searchable by every user (0711) when other users must
// reach the socket. An existing directory must belong to this user and not
// be a symbolic link: another user's directory could hold their socket.
func PrepareSocketDir(socketPath string, allowOther bool) error {
	dir := filepath.Dir(socketPath)
	mode := os.FileMode(0o700)
	if allowOther {
		mode = 0o711
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return fmt.Errorf("share: %w", err)
	}
	if err := os.Mkdir(dir, mode); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("share: %w", err)
	}
	st, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("share: %w", err)
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !st.IsDir() || !ok || int(sys.Uid) != os.Getuid() {
		return fmt.Errorf("share: %s is not a directory of uid %d", dir, os.Getuid())
	}
	if err := os.Chmod(dir, mode); err != nil {
		return fmt.Errorf("share: %w", err)
	}
	return nil
}
