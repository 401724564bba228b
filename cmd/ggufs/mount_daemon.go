package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/ggufs/ggufs/internal/daemon"
	"github.com/ggufs/ggufs/mount"
)

// daemonRequested reports whether this mount should go to the background.
func daemonRequested(c *cli.Context) bool {
	return c.Bool("daemon") && !daemon.IsChild()
}

// runDaemon runs this mount again in the background and returns once it is
// mounted (it appears in mountinfo), or with the log's last lines when the
// background process fails first.
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
		logPath = daemon.DefaultLogPath(dir)
	}
	pid, err := daemon.Start(daemon.Options{Args: os.Args[1:], LogPath: logPath, Ready: func() bool {
		e, found, _ := mount.Find(dir)
		return found && e.FsType == mount.FsType
	}})
	if err != nil {
		return fmt.Errorf("mount --daemon: %w", err)
	}
	fmt.Fprintf(c.App.Writer, "ggufs: mounted %s on %s in the background (pid %d); log: %s\n",
		c.Args().Get(0), dir, pid, logPath)
	return nil
}
