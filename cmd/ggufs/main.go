// Command ggufs mounts a GGUF model file as a FUSE filesystem whose tensor
// files are served from GPU memory, and inspects, generates and benchmarks
// GGUF files.
package main

import (
	"fmt"
	"os"

	"github.com/urfave/cli/v2"
)

func main() {
	app := newApp()
	if err := app.Run(os.Args); err != nil {
		fmt.Fprintf(os.Stderr, "ggufs: %v\n", err)
		os.Exit(exitCode(err))
	}
}

func newApp() *cli.App {
	return &cli.App{
		Name:  "ggufs",
		Usage: "mount GGUF model files as a filesystem served from GPU memory",
		Commands: []*cli.Command{
			mountCommand(),
			unmountCommand(),
			loadCommand(),
			inspectCommand(),
			genCommand(),
			devicesCommand(),
			benchCommand(),
		},
		HideHelpCommand: true,
	}
}
