package main

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/ggufs/ggufs/gguf"
)

// genCLI runs ggufs with args in-process and returns its output and exit code.
func genCLI(t *testing.T, args ...string) (string, int) {
	t.Helper()
	app := newApp()
	var out, errOut bytes.Buffer
	app.Writer, app.ErrWriter = &out, &errOut
	err := app.Run(append([]string{"ggufs"}, args...))
	if err != nil {
		return out.String() + errOut.String() + err.Error(), exitCode(err)
	}
	return out.String(), exitOK
}

func TestGenWritesAValidModel(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.gguf")
	out, code := genCLI(t, "gen", "-o", path, "--preset", "tiny", "--dtype", "q4_K", "--version", "2",
		"--big-endian", "--alignment", "64", "--seed", "5")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, out)
	}
	if !strings.Contains(out, "21 tensors") || !strings.Contains(out, path) {
		t.Errorf("report does not say what was written:\n%s", out)
	}
	f, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Version != 2 || f.ByteOrder != binary.BigEndian || f.Alignment != 64 {
		t.Errorf("wrote v%d %v alignment %d; want v2 big-endian 64", f.Version, f.ByteOrder, f.Alignment)
	}
	if q, ok := f.Tensor("blk.0.attn_q.weight"); !ok || q.Type != gguf.TypeQ4_K {
		t.Errorf("blk.0.attn_q.weight = %+v, want q4_K", q)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("file mode %v (%v), want 0644", fi.Mode(), err)
	}
}

func TestGenSeedSelectsTheData(t *testing.T) {
	dir := t.TempDir()
	read := func(name, seed string) []byte {
		p := filepath.Join(dir, name)
		if out, code := genCLI(t, "gen", "-o", p, "--seed", seed); code != exitOK {
			t.Fatalf("exit %d: %s", code, out)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a, b, c := read("a.gguf", "3"), read("b.gguf", "3"), read("c.gguf", "4")
	if !bytes.Equal(a, b) {
		t.Error("the same seed wrote different files")
	}
	// The seed is also in the metadata: compare the data sections, so that
	// the check fails if the seed stopped selecting the data.
	data := func(file []byte) []byte {
		f, err := gguf.NewReader(bytes.NewReader(file), int64(len(file)))
		if err != nil {
			t.Fatal(err)
		}
		return file[f.DataOffset:]
	}
	if bytes.Equal(data(a), data(c)) {
		t.Error("seeds 3 and 4 wrote the same tensor data")
	}
}

func TestGenSparseLlama70b(t *testing.T) {
	path := filepath.Join(t.TempDir(), "70b.gguf")
	if out, code := genCLI(t, "gen", "-o", path, "--preset", "llama-70b", "--sparse"); code != exitOK {
		t.Fatalf("exit %d: %s", code, out)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() < 35<<30 {
		t.Errorf("file is %d bytes, want ~37 GiB", fi.Size())
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Blocks*512 > 16<<20 {
		t.Errorf("sparse file uses %d bytes of disk", st.Blocks*512)
	}
}

func TestGenSplit(t *testing.T) {
	dir := t.TempDir()
	out, code := genCLI(t, "gen", "-o", filepath.Join(dir, "m.gguf"), "--split", "2")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, out)
	}
	m, err := gguf.OpenModel(filepath.Join(dir, "m-00001-of-00002.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if len(m.Shards) != 2 || len(m.Tensors) != 21 {
		t.Errorf("%d shards, %d tensors; want 2, 21", len(m.Shards), len(m.Tensors))
	}
}

func TestGenUsageErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.gguf")
	for _, args := range [][]string{
		{"gen"},
		{"gen", "-o", path, "--preset", "gpt-5"},
		{"gen", "-o", path, "--dtype", "q4_k"},
		{"gen", "-o", path, "--preset", "zoo", "--dtype", "f16"},
		{"gen", "-o", path, "--alignment", "48"},
		{"gen", "-o", path, "--alignment", "0"},
		{"gen", "-o", path, "--version", "4"},
		{"gen", "-o", path, "--split", "0"},
		{"gen", "-o", path, "--split", "100"}, // tiny has 21 tensors
		{"gen", "-o", path, "extra"},
	} {
		if out, code := genCLI(t, args...); code != exitUsage {
			t.Errorf("%q: exit %d, want %d (%s)", args, code, exitUsage, out)
		}
		if _, err := os.Stat(path); err == nil {
			t.Fatalf("%q wrote %s", args, path)
		}
	}
}

func TestGenRefusesToOverwrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keep.gguf")
	if err := os.WriteFile(path, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, code := genCLI(t, "gen", "-o", path); code != exitError {
		t.Fatalf("exit %d, want %d: %s", code, exitError, out)
	}
	if b, _ := os.ReadFile(path); string(b) != "precious" {
		t.Fatal("gen overwrote an existing file without --force")
	}
	if out, code := genCLI(t, "gen", "-o", path, "--force"); code != exitOK {
		t.Fatalf("--force: exit %d: %s", code, out)
	}
	if _, err := gguf.Open(path); err != nil {
		t.Errorf("after --force: %v", err)
	}
	// A model gen made is replaced without --force.
	if out, code := genCLI(t, "gen", "-o", path, "--seed", "9"); code != exitOK {
		t.Fatalf("replacing a generated model: exit %d: %s", code, out)
	}
	// No temporary files are left behind.
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the model", len(entries))
	}
}

func TestGenHelpExplainsEveryFlag(t *testing.T) {
	out, code := genCLI(t, "gen", "--help")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	for _, flag := range genCommand().Flags {
		name := flag.Names()[0]
		if !strings.Contains(out, "--"+name) {
			t.Errorf("--help does not mention --%s", name)
		}
	}
	for _, p := range []string{"tiny", "llama-7b", "llama-70b", "zoo"} {
		if !strings.Contains(out, p) {
			t.Errorf("--help does not list preset %s", p)
		}
	}
}
