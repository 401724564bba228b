package mount

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestParseMountinfo(t *testing.T) {
	line := `36 35 0:52 / /tmp/my\040models/mnt rw,nosuid,nodev,relatime shared:1 - fuse.ggufs ggufs rw,user_id=0,group_id=0`
	e, ok := parseMountinfo(line)
	if !ok || e.Point != "/tmp/my models/mnt" || e.FsType != "fuse.ggufs" || e.Source != "ggufs" {
		t.Errorf("parseMountinfo = %+v, %v", e, ok)
	}
	for _, bad := range []string{"", "1 2 3", "36 35 0:52 / /x rw - ", "no separator here at all"} {
		if _, ok := parseMountinfo(bad); ok {
			t.Errorf("parseMountinfo(%q) accepted", bad)
		}
	}
	if got := unescapeMountinfo(`a\011b\134c\12`); got != "a\tb\\c\\12" {
		t.Errorf("unescape = %q", got)
	}
}

func TestCheckMountpoint(t *testing.T) {
	dir := t.TempDir()
	if got, err := CheckMountpoint(dir); err != nil || got != dir {
		t.Errorf("CheckMountpoint(%s) = %q, %v", dir, got, err)
	}
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]error{
		file:                       ErrNotDir,
		filepath.Join(dir, "none"): ErrNoDir,
		"/proc":                    ErrBusyMount,
	} {
		if _, err := CheckMountpoint(path); !errors.Is(err, want) {
			t.Errorf("CheckMountpoint(%s) = %v, want %v", path, err, want)
		}
	}
}
