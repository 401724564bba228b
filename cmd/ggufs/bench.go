package main

import "github.com/urfave/cli/v2"

// benchCommand groups the benchmarks; each prints its baseline and the ratio to it.
func benchCommand() *cli.Command {
	return &cli.Command{
		Name:  "bench",
		Usage: "measure parsing, upload, cache and filesystem speed against baselines measured in the same run",
		Subcommands: []*cli.Command{
			benchOpenCommand(),
			benchUploadCommand(),
			benchLoadCommand(),
			benchFuseCommand(),
		},
	}
}
