package main

import "github.com/urfave/cli/v2"

// devicesCommand is a placeholder until the command is written.
func devicesCommand() *cli.Command {
	return &cli.Command{Name: "devices", Hidden: true}
}
