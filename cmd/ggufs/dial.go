package main

import (
	"fmt"
	"path/filepath"

	"github.com/ggufs/ggufs/mount"
	"github.com/ggufs/ggufs/mount/ctl"
)

// dialMount checks that dir is a ggufs mount point and returns a client of
// its control protocol.
func dialMount(dir string) (*ctl.Client, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if m, ok, err := mount.Find(abs); err != nil {
		return nil, fmt.Errorf("reading the mount table: %w", err)
	} else if !ok || m.FsType != mount.FsType {
		return nil, fmt.Errorf("%s is not a ggufs mount point", abs)
	}
	return ctl.Dial(abs)
}
