package gguf

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/edsrzf/mmap-go"
)

// A FIFO (or any non-regular file) is refused before a byte is read: open
// does not wait for a writer, for the file itself or for a shard.
func TestOpenRefusesFIFO(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "model.gguf")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Open(fifo)
	if err == nil || !strings.Contains(err.Error(), "not a regular file (a FIFO)") {
		t.Fatalf("Open of a FIFO: %v", err)
	}
	if _, err := OpenModel(fifo); err == nil {
		t.Fatal("OpenModel of a FIFO succeeded")
	}
	if _, err := Open(dir); err == nil || !strings.Contains(err.Error(), "a directory") {
		t.Fatalf("Open of a directory: %v", err)
	}

	paths := writeShards(t, dir, threeShards, nil)
	if err := os.Remove(paths[1]); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(paths[1], 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = OpenModel(paths[0])
	if err == nil || !strings.Contains(err.Error(), paths[1]) || !strings.Contains(err.Error(), "a FIFO") {
		t.Fatalf("OpenModel with a FIFO shard: %v", err)
	}
}

// writeAged writes a file whose mtime lies in the past, so that a later
// write moves it however coarse the file system's timestamps are.
func writeAged(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
}

func twoModels() (a, b []byte) {
	ts := sequential(32, tspec{name: "w", dims: []uint64{64}, typ: TypeF32})
	a = tfile{kvs: []KV{{"general.name", NewString("a")}}, tensors: ts}.bytes()
	b = tfile{kvs: []KV{{"general.name", NewString("b")}}, tensors: ts}.bytes()
	for i := len(b) - 256; i < len(b); i++ {
		b[i] = 0xee
	}
	return a, b
}

// Another model written over the file in place (dd conv=notrunc), or renamed
// over its path (mv), makes the tensor bytes refused with ErrChanged, mapped
// or read with pread.
func TestChangedFileIsRefused(t *testing.T) {
	a, b := twoModels()
	for _, mapped := range []bool{true, false} {
		for _, how := range []string{"dd conv=notrunc", "mv"} {
			t.Run(fmt.Sprintf("%s/mapped=%v", how, mapped), func(t *testing.T) {
				dir := t.TempDir()
				p := filepath.Join(dir, "model.gguf")
				writeAged(t, p, a)
				mapFn := mapFile
				if !mapped {
					mapFn = func(*os.File, int64) (mmap.MMap, error) { return nil, errors.New("no mapping in this test") }
				}
				f, err := open(p, mapFn, Options{})
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				if _, err := f.TensorBytes(f.Tensors[0]); err != nil {
					t.Fatalf("before the change: %v", err)
				}
				if !f.PathHoldsFile() {
					t.Fatal("PathHoldsFile before the change")
				}
				switch how {
				case "dd conv=notrunc":
					w, err := os.OpenFile(p, os.O_WRONLY, 0)
					if err != nil {
						t.Fatal(err)
					}
					if _, err := w.WriteAt(b, 0); err != nil {
						t.Fatal(err)
					}
					w.Close()
				case "mv":
					other := filepath.Join(dir, "other.gguf")
					writeAged(t, other, b)
					if err := os.Rename(other, p); err != nil {
						t.Fatal(err)
					}
				}
				_, err = f.TensorBytes(f.Tensors[0])
				if !errors.Is(err, ErrChanged) || !strings.Contains(err.Error(), `tensor "w"`) {
					t.Fatalf("after %s: %v, want ErrChanged naming the tensor", how, err)
				}
				if f.PathHoldsFile() {
					t.Fatalf("PathHoldsFile after %s", how)
				}
			})
		}
	}
}

// The documented blind spot: a write that puts mtime back is not noticed.
func TestWriteKeepingMtimeIsNotNoticed(t *testing.T) {
	a, b := twoModels()
	p := filepath.Join(t.TempDir(), "model.gguf")
	writeAged(t, p, a)
	f, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p, st.ModTime(), st.ModTime()); err != nil {
		t.Fatal(err)
	}
	if err := f.CheckUnchanged(); err != nil {
		t.Fatalf("CheckUnchanged: %v; the documentation says this is not detected", err)
	}
}

// A deleted file still serves its bytes (the open descriptor holds them),
// but its path no longer names it.
func TestDeletedFileStillServes(t *testing.T) {
	a, _ := twoModels()
	p := filepath.Join(t.TempDir(), "model.gguf")
	writeAged(t, p, a)
	f, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	if _, err := f.TensorBytes(f.Tensors[0]); err != nil {
		t.Fatalf("TensorBytes after the file was deleted: %v", err)
	}
	if f.PathHoldsFile() {
		t.Fatal("PathHoldsFile of a deleted file")
	}
}
