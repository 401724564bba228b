// Package daemon starts a command again in the background, detached from the
// terminal, and waits until it is ready or has failed: what mount(8) and
// systemd (Type=forking) expect of a mount helper.
package daemon

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// ChildEnv marks the background process Start runs: set, it serves in the
// foreground of its own session instead of starting another.
const ChildEnv = "GGUFS_DAEMON_CHILD"

// poll is how often Start asks whether the background process is ready.
const poll = 20 * time.Millisecond

// IsChild reports whether this process is one that Start ran.
func IsChild() bool { return os.Getenv(ChildEnv) != "" }

// Options say what to run in the background and how to know it is ready.
type Options struct {
	Args    []string    // this binary's arguments for the background process
	LogPath string      // where its stdout and stderr go (appended)
	Ready   func() bool // reports that it is ready (its mount is up)
}

// Start runs this same binary with o.Args in a new session, with ChildEnv
// set and its output in o.LogPath, and returns its pid once o.Ready says
// so, or an error holding the log's last lines when it ends first.
func Start(o Options) (pid int, err error) {
	if err := os.MkdirAll(filepath.Dir(o.LogPath), 0o755); err != nil {
		return 0, fmt.Errorf("log directory: %w", err)
	}
	logFile, err := os.OpenFile(o.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return 0, fmt.Errorf("log file: %w", err)
	}
	defer logFile.Close()
	start, _ := logFile.Seek(0, 2) // where this run's lines begin
	exe, err := os.Executable()
	if err != nil {
		return 0, fmt.Errorf("finding this binary: %w", err)
	}
	cmd := exec.Command(exe, o.Args...)
	cmd.Env = append(os.Environ(), ChildEnv+"=1")
	cmd.Stdout, cmd.Stderr = logFile, logFile // stdin stays /dev/null
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	pid = cmd.Process.Pid
	for {
		if o.Ready() {
			return pid, cmd.Process.Release()
		}
		var ws syscall.WaitStatus
		if got, err := syscall.Wait4(pid, &ws, syscall.WNOHANG, nil); err != nil || got == pid {
			return 0, fmt.Errorf("the background mount ended (%s) before mounting:\n%s", exitText(ws),
				logTail(o.LogPath, start))
		}
		time.Sleep(poll)
	}
}

// DefaultLogPath is where a background mount of dir logs: /var/log/ggufs for
// root, else $XDG_STATE_HOME/ggufs (~/.local/state/ggufs); the file is named
// after the mount point, systemd style (/mnt/m: mnt-m.log).
func DefaultLogPath(dir string) string {
	name := strings.ReplaceAll(strings.Trim(dir, "/"), "/", "-")
	if name == "" {
		name = "root"
	}
	if os.Geteuid() == 0 {
		return filepath.Join("/var/log/ggufs", name+".log")
	}
	state := os.Getenv("XDG_STATE_HOME")
	if state == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			home = os.TempDir()
		}
		state = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(state, "ggufs", name+".log")
}

func exitText(ws syscall.WaitStatus) string {
	if ws.Signaled() {
		return "signal " + ws.Signal().String()
	}
	return fmt.Sprintf("exit status %d", ws.ExitStatus())
}

// logTail is what the background process wrote to the log from offset on,
// at most its last 20 lines.
func logTail(path string, from int64) string {
	b, err := os.ReadFile(path)
	if err != nil || from > int64(len(b)) {
		return "(log unreadable)"
	}
	lines := bytes.Split(bytes.TrimRight(b[from:], "\n"), []byte("\n"))
	if len(lines) > 20 {
		lines = lines[len(lines)-20:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}
