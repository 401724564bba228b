// Package cliargs rewrites a ggufs command line before urfave/cli parses it:
// flags after arguments, mount's -o options, and the mount.fuse convention.
package cliargs

import (
	"slices"
	"strings"

	"github.com/urfave/cli/v2"
)

// completionFlag is urfave/cli's hidden flag asking for completions; it must
// stay the last argument.
const completionFlag = "--generate-bash-completion"

// Normalize lets every command take its flags before or after its
// arguments, as other mount tools do (urfave/cli stops parsing flags at the
// first argument): it moves the flags of the command named in args in front
// of its arguments. "--" ends the flags; what follows it stays an argument.
// It also turns mount's -o options into flags (mountopts.go) and the
// mount.fuse convention, `ggufs MODEL MOUNTPOINT -o OPTIONS`, into
// `ggufs mount --daemon ...`.
func Normalize(app *cli.App, args []string) ([]string, error) {
	if len(args) < 2 {
		return args, nil
	}
	out := []string{args[0]}
	rest := args[1:]
	// Walk down the command path: app flags and command names.
	flags := app.Flags
	var cmd *cli.Command
	cmds := app.Commands
	if isMountHelperCall(app, rest) {
		out = append(out, "mount", "--daemon")
		cmd = findCommand(app.Commands, "mount")
		flags, cmds = cmd.Flags, nil
	}
	for len(rest) > 0 {
		if c := findCommand(cmds, rest[0]); c != nil {
			out = append(out, rest[0])
			rest = rest[1:]
			cmd, flags, cmds = c, c.Flags, c.Subcommands
			continue
		}
		if !strings.HasPrefix(rest[0], "-") || rest[0] == "-" || rest[0] == "--" || len(cmds) == 0 {
			break
		}
		// A flag before the command name: keep it here, with its value.
		n := flagArgs(flags, rest)
		out = append(out, rest[:n]...)
		rest = rest[n:]
	}
	completing := len(rest) > 0 && rest[len(rest)-1] == completionFlag
	if completing {
		rest = rest[:len(rest)-1]
	}
	var moved, positional []string
	for i := 0; i < len(rest); i++ {
		a := rest[i]
		switch {
		case a == "--":
			positional = append(positional, rest[i+1:]...)
			i = len(rest)
		case a == "-o" && cmd != nil && cmd.Name == "mount":
			if i+1 >= len(rest) {
				return nil, UsageError{"mount: -o needs a value (-o cache_size=8GiB,allow_other)"}
			}
			f, err := mountOptionFlags(rest[i+1], flags)
			if err != nil {
				return nil, err
			}
			moved = append(moved, f...)
			i++
		case strings.HasPrefix(a, "-") && a != "-":
			n := flagArgs(flags, rest[i:])
			moved = append(moved, rest[i:i+n]...)
			i += n - 1
		default:
			positional = append(positional, a)
		}
	}
	out = append(out, moved...)
	if len(positional) > 0 {
		out = append(out, "--")
		out = append(out, positional...)
	}
	if completing {
		out = append(out, completionFlag)
	}
	return out, nil
}

// findCommand returns the command (or alias) named name, if any.
func findCommand(cmds []*cli.Command, name string) *cli.Command {
	for _, c := range cmds {
		if c.Name == name || slices.Contains(c.Aliases, name) {
			return c
		}
	}
	if name == "help" {
		return &cli.Command{Name: "help"} // urfave's own; it takes command names
	}
	return nil
}

// flagArgs is how many of args the flag args[0] uses: 1 for a boolean or
// --name=value, 2 for a flag that takes its value from the next argument.
// An unknown flag counts 1 (urfave/cli then says it is unknown).
func flagArgs(flags []cli.Flag, args []string) int {
	name := strings.TrimLeft(args[0], "-")
	if strings.Contains(name, "=") || len(args) < 2 {
		return 1
	}
	for _, f := range flags {
		if !slices.Contains(f.Names(), name) {
			continue
		}
		if _, isBool := f.(*cli.BoolFlag); isBool {
			return 1
		}
		return 2
	}
	return 1 // --help, -h, --version and unknown flags take no value
}

// isMountHelperCall reports the mount.fuse convention: mount.fuse3 runs
// `ggufs MODEL MOUNTPOINT -o OPTIONS` (the options always hold at least dev
// or nodev): a first argument that is no command, followed by -o.
func isMountHelperCall(app *cli.App, args []string) bool {
	if len(args) < 3 || strings.HasPrefix(args[0], "-") || findCommand(app.Commands, args[0]) != nil {
		return false
	}
	return slices.Contains(args[1:], "-o")
}

// UsageError marks a command line that cannot be rewritten: a bad -o option.
type UsageError struct{ msg string }

func (e UsageError) Error() string { return e.msg }
