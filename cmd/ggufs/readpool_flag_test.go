package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/ggufs/ggufs/internal/cliargs"
)

func TestParseReadPool(t *testing.T) {
	for in, want := range map[string]int64{"": 0, "64MiB": 64 << 20, "1GiB": 1 << 30, "4096": 4096} {
		if got, err := parseReadPool(in); err != nil || got != want {
			t.Errorf("parseReadPool(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"0", "0MiB", "x", "-1MiB", "80%"} {
		if _, err := parseReadPool(bad); err == nil || !strings.Contains(err.Error(), "--read-pool") {
			t.Errorf("parseReadPool(%q): error %v; want one naming --read-pool", bad, err)
		}
	}
}

// -o read_pool=SIZE is --read-pool=SIZE, and a bad size is a usage mistake.
func TestReadPoolMountOption(t *testing.T) {
	got, err := cliargs.Normalize(newApp(), strings.Fields("ggufs mount m.gguf /mnt/m -o read_pool=64MiB,ro"))
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.Fields("ggufs mount --read-pool=64MiB -- m.gguf /mnt/m"); !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	_, err = runApp(t, "mount", "--read-pool", "0", "m.gguf", t.TempDir())
	if err == nil || exitCode(err) != exitUsage || !strings.Contains(err.Error(), "--read-pool") {
		t.Errorf("mount --read-pool 0: error %v, exit %d; want a usage error naming --read-pool", err, exitCode(err))
	}
}
