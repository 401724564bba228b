package gguf

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzSplitModel: whatever the shards say about themselves (split.no,
// split.count, split.tensors.count, their tensor names, a shard missing),
// OpenModel either fails with an error or returns a model in which every
// tensor is found by its name, once, in the shard that holds it.
func FuzzSplitModel(f *testing.F) {
	f.Add(uint8(3), uint8(0), uint16(0), int32(5), []byte("abcde"), uint8(0))
	f.Add(uint8(2), uint8(1), uint16(1), int32(4), []byte("aabb"), uint8(0))
	f.Add(uint8(3), uint8(2), uint16(7), int32(-1), []byte("xyz"), uint8(2))
	f.Add(uint8(1), uint8(0), uint16(0), int32(1), []byte("q"), uint8(0))
	f.Fuzz(func(t *testing.T, shards, lie uint8, lieValue uint16, total int32, names []byte, missing uint8) {
		n := int(shards%4) + 1
		if len(names) > 16 {
			names = names[:16]
		}
		dir := t.TempDir()
		var paths []string
		for i := range n {
			no, count := uint16(i), uint16(n)
			switch lie % 4 { // one shard may lie about one key
			case 1:
				if i == int(lieValue)%n {
					no = lieValue
				}
			case 2:
				if i == int(lieValue)%n {
					count = lieValue
				}
			}
			kvs := []KV{
				{KeySplitNo, NewUint16(no)},
				{KeySplitCount, NewUint16(count)},
				{KeySplitTensorsCount, NewInt32(total)},
			}
			// Shard i holds the tensors whose name byte falls to it.
			var ts []tspec
			for k, c := range names {
				if int(c)%n == i {
					ts = append(ts, tspec{name: string([]byte{'t', c%8 + 'a'}), dims: []uint64{uint64(k%3 + 1)}, typ: TypeF32})
				}
			}
			p := ShardPath(filepath.Join(dir, "m"), i, n)
			if err := os.WriteFile(p, tfile{kvs: kvs, tensors: sequential(32, ts...)}.bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			paths = append(paths, p)
		}
		if m := int(missing % 8); m > 0 && m <= n && n > 1 {
			os.Remove(paths[m-1])
		}
		m, err := OpenModel(paths[0])
		if err != nil {
			return
		}
		defer m.Close()
		seen := map[string]bool{}
		for _, ti := range m.Tensors {
			if seen[ti.Name] {
				t.Fatalf("tensor %q twice in the model", ti.Name)
			}
			seen[ti.Name] = true
			got, ok := m.Tensor(ti.Name)
			if !ok || got != ti {
				t.Fatalf("Tensor(%q) = %v, %v", ti.Name, got, ok)
			}
			if ti.Shard < 0 || ti.Shard >= len(m.Shards) || m.Shards[ti.Shard].Tensors[ti.Index] != ti {
				t.Fatalf("tensor %q not in its shard %d", ti.Name, ti.Shard)
			}
			if _, err := m.TensorBytes(ti); err != nil {
				t.Fatalf("TensorBytes(%q): %v", ti.Name, err)
			}
		}
		if _, ok := m.Tensor("no such tensor"); ok {
			t.Fatal("found a tensor that is not there")
		}
		if info, _ := m.Shards[0].Split(); len(m.Shards) != info.Count {
			t.Fatalf("%d shards opened; the first says %d", len(m.Shards), info.Count)
		}
	})
}
