package main

import "github.com/urfave/cli/v2"

// loadCommand is a placeholder until the command is written.
func loadCommand() *cli.Command {
	return &cli.Command{Name: "load", Hidden: true}
}
