package daemon

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDefaultLogPathNamesTheMountPoint(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", "/state")
	want := "/var/log/ggufs/mnt-m.log"
	if os.Geteuid() != 0 {
		want = "/state/ggufs/mnt-m.log"
	}
	if got := DefaultLogPath("/mnt/m/"); got != want {
		t.Errorf("DefaultLogPath(/mnt/m/) = %q, want %q", got, want)
	}
	if got := DefaultLogPath("/"); filepath.Base(got) != "root.log" {
		t.Errorf("DefaultLogPath(/) = %q, want root.log", got)
	}
}

func TestLogTailKeepsThisRunsLastLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	old := "an earlier run\n"
	var b strings.Builder
	b.WriteString(old)
	for i := range 25 {
		b.WriteString(strings.Repeat("x", i) + "\n")
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(logTail(path, int64(len(old))), "\n")
	if len(lines) != 20 || lines[0] != strings.Repeat("x", 5) || lines[19] != strings.Repeat("x", 24) {
		t.Errorf("logTail: %d lines, first %q, last %q; want the last 20", len(lines), lines[0], lines[len(lines)-1])
	}
	if got := logTail(path, 1<<20); got != "(log unreadable)" {
		t.Errorf("logTail past the end = %q", got)
	}
}
