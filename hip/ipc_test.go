package hip

import (
	"errors"
	"testing"
)

func TestGPUExportIsAnIPCHandleOfTheWholeAllocation(t *testing.T) {
	g, _ := newFakeGPU(t, UploadConfig{})
	p, err := g.Malloc(4096)
	if err != nil {
		t.Fatal(err)
	}
	ex, err := g.Export(p)
	if err != nil {
		t.Fatal(err)
	}
	want := MechanismCUDAIPC
	if g.Kind() == "hip" {
		want = MechanismHIPIPC
	}
	if ex.Mechanism != want || len(ex.Handle) != ipcHandleSize || ex.Size != 4096 || ex.File != nil {
		t.Fatalf("export %+v, want a %s handle of %d bytes for 4096 bytes", ex, want, ipcHandleSize)
	}
	if _, err := g.Export(p + 64); !errors.Is(err, ErrInvalidPointer) {
		t.Fatalf("export of an address inside an allocation: %v, want ErrInvalidPointer", err)
	}
	if err := g.Free(p); err != nil {
		t.Fatal(err)
	}
	if _, err := g.Export(p); !errors.Is(err, ErrInvalidPointer) {
		t.Fatalf("export of a freed allocation: %v, want ErrInvalidPointer", err)
	}
}
