package main

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// eventLogger is the structured log --log-level asks for, on w: nil without
// the flag (the mount then logs only its usual lines), else slog's text
// records at that level and above (debug, info, warn, error).
func eventLogger(level string, w io.Writer) (*slog.Logger, error) {
	if level == "" {
		return nil, nil
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(level))); err != nil {
		return nil, usageError{fmt.Sprintf("--log-level %q: want debug, info, warn or error", level)}
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}
