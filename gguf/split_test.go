package gguf

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// writeShards writes a split model of len(names) shards into dir, shard i
// holding the tensors names[i], and returns the shard paths.
func writeShards(t *testing.T, dir string, names [][]string, edit func(i int, kvs []KV) []KV) []string {
	t.Helper()
	total := 0
	for _, ns := range names {
		total += len(ns)
	}
	var paths []string
	for i, ns := range names {
		kvs := []KV{
			{KeySplitNo, NewUint16(uint16(i))},
			{KeySplitCount, NewUint16(uint16(len(names)))},
			{KeySplitTensorsCount, NewInt32(int32(total))},
		}
		if i == 0 {
			kvs = append([]KV{{"general.architecture", NewString("llama")}}, kvs...)
		}
		if edit != nil {
			kvs = edit(i, kvs)
		}
		var ts []tspec
		for _, n := range ns {
			ts = append(ts, tspec{name: n, dims: []uint64{8}, typ: TypeF32})
		}
		p := ShardPath(filepath.Join(dir, "model"), i, len(names))
		if err := os.WriteFile(p, tfile{kvs: kvs, tensors: sequential(32, ts...)}.bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	return paths
}

var threeShards = [][]string{{"token_embd.weight", "blk.0.attn_q.weight"}, {"blk.0.ffn_up.weight"}, {"output_norm.weight", "output.weight"}}

func TestOpenModelSplit(t *testing.T) {
	dir := t.TempDir()
	paths := writeShards(t, dir, threeShards, nil)
	if filepath.Base(paths[1]) != "model-00002-of-00003.gguf" {
		t.Fatalf("shard name %s", paths[1])
	}
	// Opening any shard opens the whole model.
	for _, p := range []string{paths[0], paths[2]} {
		m, err := OpenModel(p)
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Shards) != 3 || len(m.Tensors) != 5 {
			t.Fatalf("%d shards %d tensors", len(m.Shards), len(m.Tensors))
		}
		if s, _ := m.Metadata.String("general.architecture"); s != "llama" {
			t.Errorf("metadata is not the first shard's")
		}
		i := 0
		for si, ns := range threeShards {
			for _, n := range ns {
				ti, ok := m.Tensor(n)
				if !ok || ti.Shard != si || m.Tensors[i] != ti {
					t.Fatalf("tensor %q: found %v shard %d", n, ok, ti.Shard)
				}
				b, err := m.TensorBytes(ti)
				if err != nil || len(b) != 32 {
					t.Fatalf("tensor %q bytes: %d %v", n, len(b), err)
				}
				i++
			}
		}
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestOpenModelSingleFile(t *testing.T) {
	m, err := OpenModel(writeTemp(t, "one.gguf", typicalFile().bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if len(m.Shards) != 1 || len(m.Tensors) != len(typicalTensors()) {
		t.Errorf("%d shards %d tensors", len(m.Shards), len(m.Tensors))
	}
}

func TestOpenModelSplitErrors(t *testing.T) {
	t.Run("missing shard", func(t *testing.T) {
		paths := writeShards(t, t.TempDir(), threeShards, nil)
		os.Remove(paths[1])
		if _, err := OpenModel(paths[0]); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("got %v", err)
		}
	})
	t.Run("duplicate across shards", func(t *testing.T) {
		paths := writeShards(t, t.TempDir(), [][]string{{"a", "b"}, {"b"}}, nil)
		_, err := OpenModel(paths[0])
		if fe := wantFormatError(t, err, ErrDuplicate); fe.Tensor != "b" {
			t.Errorf("tensor %q", fe.Tensor)
		}
	})
	t.Run("tensor count disagrees", func(t *testing.T) {
		paths := writeShards(t, t.TempDir(), threeShards, func(i int, kvs []KV) []KV {
			for j := range kvs {
				if kvs[j].Key == KeySplitTensorsCount {
					kvs[j].Value = NewInt32(6)
				}
			}
			return kvs
		})
		_, err := OpenModel(paths[0])
		if fe := wantFormatError(t, err, ErrSplit); fe.Key != KeySplitTensorsCount {
			t.Errorf("key %q", fe.Key)
		}
	})
	t.Run("shard count disagrees", func(t *testing.T) {
		paths := writeShards(t, t.TempDir(), threeShards, func(i int, kvs []KV) []KV {
			if i == 2 {
				kvs[1].Value = NewUint16(4)
			}
			return kvs
		})
		_, err := OpenModel(paths[0])
		wantFormatError(t, err, ErrSplit)
	})
	t.Run("renamed shard", func(t *testing.T) {
		paths := writeShards(t, t.TempDir(), threeShards, nil)
		renamed := filepath.Join(filepath.Dir(paths[0]), "renamed.gguf")
		os.Rename(paths[0], renamed)
		_, err := OpenModel(renamed)
		wantFormatError(t, err, ErrSplit)
	})
	t.Run("split.no beyond count", func(t *testing.T) {
		paths := writeShards(t, t.TempDir(), threeShards, func(i int, kvs []KV) []KV {
			if i == 0 {
				kvs[1].Value = NewUint16(7)
			}
			return kvs
		})
		_, err := OpenModel(paths[0])
		if fe := wantFormatError(t, err, ErrSplit); fe.Key != KeySplitNo {
			t.Errorf("key %q", fe.Key)
		}
	})
}
