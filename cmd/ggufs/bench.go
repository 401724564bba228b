package main

import "github.com/urfave/cli/v2"

// benchCommand is a placeholder until the command is written.
func benchCommand() *cli.Command {
	return &cli.Command{Name: "bench", Hidden: true}
}
