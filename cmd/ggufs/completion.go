package main

import (
	_ "embed"
	"fmt"

	"github.com/urfave/cli/v2"
)

//go:embed completion/ggufs.bash
var bashCompletion string

//go:embed completion/ggufs.zsh
var zshCompletion string

func completionCommand() *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print the shell completion script for bash or zsh",
		ArgsUsage: "bash|zsh",
		Description: `Commands and flags complete from the binary itself; arguments complete as
file names. make install puts both scripts where bash-completion and zsh look.

Examples:
   source <(ggufs completion bash)
   ggufs completion zsh > "${fpath[1]}/_ggufs"`,
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usageError{fmt.Sprintf("completion takes one shell, bash or zsh (got %d arguments)", c.NArg())}
			}
			switch c.Args().First() {
			case "bash":
				_, err := fmt.Fprint(c.App.Writer, bashCompletion)
				return err
			case "zsh":
				_, err := fmt.Fprint(c.App.Writer, zshCompletion)
				return err
			}
			return usageError{fmt.Sprintf("completion: unknown shell %q (want bash or zsh)", c.Args().First())}
		},
	}
}
