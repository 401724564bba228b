package main

import "github.com/urfave/cli/v2"

// mountCommand is a placeholder until the command is written.
func mountCommand() *cli.Command {
	return &cli.Command{Name: "mount", Hidden: true}
}
