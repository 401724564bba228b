package eventlog

import (
	"strings"
	"testing"
)

func TestNewLogsAtItsLevelAndAbove(t *testing.T) {
	if l, err := New("", nil); l != nil || err != nil {
		t.Errorf(`New("") = %v, %v; want no log and no error`, l, err)
	}
	var b strings.Builder
	l, err := New("Warn", &b)
	if err != nil {
		t.Fatal(err)
	}
	l.Info("evicted")
	l.Error("read failed")
	if out := b.String(); strings.Contains(out, "evicted") || !strings.Contains(out, "level=ERROR msg=\"read failed\"") {
		t.Errorf("at warn, got %q; want the error record only", out)
	}
}

func TestNewRefusesUnknownLevels(t *testing.T) {
	if _, err := New("verbose", nil); err == nil || !strings.Contains(err.Error(), `"verbose": want debug, info, warn or error`) {
		t.Errorf(`New("verbose") error %v; want one naming the level and the choices`, err)
	}
}
