package main

import (
	"slices"
	"testing"

	"github.com/ggufs/ggufs/internal/cliargs"
)

// The real app: every command's flags parse after its arguments.
func TestEveryCommandTakesFlagsAfterArguments(t *testing.T) {
	app := newApp()
	for _, cmd := range app.Commands {
		got, err := cliargs.Normalize(app, []string{"ggufs", cmd.Name, "ARG", "--help"})
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"ggufs", cmd.Name, "--help", "--", "ARG"}; !slices.Equal(got, want) {
			t.Errorf("%s: %q, want %q", cmd.Name, got, want)
		}
	}
}
