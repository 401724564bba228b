package fs

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ggufs/ggufs/mount/ctl"
	"github.com/ggufs/ggufs/synth"
)

func TestXattrsDescribeTensor(t *testing.T) {
	f := testMount(t, synth.Options{Preset: "tiny", Seed: 5}, 0)
	ti := f.model.Tensors[2]
	want := map[string]string{
		xattrShape:  joinDims(ti.Dims),
		xattrDtype:  ti.Type.String(),
		xattrStatus: "unloaded",
		xattrNbytes: strconv.FormatUint(ti.Size, 10),
		xattrOffset: strconv.FormatUint(ti.FileOffset, 10),
		xattrDevice: "host",
		xattrShard:  f.path,
		xattrName:   ti.Name,
	}
	for _, path := range []string{f.tensorPath(ti.Name, ""), f.tensorPath(ti.Name, "data")} {
		for name, value := range want {
			buf := make([]byte, 256)
			n, err := syscall.Getxattr(path, name, buf)
			if err != nil || string(buf[:n]) != value {
				t.Errorf("%s: %s = %q, %v; want %q", path, name, buf[:n], err, value)
			}
		}
		n, err := syscall.Listxattr(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		list := make([]byte, n)
		if _, err := syscall.Listxattr(path, list); err != nil {
			t.Fatal(err)
		}
		names := strings.Split(strings.TrimSuffix(string(list), "\x00"), "\x00")
		if len(names) != len(want) {
			t.Errorf("%s: listxattr = %q, want %d names", path, names, len(want))
		}
		for _, n := range names {
			if _, ok := want[n]; !ok {
				t.Errorf("%s: listxattr lists %q", path, n)
			}
		}
	}
	if s := readText(t, f.tensorPath(ti.Name, "shape")); s != want[xattrShape] {
		t.Errorf("shape file %q, want %q", s, want[xattrShape])
	}
	if s := readText(t, f.tensorPath(ti.Name, "dtype")); s != want[xattrDtype] {
		t.Errorf("dtype file %q, want %q", s, want[xattrDtype])
	}
}

func TestXattrSizeQueryAndErrors(t *testing.T) {
	f := testMount(t, synth.Options{Preset: "tiny"}, 0)
	ti := f.model.Tensors[0]
	dir := f.tensorPath(ti.Name, "")
	dtype := ti.Type.String()

	if n, err := syscall.Getxattr(dir, xattrDtype, nil); err != nil || n != len(dtype) {
		t.Errorf("size query = %d, %v; want %d", n, err, len(dtype))
	}
	if _, err := syscall.Getxattr(dir, xattrDtype, make([]byte, 1)); !errorsIs(err, syscall.ERANGE) {
		t.Errorf("small buffer: %v, want ERANGE", err)
	}
	if _, err := syscall.Listxattr(dir, make([]byte, 3)); !errorsIs(err, syscall.ERANGE) {
		t.Errorf("small list buffer: %v, want ERANGE", err)
	}
	for _, name := range []string{"user.nope", xattrPrefix + "nope", xattrLoad, xattrEvict, "security.selinux"} {
		if _, err := syscall.Getxattr(dir, name, make([]byte, 64)); !errorsIs(err, syscall.ENODATA) {
			t.Errorf("getxattr %s: %v, want ENODATA", name, err)
		}
	}
	if err := syscall.Setxattr(dir, xattrDtype, []byte("f32"), 0); !errorsIs(err, syscall.EPERM) {
		t.Errorf("setting a read-only attribute: %v, want EPERM", err)
	}
	if err := syscall.Removexattr(dir, xattrShape); !errorsIs(err, syscall.EPERM) {
		t.Errorf("removing an attribute: %v, want EPERM", err)
	}
	for _, bad := range []string{"0", "yes", "2", strings.Repeat("1", 4000), "\x00\xff"} {
		if err := syscall.Setxattr(dir, xattrLoad, []byte(bad), 0); !errorsIs(err, syscall.EINVAL) {
			t.Errorf("load = %q: %v, want EINVAL", bad, err)
		}
	}
	if err := syscall.Setxattr(dir, "user.other", []byte("1"), 0); !errorsIs(err, syscall.ENOTSUP) {
		t.Errorf("setting an unknown attribute: %v, want ENOTSUP", err)
	}
	if s := f.cache.Status(ti.Name).String(); s != "unloaded" {
		t.Errorf("after refused commands the tensor is %s, want unloaded", s)
	}
}

func TestXattrLoadMakesResident(t *testing.T) {
	f := testMount(t, synth.Options{Preset: "tiny"}, 0)
	ti := f.model.Tensors[3]
	data := f.tensorPath(ti.Name, "data")
	for _, v := range []string{"1", ""} {
		if err := syscall.Setxattr(data, xattrLoad, []byte(v), 0); err != nil {
			t.Fatalf("load = %q: %v", v, err)
		}
		buf := make([]byte, 64)
		n, err := syscall.Getxattr(data, xattrStatus, buf)
		if err != nil || !bytes.Equal(buf[:n], []byte("resident")) {
			t.Errorf("status after load = %q, %v; want resident", buf[:n], err)
		}
	}
	if got := f.cache.Stats().Uploads; got != 1 {
		t.Errorf("uploads = %d, want 1 (a second load of a resident tensor is free)", got)
	}
}

// user.ggufs.load on the mount's root loads every tensor that can be loaded,
// skipping (not failing on) a tensor of a type without a layout.
func TestXattrLoadOnRootLoadsEverything(t *testing.T) {
	f := testMount(t, synth.Options{Preset: "zoo"}, 0)
	if err := syscall.Setxattr(f.dir, xattrLoad, []byte("2"), 0); !errorsIs(err, syscall.EINVAL) {
		t.Errorf("load = 2 on the root: %v, want EINVAL", err)
	}
	if err := syscall.Setxattr(f.dir, xattrEvict, []byte("1"), 0); !errorsIs(err, syscall.ENOTSUP) {
		t.Errorf("evict on the root: %v, want ENOTSUP", err)
	}
	if err := syscall.Setxattr(f.dir, xattrLoad, []byte("1"), 0); err != nil {
		t.Fatalf("load on the root: %v", err)
	}
	// The load runs in the background; stats.json says when it is done.
	var st ctl.Stats
	for deadline := time.Now().Add(30 * time.Second); ; {
		b, err := os.ReadFile(filepath.Join(f.dir, "stats.json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &st); err != nil {
			t.Fatal(err)
		}
		if st.LoadAll == nil {
			t.Fatal("stats.json has no load_all after the root's load was set")
		}
		if !st.LoadAll.Running || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if st.LoadAll.Running || st.LoadAll.Error != "" {
		t.Fatalf("load_all: %+v", *st.LoadAll)
	}
	want := 0
	for _, ti := range f.model.Tensors {
		buf := make([]byte, 256)
		n, err := syscall.Getxattr(f.tensorPath(ti.Name, "data"), xattrStatus, buf)
		if err != nil {
			t.Fatal(err)
		}
		status := string(buf[:n])
		if ti.Uploadable() != nil {
			if status == "resident" {
				t.Errorf("%s of type %s: resident", ti.Name, ti.Type)
			}
			continue
		}
		want++
		if status != "resident" {
			t.Errorf("%s: status %q after loading the root, want resident", ti.Name, status)
		}
	}
	if got := f.cache.Stats().Uploads; got != int64(want) {
		t.Errorf("uploads = %d, want %d", got, want)
	}
}
