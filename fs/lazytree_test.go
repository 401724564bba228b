package fs

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/ggufs/ggufs/gguf"
	"github.com/ggufs/ggufs/synth"
)

// mustTensor returns the entry the tree makes for the tensor named name.
func (r *Root) mustTensor(t testing.TB, name string) *tensorEntry {
	t.Helper()
	e, ok := r.lookupTensor(name)
	if !ok {
		t.Fatalf("tensor %q is not shown", name)
	}
	return e
}

// direntInos lists dir with getdents64 and returns each entry's d_ino.
func direntInos(t *testing.T, dir string) map[string]uint64 {
	t.Helper()
	d, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	inos := map[string]uint64{}
	buf := make([]byte, 1<<16)
	for {
		n, err := syscall.ReadDirent(int(d.Fd()), buf)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return inos
		}
		for b := buf[:n]; len(b) > 0; {
			// struct linux_dirent64: d_ino u64, d_off s64, d_reclen u16, d_type u8, d_name.
			reclen := int(binary.NativeEndian.Uint16(b[16:18]))
			name, _, _ := strings.Cut(string(b[19:reclen]), "\x00")
			inos[name] = binary.NativeEndian.Uint64(b[0:8])
			b = b[reclen:]
		}
	}
}

// Entries are looked up by the names the listing shows, and only by those:
// an escape spelled another way, a name too long for an entry, or a tensor
// or key that is not there is ENOENT. Inode numbers come from the tensor's and
// key's positions, the same in the listing as in stat, so a node the kernel
// forgot and looks up again is the same file.
func TestLazyTreeLookupsAndInodes(t *testing.T) {
	long := strings.Repeat("x", 300)
	names := []string{"a/b", "plain", "blk.0.w"}
	specs := make([]gguf.TensorSpec, len(names))
	for i, n := range names {
		specs[i] = gguf.TensorSpec{Name: n, Type: gguf.TypeF32, Dims: []uint64{4}}
	}
	md := []gguf.KV{{Key: "odd/key", Value: gguf.NewUint32(7)}, {Key: "general.name", Value: gguf.NewString("m")}, {Key: long, Value: gguf.NewUint8(1)}}
	path := filepath.Join(t.TempDir(), "model.gguf")
	if _, err := synth.WriteSparse(path, md, specs); err != nil {
		t.Fatal(err)
	}
	f := testMountFile(t, path, 0, nil)
	tensors := filepath.Join(f.dir, "tensors")

	listed := direntInos(t, tensors)
	want := map[string]int{"a%2Fb": 0, "plain": 1, "blk.0.w": 2} // entry: position
	if len(listed) != len(want) {
		t.Errorf("tensors/ lists %v; want %v", listed, want)
	}
	for entry, pos := range want {
		var st syscall.Stat_t
		if err := syscall.Stat(filepath.Join(tensors, entry), &st); err != nil {
			t.Errorf("stat tensors/%s: %v", entry, err)
			continue
		}
		if st.Ino != tensorIno(pos, 0) || listed[entry] != st.Ino {
			t.Errorf("tensors/%s: stat ino %d, listed %d; want %d", entry, st.Ino, listed[entry], tensorIno(pos, 0))
		}
		files := direntInos(t, filepath.Join(tensors, entry))
		for name, ino := range files {
			if name == "." || name == ".." {
				continue
			}
			if err := syscall.Stat(filepath.Join(tensors, entry, name), &st); err != nil || st.Ino != ino {
				t.Errorf("tensors/%s/%s: stat ino %d, %v; listed %d", entry, name, st.Ino, err, ino)
			}
			if ino <= tensorIno(pos, 0) || ino >= tensorIno(pos+1, 0) {
				t.Errorf("tensors/%s/%s: ino %d outside its tensor's slots", entry, name, ino)
			}
		}
		if _, ok := files["data"]; !ok {
			t.Errorf("tensors/%s lists %v, no data", entry, files)
		}
	}
	for _, entry := range []string{"%61%2Fb", "a%2fb", "a/b", "missing", "plain%", "%70lain"} {
		if _, err := os.Stat(filepath.Join(tensors, entry)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("stat tensors/%.20s: %v; want ENOENT", entry, err)
		}
	}

	meta := filepath.Join(f.dir, "metadata")
	mlisted := direntInos(t, meta)
	if len(mlisted) != 2 {
		t.Errorf("metadata/ lists %v; want the 300-byte key left out", mlisted)
	}
	for entry, pos := range map[string]int{"odd%2Fkey": 0, "general.name": 1} {
		var st syscall.Stat_t
		if err := syscall.Stat(filepath.Join(meta, entry), &st); err != nil || st.Ino != metaInoBase+uint64(pos) || mlisted[entry] != st.Ino {
			t.Errorf("metadata/%s: stat ino %d, %v, listed %d; want %d", entry, st.Ino, err, mlisted[entry], metaInoBase+uint64(pos))
		}
	}
	for _, entry := range []string{"odd%2fkey", "odd%2Fkey%", long[:255]} {
		if _, err := os.Stat(filepath.Join(meta, entry)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("stat metadata/%.20s: %v; want ENOENT", entry, err)
		}
	}
	if s := readText(t, filepath.Join(meta, "general.name")); s != "m" {
		t.Errorf("metadata/general.name = %q", s)
	}
}
