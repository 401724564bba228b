package main

import "github.com/urfave/cli/v2"

// benchLoadCommand is a placeholder until the benchmark is written.
func benchLoadCommand() *cli.Command {
	return &cli.Command{Name: "load", Hidden: true}
}
