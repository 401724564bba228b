package fs

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/ggufs/ggufs/synth"
)

func TestStatfsReportsModelSizeAndTensors(t *testing.T) {
	f := testMount(t, synth.Options{Preset: "tiny", Seed: 3}, 0)
	wantBlocks := (uint64(len(f.file)) + statfsBlock - 1) / statfsBlock
	ti := f.model.Tensors[0]
	for _, dir := range []string{f.dir, filepath.Join(f.dir, "tensors"), f.tensorPath(ti.Name, "")} {
		var st syscall.Statfs_t
		if err := syscall.Statfs(dir, &st); err != nil {
			t.Fatalf("statfs %s: %v", dir, err)
		}
		if st.Bsize != statfsBlock || st.Blocks != wantBlocks || st.Bfree != 0 || st.Bavail != 0 {
			t.Errorf("statfs %s: bsize %d blocks %d free %d avail %d; want %d blocks of %d, none free",
				dir, st.Bsize, st.Blocks, st.Bfree, st.Bavail, wantBlocks, statfsBlock)
		}
		if st.Files != uint64(len(f.model.Tensors)) || st.Ffree != 0 {
			t.Errorf("statfs %s: files %d free %d; want %d tensors", dir, st.Files, st.Ffree, len(f.model.Tensors))
		}
	}
}

// du counts what files read: st_blocks covers the size (go-fuse rounds up
// to pages).
func TestFilesCountTheirBlocks(t *testing.T) {
	f := testMount(t, synth.Options{Preset: "tiny", Seed: 3}, 0)
	ti := f.model.Tensors[0]
	for _, p := range []string{f.tensorPath(ti.Name, "data"), f.tensorPath(ti.Name, "shape"), filepath.Join(f.dir, "metadata.json")} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		st := fi.Sys().(*syscall.Stat_t)
		if st.Blocks*512 < fi.Size() || st.Blocks*512 >= fi.Size()+4096 {
			t.Errorf("%s: %d bytes in %d blocks of 512", p, fi.Size(), st.Blocks)
		}
	}
}
