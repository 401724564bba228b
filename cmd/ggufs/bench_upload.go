package main

import "github.com/urfave/cli/v2"

// benchUploadCommand is a placeholder until the benchmark is written.
func benchUploadCommand() *cli.Command {
	return &cli.Command{Name: "upload", Hidden: true}
}
