package e2e

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/ggufs/ggufs/gguf"
	"github.com/ggufs/ggufs/synth"
)

// writeSplit writes the tiny model as shards PREFIX-0000N-of-0000K.gguf the
// way llama.cpp's gguf-split does: the first shard carries the metadata,
// every shard the split keys, the tensors divided between them.
func writeSplit(t *testing.T, shards int) (paths []string, plan *synth.Model) {
	t.Helper()
	plan, err := synth.Plan(synth.Options{Preset: "tiny", Seed: 61})
	if err != nil {
		t.Fatal(err)
	}
	prefix := filepath.Join(t.TempDir(), "tiny")
	per := (len(plan.Tensors) + shards - 1) / shards
	for no := range shards {
		lo, hi := no*per, min((no+1)*per, len(plan.Tensors))
		md := []gguf.KV{
			{Key: gguf.KeySplitNo, Value: gguf.NewUint16(uint16(no))},
			{Key: gguf.KeySplitCount, Value: gguf.NewUint16(uint16(shards))},
			{Key: gguf.KeySplitTensorsCount, Value: gguf.NewInt32(int32(len(plan.Tensors)))},
		}
		if no == 0 {
			md = append(slices.Clone(plan.Metadata), md...)
		}
		path := gguf.ShardPath(prefix, no, shards)
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		w, err := gguf.NewWriter(f, md, plan.Tensors[lo:hi], gguf.WriterOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for i := lo; i < hi; i++ {
			spec := w.Tensors()[i-lo]
			buf := make([]byte, spec.Size)
			plan.TensorData(i, 0, buf)
			if err := w.WriteTensorBytes(spec.Name, buf); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, path)
	}
	return paths, plan
}

// A split model mounts from its first shard as one tree, each tensor read
// from the shard that holds it.
func TestSplitModelMountsAsOneTree(t *testing.T) {
	shards, plan := writeSplit(t, 3)
	m := startMount(t, shards[0])
	per := (len(plan.Tensors) + len(shards) - 1) / len(shards)
	if !strings.Contains(m.stdout.String(), "3 shards") {
		t.Errorf("mount line %q does not mention the shards", m.stdout.String())
	}
	names := readDir(t, filepath.Join(m.dir, "tensors"))
	if len(names) != len(plan.Tensors) {
		t.Fatalf("tensors/ lists %d, want %d", len(names), len(plan.Tensors))
	}
	for i, spec := range plan.Tensors {
		dir := tensorDir(m.dir, spec.Name)
		got, err := os.ReadFile(filepath.Join(dir, "data"))
		if err != nil {
			t.Fatalf("%s: %v", spec.Name, err)
		}
		want := make([]byte, len(got))
		plan.TensorData(i, 0, want)
		if !bytes.Equal(got, want) {
			t.Errorf("%s: bytes differ", spec.Name)
		}
		buf := make([]byte, 4096)
		n, err := syscall.Getxattr(dir, "user.ggufs.shard", buf)
		if want := shards[i/per]; err != nil || string(buf[:n]) != want {
			t.Errorf("%s: user.ggufs.shard = %q, %v; want %q", spec.Name, buf[:n], err, want)
		}
	}
	if v, err := os.ReadFile(filepath.Join(m.dir, "metadata", "general.architecture")); err != nil || string(v) != "llama\n" {
		t.Errorf("metadata of the first shard: %q, %v", v, err)
	}
}

// A llama-70b-shaped model (a 37 GiB sparse file) mounts with its 723
// tensors listed; reading one serves its (zero) bytes.
func TestLargeSparseModelMounts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "llama-70b.gguf")
	if _, err := synth.GenerateFile(path, synth.Options{Preset: "llama-70b", Sparse: true}); err != nil {
		t.Fatal(err)
	}
	// The cache must hold the largest tensor (token_embd.weight, 564 MiB):
	// a smaller one is refused at mount.
	m := startMount(t, path, "--cache-size", "600MiB")
	names := readDir(t, filepath.Join(m.dir, "tensors"))
	if len(names) != 723 {
		t.Errorf("tensors/ lists %d, want 723", len(names))
	}
	got, err := os.ReadFile(filepath.Join(tensorDir(m.dir, "output_norm.weight"), "data"))
	if err != nil || len(got) != 8192*4 || !bytes.Equal(got, make([]byte, len(got))) {
		t.Errorf("output_norm.weight: %d bytes, %v; want 32768 zero bytes", len(got), err)
	}
}

func readDir(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name()
	}
	return names
}
