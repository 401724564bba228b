package main

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ggufs/ggufs/gguf"
	"github.com/ggufs/ggufs/internal/inspect"
	"github.com/ggufs/ggufs/synth"
)

var updateInspectGolden = flag.Bool("update-inspect-golden", false, "rewrite testdata/inspect_zoo.json")

// zooInDir generates the zoo preset as zoo.gguf in a fresh working directory,
// so reports name it by the same relative path every run.
func zooInDir(t *testing.T, opts synth.Options) string {
	t.Helper()
	dir := t.TempDir()
	t.Chdir(dir)
	opts.Preset = "zoo"
	if _, err := synth.GenerateFile("zoo.gguf", opts); err != nil {
		t.Fatal(err)
	}
	return "zoo.gguf"
}

// TestInspectJSONIsStable compares --json with a reviewed golden file: any
// change to the documented schema (docs/inspect-json.md) shows up here.
func TestInspectJSONIsStable(t *testing.T) {
	golden, err := filepath.Abs(filepath.Join("testdata", "inspect_zoo.json"))
	if err != nil {
		t.Fatal(err)
	}
	path := zooInDir(t, synth.Options{})
	out, code := genCLI(t, "inspect", "--json", path)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, out)
	}
	if *updateInspectGolden {
		if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update-inspect-golden to create it)", err)
	}
	if out != string(want) {
		t.Errorf("inspect --json output differs from %s (if the change is intended, document it and rerun with -update-inspect-golden)", golden)
	}
}

// TestInspectJSONIsComplete checks the JSON against the parsed file: every
// key with its full value, every tensor with its layout, the totals.
func TestInspectJSONIsComplete(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tiny.gguf")
	if _, err := synth.GenerateFile(path, synth.Options{Sparse: true}); err != nil {
		t.Fatal(err)
	}
	out, code := genCLI(t, "inspect", path, "--json") // flags after FILE work too
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, out)
	}
	var r inspect.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	f, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if r.SchemaVersion != 1 || r.Version != f.Version || r.DataOffset != f.DataOffset || r.FileSize != f.Size || r.ByteOrder != "little" {
		t.Errorf("header: %+v", r)
	}
	if len(r.Metadata) != f.Metadata.Len() || len(r.Tensors) != len(f.Tensors) {
		t.Fatalf("%d keys, %d tensors; want %d, %d", len(r.Metadata), len(r.Tensors), f.Metadata.Len(), len(f.Tensors))
	}
	for i, kv := range r.Metadata {
		want := f.Metadata.At(i)
		raw, _ := want.Value.MarshalJSON()
		if kv.Key != want.Key || kv.Type != want.Value.Type().String() || compactJSON(t, kv.Value) != compactJSON(t, raw) {
			t.Errorf("entry %d: %s %s, want %s %s", i, kv.Key, kv.Type, want.Key, want.Value.Type())
		}
	}
	var sum uint64
	for i, ti := range r.Tensors {
		want := f.Tensors[i]
		if ti.Name != want.Name || ti.TypeID != uint32(want.Type) || ti.FileOffset != want.FileOffset || ti.Offset != want.Offset || ti.NBytes != want.Size {
			t.Errorf("tensor %d: %+v, want %+v", i, ti, *want)
		}
		sum += ti.NBytes
	}
	if r.Total.NBytes != sum || r.Total.Tensors != len(f.Tensors) {
		t.Errorf("total %+v, want %d tensors, %d bytes", r.Total, len(f.Tensors), sum)
	}
}

func compactJSON(t *testing.T, raw []byte) string {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func TestInspectMaxArray(t *testing.T) {
	path := zooInDir(t, synth.Options{})
	out, code := genCLI(t, "inspect", "--json", "--max-array", "1", path)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, out)
	}
	var r inspect.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	for _, kv := range r.Metadata {
		if kv.Len == nil {
			continue
		}
		var elems []any
		json.Unmarshal(kv.Value, &elems)
		if len(elems) > 1 || kv.Truncated != (*kv.Len > 1) {
			t.Errorf("%s: %d of %d elements shown, truncated=%v", kv.Key, len(elems), *kv.Len, kv.Truncated)
		}
	}
}

