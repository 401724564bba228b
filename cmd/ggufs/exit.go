package main

import (
	"errors"

	"github.com/urfave/cli/v2"
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
	if errors.As(err, &ue) {
		return exitUsage
	}
	var ec cli.ExitCoder
	if errors.As(err, &ec) {
		return ec.ExitCode()
	}
	return exitError
}
