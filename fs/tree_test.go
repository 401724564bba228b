package fs

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/ggufs/ggufs/synth"
)

func TestTreeListsEveryTensorAndKey(t *testing.T) {
	f := testMount(t, synth.Options{Preset: "zoo", Seed: 1}, 0)

	top := readDirNames(t, f.dir)
	if want := []string{"metadata", "metadata.json", "stats.json", "tensors"}; !slices.Equal(top, want) {
		t.Errorf("root lists %v, want %v", top, want)
	}
	var want []string
	for _, ti := range f.model.Tensors {
		want = append(want, ti.Name)
	}
	slices.Sort(want)
	if got := readDirNames(t, filepath.Join(f.dir, "tensors")); !slices.Equal(got, want) {
		t.Errorf("tensors/ lists %v, want %v", got, want)
	}
	for key, v := range f.model.Metadata.All() {
		var text bytes.Buffer
		if err := v.WriteText(&text); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(f.dir, "metadata", key))
		if err != nil {
			t.Errorf("metadata/%s: %v", key, err)
		} else if !bytes.Equal(got, text.Bytes()) {
			t.Errorf("metadata/%s = %q, want %q", key, got, text.Bytes())
		}
	}
}

func TestMetadataJSONKeepsFileOrder(t *testing.T) {
	f := testMount(t, synth.Options{Preset: "zoo"}, 0)
	b, err := os.ReadFile(filepath.Join(f.dir, "metadata.json"))
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("metadata.json does not start an object: %v %v", tok, err)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
	}
	var want []string
	for k := range f.model.Metadata.All() {
		want = append(want, k)
	}
	if !slices.Equal(keys, want) {
		t.Errorf("metadata.json keys %v, want %v", keys, want)
	}
}

func TestStatReportsSizesModesAndTimes(t *testing.T) {
	f := testMount(t, synth.Options{Preset: "tiny", Seed: 2}, 0)
	fileInfo, err := os.Stat(f.path)
	if err != nil {
		t.Fatal(err)
	}
	mtime := fileInfo.ModTime().Unix()
	check := func(path string, mode os.FileMode, size int64) {
		t.Helper()
		var st syscall.Stat_t
		if err := syscall.Stat(path, &st); err != nil {
			t.Fatal(err)
		}
		if got := os.FileMode(st.Mode & 0o7777); got != mode {
			t.Errorf("%s: mode %v, want %v", path, got, mode)
		}
		if size >= 0 && st.Size != size {
			t.Errorf("%s: size %d, want %d", path, st.Size, size)
		}
		if st.Mtim.Sec != mtime {
			t.Errorf("%s: mtime %d, want the model's %d", path, st.Mtim.Sec, mtime)
		}
		if st.Uid != uint32(os.Getuid()) {
			t.Errorf("%s: uid %d, want %d", path, st.Uid, os.Getuid())
		}
	}
	check(f.dir, 0o555, -1)
	check(filepath.Join(f.dir, "tensors"), 0o555, -1)
	for _, ti := range f.model.Tensors {
		check(filepath.Dir(f.tensorPath(ti.Name, "data")), 0o555, -1)
		check(f.tensorPath(ti.Name, "data"), 0o444, int64(ti.Size))
		check(f.tensorPath(ti.Name, "dtype"), 0o444, int64(len(ti.Type.String())+1))
	}
	check(filepath.Join(f.dir, "metadata", "general.architecture"), 0o444, int64(len("llama\n")))
}

func TestTreeRefusesChanges(t *testing.T) {
	f := testMount(t, synth.Options{Preset: "tiny"}, 0)
	name := f.model.Tensors[0].Name
	data := f.tensorPath(name, "data")
	if _, err := os.OpenFile(data, os.O_WRONLY, 0); !errorsIs(err, syscall.EROFS) {
		t.Errorf("open for writing: %v, want EROFS", err)
	}
	if err := os.Truncate(data, 0); !errorsIs(err, syscall.EROFS) {
		t.Errorf("truncate: %v, want EROFS", err)
	}
	if err := os.Mkdir(filepath.Join(f.dir, "tensors", "x"), 0o755); !errorsIs(err, syscall.EROFS) {
		t.Errorf("mkdir: %v, want EROFS", err)
	}
	if err := os.WriteFile(filepath.Join(f.dir, "new"), nil, 0o644); !errorsIs(err, syscall.EROFS) {
		t.Errorf("create: %v, want EROFS", err)
	}
	if err := os.Remove(data); !errorsIs(err, syscall.EROFS) {
		t.Errorf("unlink: %v, want EROFS", err)
	}
	if err := os.Rename(filepath.Join(f.dir, "stats.json"), filepath.Join(f.dir, "s")); !errorsIs(err, syscall.EROFS) {
		t.Errorf("rename: %v, want EROFS", err)
	}
}

func readDirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func readText(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(string(b), "\n")
}

func TestStatsJSONCountsUploads(t *testing.T) {
	f := testMount(t, synth.Options{Preset: "tiny"}, 0)
	ti := f.model.Tensors[0]
	if _, err := os.ReadFile(f.tensorPath(ti.Name, "data")); err != nil {
		t.Fatal(err)
	}
	var s struct {
		Model      string  `json:"model"`
		Device     string  `json:"device"`
		UploadGBps float64 `json:"upload_gb_per_s"`
		Cache      struct {
			Uploads       int64  `json:"uploads"`
			ResidentBytes uint64 `json:"resident_bytes"`
		} `json:"cache"`
	}
	// stat, then read: the read serves the content the stat measured, even
	// though counters (the read pool returning the data file's window, for
	// one) move in between.
	var st syscall.Stat_t
	if err := syscall.Stat(filepath.Join(f.dir, "stats.json"), &st); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(f.dir, "stats.json"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Size != int64(len(b)) {
		t.Errorf("stat size %d, content %d bytes", st.Size, len(b))
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("stats.json: %v\n%s", err, b)
	}
	if s.Model != f.path || s.Device != "host" || s.Cache.Uploads != 1 || s.Cache.ResidentBytes < ti.Size || s.UploadGBps <= 0 {
		t.Errorf("stats.json after one read: %+v", s)
	}
}

// The mount's root has inode 1: tree walkers read inode 0 as "none".
func TestRootInodeIsOne(t *testing.T) {
	f := testMount(t, synth.Options{Preset: "tiny"}, 0)
	var st syscall.Stat_t
	if err := syscall.Stat(f.dir, &st); err != nil {
		t.Fatal(err)
	}
	if st.Ino != 1 {
		t.Errorf("root inode %d, want 1", st.Ino)
	}
}