func TestInspectText(t *testing.T) {
	path := zooInDir(t, synth.Options{})
	out, code := genCLI(t, "inspect", path)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, out)
	}
	for _, want := range []string{
		"zoo.gguf: GGUF v3, little-endian, alignment 32",
		"zoo.uint64               uint64   18446744073709551615",
		"[string × 4] \"a\", \"\", \"日本\", …",
		"zoo.mystery", "unknown(142)", "! unknown type",
		"zoo.scalar", "[]", "[8, 4, 2, 2]",
		"totals by dtype", "all",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text output lacks %q", want)
		}
	}
	if strings.Count(out, "\n") > 120 {
		t.Errorf("text output is %d lines for 39 tensors and 30 keys", strings.Count(out, "\n"))
	}
}

func TestInspectSplitShowsEveryShard(t *testing.T) {
	dir := t.TempDir()
	if _, err := synth.GenerateFile(filepath.Join(dir, "m.gguf"), synth.Options{Split: 3, Sparse: true}); err != nil {
		t.Fatal(err)
	}
	out, code := genCLI(t, "inspect", "--json", filepath.Join(dir, "m-00001-of-00003.gguf"))
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, out)
	}
	var r inspect.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Shards) != 3 || len(r.Tensors) != 21 || r.Tensors[20].Shard != 2 {
		t.Errorf("%d shards, %d tensors (last in shard %d); want 3, 21, 2", len(r.Shards), len(r.Tensors), r.Tensors[len(r.Tensors)-1].Shard)
	}
}

func TestInspectErrors(t *testing.T) {
	dir := t.TempDir()
	notGGUF := filepath.Join(dir, "notes.txt")
	os.WriteFile(notGGUF, []byte("hello, this is not a model"), 0o644)
	for _, c := range []struct {
		args []string
		code int
	}{
		{[]string{"inspect"}, exitUsage},
		{[]string{"inspect", "a.gguf", "b.gguf"}, exitUsage},
		{[]string{"inspect", "--max-array", "-1", notGGUF}, exitUsage},
		{[]string{"inspect", filepath.Join(dir, "missing.gguf")}, exitError},
		{[]string{"inspect", notGGUF}, exitError},
		{[]string{"inspect", dir}, exitError},
	} {
		out, code := genCLI(t, c.args...)
		if code != c.code {
			t.Errorf("%q: exit %d, want %d (%s)", c.args, code, c.code, out)
		}
		if c.code == exitError && strings.Count(strings.TrimSpace(out), "\n") != 0 {
			t.Errorf("%q: error is not one line: %q", c.args, out)
		}
	}
}

// TestInspectTextIsSafeForTerminals: names from the file cannot move the
// cursor or break the table's lines.
func TestInspectTextIsSafeForTerminals(t *testing.T) {
	path := filepath.Join(t.TempDir(), "evil.gguf")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	name := "clear\x1b[2J\nname\u009b31m"
	w, err := gguf.NewWriter(f, []gguf.KV{{Key: "key\rwith\x07bell", Value: gguf.NewString("v\x1b[31m")}},
		[]gguf.TensorSpec{{Name: name, Type: gguf.TypeI8, Dims: []uint64{1}}}, gguf.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteTensorBytes(name, []byte{1}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	out, code := genCLI(t, "inspect", path)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, out)
	}
	for _, c := range []string{"\x1b", "\r", "\x07", "\u009b"} {
		if strings.Contains(out, c) {
			t.Errorf("output contains control character %q", c)
		}
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "name") {
			t.Errorf("a tensor name broke its line: %q", line)
		}
	}
}
