// Command ggufs mounts a GGUF model file as a FUSE filesystem whose tensor
// files are served from GPU memory, and inspects, generates and benchmarks
// GGUF files.
package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/ggufs/ggufs/internal/buildinfo"
	"github.com/ggufs/ggufs/internal/cliargs"
)

func main() {
	app := newApp()
	args, err := cliargs.Normalize(app, os.Args) // flags after arguments, -o, mount.fuse
	if err == nil {
		err = app.Run(args)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "ggufs: %v\n", err)
		os.Exit(exitCode(err))
	}
}

func newApp() *cli.App {
	app := &cli.App{
		Name:    "ggufs",
		Usage:   "mount GGUF model files as a filesystem served from GPU memory",
		Version: buildinfo.Version(),
		// An unknown command is a usage error (exit 2), not a help lookup; so
		// is no command at all, after the usage.
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usageError{fmt.Sprintf("unknown command %q (ggufs --help lists them)", c.Args().First())}
			}
			if err := cli.ShowAppHelp(c); err != nil {
				return err
			}
			return usageError{"no command given (ggufs help COMMAND says more)"}
		},
		EnableBashCompletion: true,
		OnUsageError:         flagError,
		Commands: []*cli.Command{
			mountCommand(),
			unmountCommand(),
			loadCommand(),
			statusCommand(),
			evictCommand(),
			inspectCommand(),
			genCommand(),
			devicesCommand(),
			benchCommand(),
			completionCommand(),
		},
	}
	setFlagErrors(app.Commands)
	return app
}

// flagError makes a bad flag a one-line usage error (exit 2) instead of a
// page of help and exit 1.
func flagError(c *cli.Context, err error, _ bool) error {
	var path []string // the subcommand's names, outermost first
	for _, ctx := range c.Lineage() {
		if ctx.Command != nil && ctx.Command.Name != "" && ctx.Command.Name != c.App.Name {
			path = append([]string{ctx.Command.Name}, path...)
		}
	}
	if len(path) == 0 {
		return usageError{fmt.Sprintf("%v (see ggufs --help)", err)}
	}
	name := strings.Join(path, " ")
	return usageError{fmt.Sprintf("%s: %v (see ggufs %s --help)", name, err, name)}
}

func setFlagErrors(cmds []*cli.Command) {
	for _, cmd := range cmds {
		if cmd.OnUsageError == nil {
			cmd.OnUsageError = flagError
		}
		setFlagErrors(cmd.Subcommands)
	}
}
