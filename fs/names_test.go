package fs

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/ggufs/ggufs/gguf"
)

func TestEntryName(t *testing.T) {
	cases := map[string]string{
		"blk.0.attn_q.weight": "blk.0.attn_q.weight",
		"a/b":                 "a%2Fb",
		"/":                   "%2F",
		"50%":                 "50%25",
		"%2F":                 "%252F",
		".":                   "%2E",
		"..":                  "%2E%2E",
		"...":                 "...",
		"./x":                 ".%2Fx",
		"a\x00b":              "a%00b",
		"ünï":                 "ünï",
	}
	for name, want := range cases {
		got := EntryName(name)
		if got != want {
			t.Errorf("EntryName(%q) = %q, want %q", name, got, want)
		}
		if !validName(got) {
			t.Errorf("EntryName(%q) = %q is no valid entry", name, got)
		}
		back, err := OriginalName(got)
		if err != nil || back != name {
			t.Errorf("OriginalName(%q) = %q, %v; want %q", got, back, err, name)
		}
	}
}

func TestOriginalNameRejectsWhatEntryNameNeverMakes(t *testing.T) {
	for _, bad := range []string{"%", "%2", "%zz", "a%g0", "a/b", "x%"} {
		if got, err := OriginalName(bad); err == nil {
			t.Errorf("OriginalName(%q) = %q, want an error", bad, got)
		}
	}
	if got, err := OriginalName("%2f"); err != nil || got != "/" {
		t.Errorf("OriginalName(%q) = %q, %v; lower-case hex is accepted", "%2f", got, err)
	}
}

// FuzzEntryName: every name maps to a valid entry (when short enough) that
// maps back to it, and OriginalName never panics on any entry.
func FuzzEntryName(f *testing.F) {
	for _, seed := range []string{"a/b", ".", "..", "%", "%2F", "blk.0.attn_q.weight", "\x00"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, name string) {
		e := EntryName(name)
		if name != "" && len(e) <= maxNameLen && !validName(e) {
			t.Fatalf("EntryName(%q) = %q, not a valid entry", name, e)
		}
		if back, err := OriginalName(e); err != nil || back != name {
			t.Fatalf("OriginalName(EntryName(%q)) = %q, %v", name, back, err)
		}
		_, _ = OriginalName(name) // any input: an error or a name, never a panic
	})
}

func TestEntryNamesCollisionNamesBoth(t *testing.T) {
	lossy := func(s string) string { return strings.ReplaceAll(s, "/", "_") }
	_, err := entryNames("tensor name", []string{"x", "a/b", "y", "a_b"}, lossy)
	if err == nil {
		t.Fatal("two names on one entry: no error")
	}
	for _, want := range []string{`"a/b"`, `"a_b"`, "tensor name"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	entries, err := entryNames("tensor name", []string{"a/b", "a_b", strings.Repeat("%", 100)}, EntryName)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"a%2Fb", "a_b", ""}; !slices.Equal(entries, want) {
		t.Errorf("entries %q, want %q (too long: left out)", entries, want)
	}
}

// TestMountEscapesNames mounts a file whose names no directory entry can
// hold as they are: they appear escaped, with the original in user.ggufs.name.
func TestMountEscapesNames(t *testing.T) {
	names := []string{"a/b", ".", "..", "50%", "plain"}
	path := filepath.Join(t.TempDir(), "names.gguf")
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	var specs []gguf.TensorSpec
	for _, n := range names {
		specs = append(specs, gguf.TensorSpec{Name: n, Type: gguf.TypeF32, Dims: []uint64{4}})
	}
	md := []gguf.KV{{Key: "odd/key", Value: gguf.NewUint32(7)}}
	w, err := gguf.NewWriter(out, md, specs, gguf.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i, ti := range w.Tensors() {
		if err := w.WriteTensorBytes(ti.Name, bytes.Repeat([]byte{byte(i + 1)}, int(ti.Size))); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}

	f := testMountFile(t, path, 0, nil)
	want := []string{"%2E", "%2E%2E", "50%25", "a%2Fb", "plain"}
	if got := readDirNames(t, filepath.Join(f.dir, "tensors")); !slices.Equal(got, want) {
		t.Errorf("tensors/ lists %q, want %q", got, want)
	}
	for i, n := range names {
		dir := filepath.Join(f.dir, "tensors", EntryName(n))
		buf := make([]byte, 64)
		k, err := syscall.Getxattr(dir, xattrName, buf)
		if err != nil || string(buf[:k]) != n {
			t.Errorf("%s: %s = %q, %v; want %q", dir, xattrName, buf[:k], err, n)
		}
		data, err := os.ReadFile(filepath.Join(dir, "data"))
		if err != nil || !bytes.Equal(data, bytes.Repeat([]byte{byte(i + 1)}, 16)) {
			t.Errorf("%s/data = %v, %v", dir, data, err)
		}
	}
	if s := readText(t, filepath.Join(f.dir, "metadata", "odd%2Fkey")); s != "7" {
		t.Errorf("metadata/odd%%2Fkey = %q, want 7", s)
	}
}
