package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/ggufs/ggufs/mount"
)

// daemonChildEnv marks the background process `mount --daemon` starts: it
// serves in the foreground of its own session.
const daemonChildEnv = "GGUFS_DAEMON_CHILD"

// daemonPoll is how often the starting process looks for the mount.
const daemonPoll = 20 * time.Millisecond

// daemonRequested reports whether this mount should go to the background.
func daemonRequested(c *cli.Context) bool {
	return c.Bool("daemon") && os.Getenv(daemonChildEnv) == ""
}

// runDaemon runs this same command again in a new session, detached from the
// terminal, with its output in a log file, and returns once the mount is
// ready (it appears in mountinfo), or with the log's last lines when the
// background process fails first. That is what mount(8) and systemd
// (Type=forking) expect of a mount helper.
func runDaemon(c *cli.Context) error {
	// Bad flags are usage errors here, in the foreground, not in the log.
	if _, _, _, err := mountOptions(c); err != nil {
		return err
	}
	dir, err := filepath.Abs(c.Args().Get(1))
	if err != nil {
		return fmt.Errorf("mount: %w", err)
	}
	if e, found, _ := mount.Find(dir); found {
		return fmt.Errorf("mount: %s is already a mount point (%s); unmount it first", dir, e.FsType)
	}
	logPath := c.String("log-file")
	if logPath == "" {
		logPath = defaultLogPath(dir)
	}
	if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err != nil {
		return fmt.Errorf("mount --daemon: log directory: %w", err)
	}
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("mount --daemon: log file: %w", err)
	}
	defer logFile.Close()
	start, _ := logFile.Seek(0, 2) // where this run's lines begin
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("mount --daemon: finding this binary: %w", err)
	}
	cmd := exec.Command(exe, os.Args[1:]...)
	cmd.Env = append(os.Environ(), daemonChildEnv+"=1")
	cmd.Stdout, cmd.Stderr = logFile, logFile // stdin stays /dev/null
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("mount --daemon: %w", err)
	}
	pid := cmd.Process.Pid
	for {
		if e, found, _ := mount.Find(dir); found && e.FsType == mount.FsType {
			fmt.Fprintf(c.App.Writer, "ggufs: mounted %s on %s in the background (pid %d); log: %s\n",
				c.Args().Get(0), dir, pid, logPath)
			return cmd.Process.Release()
		}
		var ws syscall.WaitStatus
		if got, err := syscall.Wait4(pid, &ws, syscall.WNOHANG, nil); err != nil || got == pid {
			return fmt.Errorf("mount --daemon: the background mount ended (%s) before mounting:\n%s", exitText(ws),
				logTail(logPath, start))
		}
		time.Sleep(daemonPoll)
	}
}

// defaultLogPath is where a background mount of dir logs: /var/log/ggufs for
// root, else $XDG_STATE_HOME/ggufs (~/.local/state/ggufs); the file is named
// after the mount point, systemd style (/mnt/m: mnt-m.log).
func defaultLogPath(dir string) string {
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
