package fs

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/ggufs/ggufs/synth"
)

// A live file's counters move between a stat and the open after it: the
// open serves what the stat measured, then later opens render afresh.
func TestLiveFileReadsAtTheSizeItStats(t *testing.T) {
	n := 9
	f := &liveFile{root: &Root{}, render: func() []byte {
		n++ // each render is a byte longer than the last
		return bytes.Repeat([]byte("x"), n)
	}}
	ctx := context.Background()
	var out fuse.AttrOut
	if errno := f.Getattr(ctx, nil, &out); errno != 0 {
		t.Fatal(errno)
	}
	stated := out.Size
	fh, _, errno := f.Open(ctx, syscall.O_RDONLY)
	if errno != 0 {
		t.Fatal(errno)
	}
	if got := uint64(len(fh.(*snapshot).content)); got != stated {
		t.Errorf("stat said %d bytes, the open after it serves %d", stated, got)
	}
	if errno := f.Getattr(ctx, fh, &out); errno != 0 || out.Size != stated {
		t.Errorf("fstat of the open file: %d, %v; want %d", out.Size, errno, stated)
	}
	fh2, _, _ := f.Open(ctx, syscall.O_RDONLY)
	if got := uint64(len(fh2.(*snapshot).content)); got == stated {
		t.Errorf("an open with no stat before it served the old %d bytes, not a fresh render", got)
	}
}

func TestStatsJSONReadsAtItsStatSize(t *testing.T) {
	f := testMount(t, synth.Options{Preset: "tiny", Seed: 4}, 0)
	p := filepath.Join(f.dir, "stats.json")
	for _, ti := range f.model.Tensors[:3] {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(b)) != st.Size() {
			t.Errorf("stats.json stats %d bytes and reads %d", st.Size(), len(b))
		}
		if _, err := os.ReadFile(f.tensorPath(ti.Name, "data")); err != nil {
			t.Fatal(err)
		}
	}
}
