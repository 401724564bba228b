package main

import (
	"errors"

	"github.com/urfave/cli/v2"

	"github.com/ggufs/ggufs/internal/cliargs"
)

// Exit codes scripts can rely on.
const (
	exitOK    = 0
	exitError = 1 // the operation failed
	exitUsage = 2 // bad arguments or flags
)

// usageError marks an error in how the command was called.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func exitCode(err error) int {
	var ue usageError
	var ae cliargs.UsageError
	if errors.As(err, &ue) || errors.As(err, &ae) {
		return exitUsage
	}
	var ec cli.ExitCoder
	if errors.As(err, &ec) {
		return ec.ExitCode()
	}
	return exitError
}
