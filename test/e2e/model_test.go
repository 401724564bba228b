package e2e

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/ggufs/ggufs/gguf"
	"github.com/ggufs/ggufs/synth"
)

// model is a generated GGUF file and what it holds.
type model struct {
	path    string
	bytes   []byte // the whole file (nil for sparse models)
	tensors []*gguf.TensorInfo
}

// genModel writes a synthetic model into a fresh directory.
func genModel(t *testing.T, opts synth.Options) *model {
	t.Helper()
	m := &model{path: filepath.Join(t.TempDir(), "model.gguf")}
	if _, err := synth.GenerateFile(m.path, opts); err != nil {
		t.Fatal(err)
	}
	m.load(t)
	return m
}

// load reads the file's tensor table and, unless sparse, its bytes.
func (m *model) load(t *testing.T) {
	t.Helper()
	g, err := gguf.OpenModel(m.path)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	m.tensors = g.Tensors
	if st, err := os.Stat(m.path); err == nil && st.Size() < 256<<20 {
		if m.bytes, err = os.ReadFile(m.path); err != nil {
			t.Fatal(err)
		}
	}
}

// data is what the file holds for tensor t.
func (m *model) data(t *gguf.TensorInfo) []byte {
	return m.bytes[t.FileOffset : t.FileOffset+t.Size]
}

func (m *model) tensor(t *testing.T, name string) *gguf.TensorInfo {
	t.Helper()
	for _, ti := range m.tensors {
		if ti.Name == name {
			return ti
		}
	}
	t.Fatalf("no tensor %q", name)
	return nil
}

// tensorDir is tensors/<name> under the mount.
func tensorDir(mnt, name string) string { return filepath.Join(mnt, "tensors", name) }
