// Package eventlog makes the structured log a mount's --log-level asks for.
package eventlog

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// New is the structured log at level on w: nil for "" (the mount then logs
// only its usual lines), else slog's text records at that level and above
// (debug, info, warn, error; any case).
func New(level string, w io.Writer) (*slog.Logger, error) {
	if level == "" {
		return nil, nil
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(level))); err != nil {
		return nil, fmt.Errorf("%q: want debug, info, warn or error", level)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}
