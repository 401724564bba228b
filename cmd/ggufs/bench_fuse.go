package main

import "github.com/urfave/cli/v2"

// benchFuseCommand is a placeholder until the benchmark is written.
func benchFuseCommand() *cli.Command {
	return &cli.Command{Name: "fuse", Hidden: true}
}
