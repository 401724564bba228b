package main

import (
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// Scripts rely on exit status 2 for any mistake in how ggufs was called.
func TestUsageMistakesExitTwo(t *testing.T) {
	for _, args := range [][]string{
		{"bogus"},
		{"--nope"},
		{"inspect", "--bogus", "x"},
		{"bench", "upload", "--nope"},
		{"mount", "--cache-size"},
	} {
		_, err := runApp(t, args...)
		if err == nil || exitCode(err) != exitUsage {
			t.Errorf("ggufs %s: error %v, exit %d; want a usage error (exit %d)", strings.Join(args, " "), err, exitCode(err), exitUsage)
		}
	}
}

// Every command and flag explains itself in --help.
func TestEveryCommandAndFlagHasUsage(t *testing.T) {
	var check func(path string, cmds []*cli.Command)
	check = func(path string, cmds []*cli.Command) {
		for _, cmd := range cmds {
			name := path + " " + cmd.Name
			if cmd.Usage == "" {
				t.Errorf("%s: no usage line", name)
			}
			for _, f := range cmd.Flags {
				if d, ok := f.(cli.DocGenerationFlag); !ok || d.GetUsage() == "" {
					t.Errorf("%s: flag %v has no usage text", name, f.Names())
				}
			}
			check(name, cmd.Subcommands)
		}
	}
	check("ggufs", newApp().Commands)
}
