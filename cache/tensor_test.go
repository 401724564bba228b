package cache

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/ggufs/ggufs/gguf"
	"github.com/ggufs/ggufs/synth"
)

// TestTensorsFromModel loads every tensor of a generated model that has one
// of each known type and one of an unknown type, and compares the device
// copies with the file.
func TestTensorsFromModel(t *testing.T) {
	path := filepath.Join(t.TempDir(), "zoo.gguf")
	if _, err := synth.GenerateFile(path, synth.Options{Preset: "zoo"}); err != nil {
		t.Fatal(err)
	}
	m, err := gguf.OpenModel(path)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	tensors := TensorsFromModel(m)
	if len(tensors) != len(m.Tensors) {
		t.Fatalf("%d tensors from a model of %d", len(tensors), len(m.Tensors))
	}
	c, err := New(newHost(t, 64<<20), tensors, Options{Budget: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	err = c.LoadAll(context.Background(), nil, nil)
	unknown := 0
	for i, info := range m.Tensors {
		if tensors[i].Name != info.Name || tensors[i].Size != info.Size {
			t.Fatalf("tensor %d: %q %d bytes; the model says %q %d", i, tensors[i].Name, tensors[i].Size, info.Name, info.Size)
		}
		if info.Uploadable() != nil {
			unknown++
			if tensors[i].Err == nil || !errors.Is(err, tensors[i].Err) {
				t.Fatalf("tensor %s of unknown type: Err %v, LoadAll %v", info.Name, tensors[i].Err, err)
			}
			continue
		}
		want, err := m.TensorBytes(info)
		if err != nil {
			t.Fatal(err)
		}
		// The file and offset handed to the device for pread hold the same
		// bytes as the mapping the one source also carries.
		src, err := tensors[i].Source()
		if err != nil {
			t.Fatal(err)
		}
		file, off := src.File()
		if file == nil {
			t.Fatalf("%s: no source file for pread uploads", info.Name)
		}
		fromFile := make([]byte, len(want))
		if _, err := file.ReadAt(fromFile, off); err != nil || !bytes.Equal(fromFile, want) {
			t.Fatalf("%s: pread at offset %d differs from the mapping (%v)", info.Name, off, err)
		}
		if !bytes.Equal(src.Bytes(), want) {
			t.Fatalf("%s: the source's mapped bytes differ from the model's", info.Name)
		}
		got := make([]byte, len(want))
		if _, err := c.ReadAt(context.Background(), info.Name, got, 0); err != nil {
			t.Fatalf("%s: %v", info.Name, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%s: device bytes differ from the file", info.Name)
		}
	}
	if unknown != 1 {
		t.Fatalf("%d tensors of unknown type; the zoo has one", unknown)
	}
}
