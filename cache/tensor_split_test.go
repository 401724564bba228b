package cache

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/ggufs/ggufs/gguf"
	"github.com/ggufs/ggufs/synth"
)

// A split model's tensors upload from their own shard: every device copy
// equals the unsplit model's bytes, whichever of the mapping and the file
// (pread) the device reads, and each tensor's file is its shard's.
func TestTensorsFromSplitModel(t *testing.T) {
	const shards = 3
	opts := synth.Options{Preset: "tiny", Seed: 21, Split: shards}
	path := filepath.Join(t.TempDir(), "m.gguf")
	if _, err := synth.GenerateFile(path, opts); err != nil {
		t.Fatal(err)
	}
	m, err := gguf.OpenModel(synth.ShardPaths(path, shards)[1])
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	opts.Split = 0
	whole, err := synth.Plan(opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Shards) != shards || len(m.Tensors) != len(whole.Tensors) {
		t.Fatalf("%d shards, %d tensors; want %d, %d", len(m.Shards), len(m.Tensors), shards, len(whole.Tensors))
	}
	tensors := TensorsFromModel(m)
	c := newTestCacheOf(t, tensors)
	if err := c.LoadAll(context.Background(), nil, nil); err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for i, info := range m.Tensors {
		seen[info.Shard] = true
		// The copy the device is handed carries one source: its file is the
		// tensor's shard, and a pread there and the mapping both give the
		// tensor's bytes.
		cp, err := tensors[i].copyTo(0)
		if err != nil {
			t.Fatal(err)
		}
		file, off := cp.Src.File()
		if file != m.Shards[info.Shard].OSFile() || off != int64(info.FileOffset) {
			t.Fatalf("%s (shard %d): source is at %d of another file, not its shard's", info.Name, info.Shard, off)
		}
		if cp.Src.Len() != int(info.Size) {
			t.Fatalf("%s (shard %d): source of %d bytes, want %d", info.Name, info.Shard, cp.Src.Len(), info.Size)
		}
		want := make([]byte, info.Size)
		whole.TensorData(i, 0, want)
		fromFile := make([]byte, info.Size)
		if _, err := file.ReadAt(fromFile, off); err != nil || !bytes.Equal(fromFile, want) {
			t.Fatalf("%s (shard %d): pread at %d differs from the model (%v)", info.Name, info.Shard, off, err)
		}
		if !bytes.Equal(cp.Src.Bytes(), want) {
			t.Fatalf("%s (shard %d): mapped bytes differ from the model", info.Name, info.Shard)
		}
		got := make([]byte, info.Size)
		if _, err := c.ReadAt(context.Background(), info.Name, got, 0); err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s (shard %d): device bytes differ from the model (%v)", info.Name, info.Shard, err)
		}
	}
	if len(seen) != shards {
		t.Fatalf("tensors came from %d shards; want %d", len(seen), shards)
	}
}

func newTestCacheOf(t *testing.T, tensors []Tensor) *Cache {
	t.Helper()
	c, err := New(newHost(t, 64<<20), tensors, Options{Budget: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}
