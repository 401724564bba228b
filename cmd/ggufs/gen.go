package main

import "github.com/urfave/cli/v2"

// genCommand is a placeholder until the command is written.
func genCommand() *cli.Command {
	return &cli.Command{Name: "gen", Hidden: true}
}
