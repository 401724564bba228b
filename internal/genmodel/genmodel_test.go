package genmodel

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ggufs/ggufs/synth"
)

func TestWriteAllWritesEveryShardAndCountsItsBytes(t *testing.T) {
	shards, err := Plan(synth.Options{Preset: "tiny", Split: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(shards) != 2 {
		t.Fatalf("Split 2 planned %d shards", len(shards))
	}
	dir := t.TempDir()
	paths := synth.ShardPaths(filepath.Join(dir, "m.gguf"), len(shards))
	var counted uint64
	st, err := WriteAll(paths, shards, func(n uint64) { counted += n })
	if err != nil {
		t.Fatal(err)
	}
	var onDisk uint64
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o644 {
			t.Errorf("%s: mode %v, want 0644", p, fi.Mode().Perm())
		}
		onDisk += uint64(fi.Size())
	}
	if st.FileBytes != onDisk || counted != onDisk {
		t.Errorf("stats say %d bytes, counted %d, on disk %d", st.FileBytes, counted, onDisk)
	}
	if counted < DataBytes(shards) {
		t.Errorf("counted %d bytes, fewer than the %d of tensor data", counted, DataBytes(shards))
	}
	if err := CheckOverwrite(paths); err != nil {
		t.Errorf("a model gen made must be replaceable: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != len(paths) {
		t.Errorf("%d files in the directory, want only the %d shards", len(entries), len(paths))
	}
}

func TestCheckOverwriteRefusesOtherFiles(t *testing.T) {
	p := filepath.Join(t.TempDir(), "real.gguf")
	if err := os.WriteFile(p, []byte("someone's model"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := CheckOverwrite([]string{p}); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Errorf("CheckOverwrite(%s) = %v, want a refusal naming --force", p, err)
	}
}

func TestWriteFailureLeavesNothing(t *testing.T) {
	shards, err := Plan(synth.Options{Preset: "tiny"})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "sub") // a directory: the rename onto it fails
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(out, "x"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Write(out, shards[0], nil); err == nil || !strings.Contains(err.Error(), out) {
		t.Fatalf("Write onto a directory: %v, want an error naming it", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("%d entries left, want only the directory: the temporary file must go", len(entries))
	}
}

func TestPlanRejectsBadOptions(t *testing.T) {
	if _, err := Plan(synth.Options{Preset: "no-such-preset"}); err == nil {
		t.Error("Plan accepted an unknown preset")
	}
}

func TestReportSaysWhatWasWritten(t *testing.T) {
	opts := synth.Options{Preset: "tiny", Sparse: true, Split: 2}
	shards, err := Plan(opts)
	if err != nil {
		t.Fatal(err)
	}
	paths := synth.ShardPaths(filepath.Join(t.TempDir(), "m.gguf"), len(shards))
	st, err := WriteAll(paths, shards, nil)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	Report(&b, paths, opts, st, 0)
	for _, want := range []string{"wrote " + paths[0], "preset tiny, GGUF v3 little-endian, alignment 32",
		"split into 2 shards", "data left as a hole (sparse)"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, b.String())
		}
	}
}
