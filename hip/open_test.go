package hip

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

func TestOpenHostExplicit(t *testing.T) {
	b, rep, err := Open(Options{Backend: BackendHost, HostCapacity: 4096})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if b.Kind() != BackendHost || rep.Chosen != "host" || len(rep.Attempts) != 1 {
		t.Fatalf("backend %s, report %+v", b, rep)
	}
	if _, total, _ := b.MemInfo(); total != 4096 {
		t.Fatalf("host capacity %d, want 4096", total)
	}
}

func TestOpenRejectsUnknownBackend(t *testing.T) {
	if _, rep, err := Open(Options{Backend: "tpu"}); err == nil || rep == nil {
		t.Fatalf("Open(tpu): %v, report %v", err, rep)
	}
}

// A runtime named explicitly that does not load is an error, never a fallback.
func TestOpenExplicitMissingLibraryFails(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "libcudart.so.13")
	for _, backend := range []string{BackendCUDA, BackendHIP, BackendAuto} {
		b, rep, err := Open(Options{Backend: backend, RuntimeLib: missing})
		if backend == BackendAuto {
			// auto with an explicit library tries that library, then host.
			if err != nil || b.Kind() != BackendHost || len(rep.Attempts) != 2 || !errors.Is(rep.Attempts[0].Err, ErrLibraryNotFound) {
				t.Errorf("Open(auto, %s): %v, %+v", missing, err, rep)
			}
			if b != nil {
				b.Close()
			}
			continue
		}
		if !errors.Is(err, ErrLibraryNotFound) || b != nil {
			t.Errorf("Open(%s, %s): %v, want ErrLibraryNotFound", backend, missing, err)
		}
		if err != nil && !strings.HasPrefix(err.Error(), backend+": runtime library not found (tried "+missing+")") {
			t.Errorf("Open(%s): %q does not start with the backend and what it tried", backend, err)
		}
		if len(rep.Attempts) != 1 || rep.Attempts[0].Tried[0] != missing {
			t.Errorf("Open(%s): report %+v does not record the path tried", backend, rep)
		}
	}
}

// A library that loads but lacks the runtime's symbols is reported as such.
func TestOpenLibraryWithoutSymbols(t *testing.T) {
	libc := "libc.so.6"
	_, _, err := loadRuntime(&cudaFlavor, libc)
	if !errors.Is(err, ErrMissingSymbol) {
		t.Fatalf("loading %s as CUDA: %v, want ErrMissingSymbol", libc, err)
	}
	if _, err := flavorOfLibrary(libc); !errors.Is(err, ErrMissingSymbol) {
		t.Fatalf("flavorOfLibrary(%s): %v", libc, err)
	}
}

func TestRuntimeErrorMatchesSentinels(t *testing.T) {
	oom := error(&RuntimeError{Backend: "cuda", Call: "cudaMalloc", Code: codeOutOfMemory, Name: "cudaErrorMemoryAllocation", Message: "out of memory"})
	if !errors.Is(oom, ErrOutOfMemory) || errors.Is(oom, ErrNoDevice) {
		t.Errorf("%v: Is(ErrOutOfMemory) must hold, Is(ErrNoDevice) must not", oom)
	}
	if got, want := oom.Error(), "cuda: the device is out of memory (cudaMalloc: cudaErrorMemoryAllocation)"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	nodev := error(&RuntimeError{Backend: "hip", Call: "hipGetDeviceCount", Code: codeNoDevice, Name: "hipErrorNoDevice", Message: "hipErrorNoDevice"})
	if !errors.Is(nodev, ErrNoDevice) || !strings.HasPrefix(nodev.Error(), "hip: the runtime sees no GPU") ||
		!strings.HasSuffix(nodev.Error(), "(hipGetDeviceCount: hipErrorNoDevice)") {
		t.Errorf("%v", nodev)
	}
	// A code without a sentence of ours says the runtime's description.
	other := error(&RuntimeError{Backend: "cuda", Call: "cudaMemcpy", Code: 700, Name: "cudaErrorIllegalAddress", Message: "an illegal memory access was encountered"})
	if got, want := other.Error(), "cuda: an illegal memory access was encountered (cudaMemcpy: cudaErrorIllegalAddress)"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestUploadConfigDefaults(t *testing.T) {
	c, err := UploadConfig{}.withDefaults("cuda")
	if err != nil || c.Path != PathStaged || c.ChunkBytes == 0 || c.Workers == 0 || c.NoPopulate {
		t.Errorf("cuda defaults: %+v %v", c, err)
	}
	if c, _ := (UploadConfig{}).withDefaults("hip"); c.Path != PathStaged {
		t.Errorf("hip default path %q, want staged", c.Path)
	}
	if c, err := (UploadConfig{Path: PathHybrid}).withDefaults("cuda"); err != nil || c.RegisterWorkers == 0 {
		t.Errorf("hybrid: %+v %v", c, err)
	}
	if _, err := (UploadConfig{Path: "teleport"}).withDefaults("cuda"); err == nil {
		t.Error("unknown path accepted")
	}
	if _, err := (UploadConfig{StagingBytes: 10}).withDefaults("cuda"); err == nil {
		t.Error("a staging buffer smaller than a page accepted")
	}
}
