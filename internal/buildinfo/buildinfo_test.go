package buildinfo

import (
	"runtime/debug"
	"testing"
)

func TestFormatVersion(t *testing.T) {
	info := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.3.0"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123456789abcdef0123"},
		{Key: "vcs.modified", Value: "true"},
		{Key: "vcs.time", Value: "2026-12-02T13:00:00Z"},
	}}
	if got, want := format(info), "v0.3.0 (commit 0123456789ab+changes of 2026-12-02T13:00:00Z, go1.26.8)"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	bare := &debug.BuildInfo{GoVersion: "go1.26.8"}
	if got, want := format(bare), "(devel) (commit unknown, go1.26.8)"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
