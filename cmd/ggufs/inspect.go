package main

import "github.com/urfave/cli/v2"

// inspectCommand is a placeholder until the command is written.
func inspectCommand() *cli.Command {
	return &cli.Command{Name: "inspect", Hidden: true}
}
