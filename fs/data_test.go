package fs

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/ggufs/ggufs/synth"
)

func errorsIs(err, target error) bool { return errors.Is(err, target) }

// Every tensor of every type reads back as the file's bytes, and data.npy is
// a numpy header (for the types numpy has) followed by the same bytes.
func TestDataEqualsFileForEveryType(t *testing.T) {
	f := testMount(t, synth.Options{Preset: "zoo", Seed: 7}, 0)
	for _, ti := range f.model.Tensors {
		got, err := os.ReadFile(f.tensorPath(ti.Name, "data"))
		if ti.Uploadable() != nil {
			if !errorsIs(err, syscall.EIO) {
				t.Errorf("%s (%s): read %v, want EIO for a type without a layout", ti.Name, ti.Type, err)
			}
			if s := readText(t, f.tensorPath(ti.Name, "status")); !strings.HasPrefix(s, "error: ") {
				t.Errorf("%s: status %q, want an error", ti.Name, s)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s (%s): %v", ti.Name, ti.Type, err)
			continue
		}
		if !bytes.Equal(got, f.tensorBytes(ti)) {
			t.Errorf("%s (%s): data differs from the file", ti.Name, ti.Type)
		}
		npy, err := os.ReadFile(f.tensorPath(ti.Name, "data.npy"))
		_, hasNpy := npyKind(ti.Type)
		if !hasNpy {
			if !errorsIs(err, os.ErrNotExist) {
				t.Errorf("%s (%s): data.npy: %v, want none", ti.Name, ti.Type, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: data.npy: %v", ti.Name, err)
			continue
		}
		hlen := int(binary.LittleEndian.Uint16(npy[8:10])) + 10
		if !bytes.Equal(npy[hlen:], f.tensorBytes(ti)) {
			t.Errorf("%s: data.npy bytes after the header differ from the file", ti.Name)
		}
	}
}

// Reads at any offset and length return the right slice, also across the
// end of the file and of the npy header.
func TestReadAtOffsets(t *testing.T) {
	f := testMount(t, synth.Options{Preset: "zoo", Seed: 3}, 0)
	ti := f.tensor(t, "zoo.hyper")
	want := f.tensorBytes(ti)
	file, err := os.Open(f.tensorPath(ti.Name, "data"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	for _, c := range []struct{ off, n int }{{0, 1}, {1, 7}, {100, 300}, {len(want) - 5, 5}, {len(want) - 5, 50}} {
		buf := make([]byte, c.n)
		n, err := file.ReadAt(buf, int64(c.off))
		end := min(c.off+c.n, len(want))
		if n != end-c.off || (err != nil && err != io.EOF) || !bytes.Equal(buf[:n], want[c.off:end]) {
			t.Errorf("ReadAt(%d, %d) = %d, %v; want %d bytes of the tensor", c.off, c.n, n, err, end-c.off)
		}
	}
	if n, err := file.ReadAt(make([]byte, 10), int64(len(want)+10)); n != 0 || err != io.EOF {
		t.Errorf("read past the end = %d, %v; want 0, EOF", n, err)
	}

	npy, err := os.ReadFile(f.tensorPath(ti.Name, "data.npy"))
	if err != nil {
		t.Fatal(err)
	}
	nf, err := os.Open(f.tensorPath(ti.Name, "data.npy"))
	if err != nil {
		t.Fatal(err)
	}
	defer nf.Close()
	hlen := len(npy) - len(want)
	buf := make([]byte, 20)
	if _, err := nf.ReadAt(buf, int64(hlen-10)); err != nil || !bytes.Equal(buf, npy[hlen-10:hlen+10]) {
		t.Errorf("read across the npy header's end: %v", err)
	}
}

// Reading makes a tensor resident; evicting drops it and the kernel's pages,
// so the next read uploads it again.
func TestStatusFollowsReadsAndEviction(t *testing.T) {
	f := testMount(t, synth.Options{Preset: "tiny", Seed: 4}, 0)
	ti := f.model.Tensors[len(f.model.Tensors)-1]
	status := f.tensorPath(ti.Name, "status")
	data := f.tensorPath(ti.Name, "data")

	if s := readText(t, status); s != "unloaded" {
		t.Fatalf("status before reading = %q, want unloaded", s)
	}
	if got, err := os.ReadFile(data); err != nil || !bytes.Equal(got, f.tensorBytes(ti)) {
		t.Fatalf("read: %v", err)
	}
	if s := readText(t, status); s != "resident" {
		t.Fatalf("status after reading = %q, want resident", s)
	}
	uploads := f.cache.Stats().Uploads
	if _, err := os.ReadFile(data); err != nil {
		t.Fatal(err)
	}
	if got := f.cache.Stats().Uploads; got != uploads {
		t.Errorf("a second read uploaded again (%d uploads, want %d)", got, uploads)
	}
	if err := syscall.Setxattr(f.tensorPath(ti.Name, ""), xattrEvict, []byte("1"), 0); err != nil {
		t.Fatalf("setxattr evict: %v", err)
	}
	if s := readText(t, status); s != "evicted" {
		t.Fatalf("status after evict = %q, want evicted", s)
	}
	if got, err := os.ReadFile(data); err != nil || !bytes.Equal(got, f.tensorBytes(ti)) {
		t.Fatalf("read after evict: %v", err)
	}
	if s := readText(t, status); s != "resident" {
		t.Errorf("status after reading an evicted tensor = %q, want resident (the kernel served stale pages)", s)
	}
	if got := f.cache.Stats().Uploads; got != uploads+1 {
		t.Errorf("uploads after evict and read = %d, want %d", got, uploads+1)
	}
}

// An open file pins its tensor: evicting it fails with EBUSY until closed.
func TestOpenFilePinsTensor(t *testing.T) {
	f := testMount(t, synth.Options{Preset: "tiny"}, 0)
	ti := f.model.Tensors[0]
	file, err := os.Open(f.tensorPath(ti.Name, "data"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := file.Read(make([]byte, 16)); err != nil {
		t.Fatal(err)
	}
	dir := f.tensorPath(ti.Name, "")
	if err := syscall.Setxattr(dir, xattrEvict, nil, 0); !errorsIs(err, syscall.EBUSY) {
		t.Errorf("evict while open: %v, want EBUSY", err)
	}
	file.Close()
	if err := syscall.Setxattr(dir, xattrEvict, nil, 0); err != nil {
		t.Fatalf("evict after close: %v", err)
	}
}

// A tensor larger than the whole budget cannot be loaded: ENOMEM, with the
// reason in status, and the mount keeps working.
func TestNoDeviceMemoryIsENOMEM(t *testing.T) {
	f := testMount(t, synth.Options{Preset: "tiny"}, 64<<10)
	var big, small string
	for _, ti := range f.model.Tensors {
		if ti.Size > 64<<10 && big == "" {
			big = ti.Name
		}
		if ti.Size < 16<<10 && small == "" {
			small = ti.Name
		}
	}
	if big == "" || small == "" {
		t.Fatal("tiny preset lacks a tensor above or below the budget")
	}
	if _, err := os.ReadFile(f.tensorPath(big, "data")); !errorsIs(err, syscall.ENOMEM) {
		t.Errorf("read of a tensor over budget: %v, want ENOMEM", err)
	}
	if s := readText(t, f.tensorPath(big, "status")); !strings.HasPrefix(s, "error: ") {
		t.Errorf("status = %q, want error: <reason>", s)
	}
	if _, err := os.ReadFile(f.tensorPath(small, "data")); err != nil {
		t.Errorf("a tensor that fits, after ENOMEM: %v", err)
	}
}

// A failed upload is EIO with the reason in status; the next read retries.
func TestUploadFailureIsEIO(t *testing.T) {
	f := testMount(t, synth.Options{Preset: "tiny"}, 0)
	ti := f.model.Tensors[1]
	f.dev.FailUpload(1)
	// O_DIRECT: one read, one request. Through the page cache the kernel
	// retries a failed page read, and the retry's upload succeeds.
	fd, err := syscall.Open(f.tensorPath(ti.Name, "data"), syscall.O_RDONLY|syscall.O_DIRECT, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = syscall.Read(fd, make([]byte, 4096))
	syscall.Close(fd)
	if !errorsIs(err, syscall.EIO) {
		t.Fatalf("read with a failing upload: %v, want EIO", err)
	}
	if s := readText(t, f.tensorPath(ti.Name, "status")); !strings.HasPrefix(s, "error: ") {
		t.Errorf("status = %q, want error: <reason>", s)
	}
	if got, err := os.ReadFile(f.tensorPath(ti.Name, "data")); err != nil || !bytes.Equal(got, f.tensorBytes(ti)) {
		t.Errorf("retry after a failed upload: %v", err)
	}
}

// user.ggufs.evict returns only once the kernel has dropped the tensor's
// pages: the invalidation is held at a gate until evict is seen waiting for
// it, so an evict that did not wait would return first.
func TestEvictWaitsForTheKernelsPages(t *testing.T) {
	gate := make(chan struct{})
	var release sync.Once
	f := testMountTuned(t, synth.Options{Preset: "tiny"}, 0, func(r *Root) { r.inval.gate = gate })
	t.Cleanup(func() { release.Do(func() { close(gate) }) }) // before the unmount's Wait
	ti := f.model.Tensors[0]
	if _, err := os.ReadFile(f.tensorPath(ti.Name, "data")); err != nil {
		t.Fatal(err)
	}
	returned := make(chan error, 1)
	go func() { returned <- syscall.Setxattr(f.tensorPath(ti.Name, ""), xattrEvict, nil, 0) }()
	for f.root.inval.waiting.Load() == 0 {
		select {
		case err := <-returned:
			t.Fatalf("evict returned (%v) before the kernel's pages were dropped", err)
		default:
			runtime.Gosched()
		}
	}
	release.Do(func() { close(gate) })
	if err := <-returned; err != nil {
		t.Fatalf("evict: %v", err)
	}
}
