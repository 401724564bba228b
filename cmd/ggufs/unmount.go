package main

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"github.com/ggufs/ggufs/mount"
)

func unmountCommand() *cli.Command {
	return &cli.Command{
		Name:      "unmount",
		Aliases:   []string{"umount"},
		Usage:     "unmount a ggufs mount (the ggufs mount process then frees device memory and exits)",
		ArgsUsage: "MOUNTPOINT",
		Description: `Unmounts MOUNTPOINT, which must be a ggufs mount, also a stale one whose
server has died. As root it unmounts directly; other users go through
fusermount3. A busy mount (open files, a shell inside) is refused unless
--lazy, which detaches it now and lets it go when the last file closes.

Examples:
   ggufs unmount /mnt/m
   ggufs unmount --lazy /mnt/m`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "lazy", Aliases: []string{"z"}, Usage: "detach a busy mount now; it goes away when its last file closes"},
		},
		Action: runUnmount,
	}
}

func runUnmount(c *cli.Context) error {
	if c.NArg() != 1 {
		return usageError{fmt.Sprintf("unmount takes MOUNTPOINT (got %d arguments)", c.NArg())}
	}
	// No stat and no symlink resolution: both fail on a stale mount.
	dir, err := filepath.Abs(c.Args().First())
	if err != nil {
		return err
	}
	m, ok, err := mount.Find(dir)
	switch {
	case err != nil:
		return fmt.Errorf("reading the mount table: %w", err)
	case !ok:
		return fmt.Errorf("%s is not a mount point", dir)
	case m.FsType != mount.FsType:
		return fmt.Errorf("%s is a %s mount, not ggufs (%s): use umount", dir, m.FsType, mount.FsType)
	}
	if err := mount.UnmountDir(dir, c.Bool("lazy")); err != nil {
		if errors.Is(err, unix.EBUSY) {
			return fmt.Errorf("%s is busy: a process has files open or its working directory there (close them, or use --lazy)", dir)
		}
		return fmt.Errorf("unmounting %s: %w", dir, err)
	}
	return nil
}
