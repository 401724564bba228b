package hip

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

func TestHostExportMapsTheAllocationReadOnly(t *testing.T) {
	h := NewHost(HostOptions{Capacity: 1 << 20})
	defer h.Close()
	const size = 3 * 4096
	p, err := h.Malloc(size)
	if err != nil {
		t.Fatal(err)
	}
	want := bytes.Repeat([]byte("ggufs!"), 512)
	if err := h.Upload(context.Background(), []Copy{{Dst: p + 100, Src: Memory(want)}}); err != nil {
		t.Fatal(err)
	}
	ex, err := h.Export(p)
	if err != nil {
		t.Fatal(err)
	}
	defer ex.File.Close()
	if ex.Mechanism != MechanismMemfd || ex.Size != size {
		t.Fatalf("export = %+v, want memfd of %d bytes", ex, size)
	}
	mem, err := unix.Mmap(int(ex.File.Fd()), 0, size, unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(mem)
	if !bytes.Equal(mem[100:100+len(want)], want) {
		t.Fatal("the exported mapping does not hold the uploaded bytes")
	}
	// Later uploads show through the same mapping: it is the same memory.
	if err := h.Upload(context.Background(), []Copy{{Dst: p, Src: Memory([]byte("XY"))}}); err != nil {
		t.Fatal(err)
	}
	if string(mem[:2]) != "XY" {
		t.Fatalf("mapping reads %q after an upload, want XY", mem[:2])
	}

	if w, err := unix.Mmap(int(ex.File.Fd()), 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED); err == nil {
		unix.Munmap(w)
		t.Fatal("a writable shared mapping of the export succeeded")
	}
	// Reopening the file for writing must not get around it either.
	rw, err := os.OpenFile("/proc/self/fd/"+strconv.Itoa(int(ex.File.Fd())), os.O_RDWR, 0)
	if err == nil {
		defer rw.Close()
		if w, err := unix.Mmap(int(rw.Fd()), 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED); err == nil {
			unix.Munmap(w)
			t.Fatal("a writable shared mapping of the reopened export succeeded")
		}
		if _, err := rw.WriteAt([]byte("no"), 0); err == nil {
			t.Fatal("writing the reopened export succeeded")
		}
		if err := rw.Truncate(1); err == nil {
			t.Fatal("shrinking the export succeeded")
		}
	}

	// Freeing the allocation leaves the consumer's mapping readable.
	if err := h.Free(p); err != nil {
		t.Fatal(err)
	}
	if string(mem[:2]) != "XY" {
		t.Fatal("the consumer's mapping changed when the allocation was freed")
	}
}

func TestHostExportNeedsAnAllocationStart(t *testing.T) {
	h := NewHost(HostOptions{Capacity: 1 << 20})
	p, err := h.Malloc(8192)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Export(p + 4096); !errors.Is(err, ErrInvalidPointer) {
		t.Fatalf("export inside an allocation: %v, want ErrInvalidPointer", err)
	}
	h.Close()
	if _, err := h.Export(p); !errors.Is(err, ErrClosed) {
		t.Fatalf("export after Close: %v, want ErrClosed", err)
	}
}
