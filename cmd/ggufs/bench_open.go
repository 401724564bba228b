package main

import "github.com/urfave/cli/v2"

// benchOpenCommand is a placeholder until the benchmark is written.
func benchOpenCommand() *cli.Command {
	return &cli.Command{Name: "open", Hidden: true}
}
