package main

import "github.com/urfave/cli/v2"

// unmountCommand is a placeholder until the command is written.
func unmountCommand() *cli.Command {
	return &cli.Command{Name: "unmount", Hidden: true}
}
