package hip

import (
	"bytes"
	"context"
	"errors"
	"testing"
)

// smallPipeline makes every path of the pipeline run on test-sized data.
var smallPipeline = UploadConfig{ChunkBytes: 64 << 10, StagingBytes: 16 << 10, StagingBuffers: 3,
	InFlight: 2, Workers: 3, RegisterWorkers: 1, SmallBytes: 8 << 10}

func withPath(path string) UploadConfig {
	c := smallPipeline
	c.Path = path
	return c
}

// uploadCase is many copies of odd sizes from odd offsets of src, some
// contiguous on the device, uploaded into one allocation.
func uploadCase(t *testing.T, g *GPU, src []byte) (DevicePtr, []Copy) {
	t.Helper()
	sizes := []int{1, 7, 4096, 4097, 8191, 10_000, 70_001, 200_003, 3, 65536 * 3}
	var copies []Copy
	var devLen DevicePtr
	off := 5
	for i, n := range sizes {
		gap := DevicePtr(0)
		if i%2 == 0 {
			gap = 13
		}
		copies = append(copies, Copy{Dst: devLen + gap, Src: Memory(src[off : off+n])})
		devLen += gap + DevicePtr(n)
		off += n + 11
	}
	p, err := g.Malloc(uint64(devLen))
	if err != nil {
		t.Fatal(err)
	}
	for i := range copies {
		copies[i].Dst += p
	}
	return p, copies
}

func checkCopies(t *testing.T, g *GPU, copies []Copy) {
	t.Helper()
	for i, c := range copies {
		got := make([]byte, c.Src.Len())
		if err := g.Download(got, c.Dst); err != nil {
			t.Fatalf("download %d: %v", i, err)
		}
		if !bytes.Equal(got, c.Src.Bytes()) {
			t.Fatalf("copy %d (%d bytes) differs after the round trip", i, c.Src.Len())
		}
	}
}

// checkIdle fails unless no copy is queued, no chunk pinned and every slot home.
func checkIdle(t *testing.T, g *GPU, f *fakeRuntime) {
	t.Helper()
	if n := f.pending(); n != 0 {
		t.Errorf("%d copies still queued after Upload returned", n)
	}
	if n := f.liveRegistrations(); n != 0 {
		t.Errorf("%d chunks still registered after Upload returned", n)
	}
	if g.pools != nil {
		if len(g.pools.staging) != cap(g.pools.staging) || len(g.pools.register) != cap(g.pools.register) {
			t.Errorf("slots not returned: staging %d/%d, register %d/%d", len(g.pools.staging),
				cap(g.pools.staging), len(g.pools.register), cap(g.pools.register))
		}
	}
}

func TestGPUUploadEveryPathRoundTrips(t *testing.T) {
	src := randomBytes(3, 2<<20)
	for _, path := range []string{PathStaged, PathRegister, PathHybrid, PathPlain} {
		t.Run(path, func(t *testing.T) {
			g, f := newFakeGPU(t, withPath(path))
			_, copies := uploadCase(t, g, src)
			if err := g.Upload(context.Background(), copies); err != nil {
				t.Fatal(err)
			}
			checkIdle(t, g, f)
			checkCopies(t, g, copies)
			s := g.Stats()
			var total uint64
			for _, c := range copies {
				total += uint64(c.Src.Len())
			}
			if s.UploadedBytes != total || s.Uploads != int64(len(copies)) {
				t.Errorf("stats %+v, want %d bytes in %d entries", s, total, len(copies))
			}
			var byPath uint64
			for _, n := range s.PathBytes {
				byPath += n
			}
			if byPath != total {
				t.Errorf("path bytes %v sum to %d, want %d", s.PathBytes, byPath, total)
			}
			switch path {
			case PathRegister, PathHybrid:
				if s.PathBytes[PathRegister] == 0 && path == PathRegister {
					t.Errorf("register path registered nothing: %v", s.PathBytes)
				}
				if f.registerFlags[cudaRegisterReadOnly] == 0 && s.PathBytes[PathRegister] > 0 {
					t.Errorf("CUDA registration without the read-only flag: %v", f.registerFlags)
				}
			case PathStaged:
				if s.PathBytes[PathStaged] != total || f.calls["hostRegister"] != 0 {
					t.Errorf("staged path: %v, %d registrations", s.PathBytes, f.calls["hostRegister"])
				}
			case PathPlain:
				if s.PathBytes[PathPlain] != total || f.calls["memcpyAsync"] != 0 {
					t.Errorf("plain path: %v", s.PathBytes)
				}
			}
		})
	}
}

// Small entries are packed: far fewer staging loads than entries, and one
// async copy per run of entries contiguous on the device.
func TestGPUSmallEntriesPacked(t *testing.T) {
	g, f := newFakeGPU(t, withPath(PathStaged))
	src := randomBytes(4, 64<<10)
	p, err := g.Malloc(64 << 10)
	if err != nil {
		t.Fatal(err)
	}
	var copies []Copy
	for off := 0; off+100 <= 10_000; off += 100 {
		copies = append(copies, Copy{Dst: p + DevicePtr(off), Src: Memory(src[off : off+100])})
	}
	if err := g.Upload(context.Background(), copies); err != nil {
		t.Fatal(err)
	}
	if n := f.calls["memcpyAsync"]; n > 2 {
		t.Errorf("%d contiguous 100-byte entries took %d async copies, want at most 2", len(copies), n)
	}
	checkCopies(t, g, copies)
}

// A chunk the runtime refuses to pin (a page already registered) is staged.
func TestGPURegisterRefusedFallsBackToStaging(t *testing.T) {
	g, f := newFakeGPU(t, withPath(PathRegister))
	f.registerCode = codeHostAlreadyRegist
	src := randomBytes(5, 1<<20)
	p, _ := g.Malloc(1 << 20)
	copies := []Copy{{Dst: p, Src: Memory(src)}}
	if err := g.Upload(context.Background(), copies); err != nil {
		t.Fatal(err)
	}
	checkIdle(t, g, f)
	checkCopies(t, g, copies)
	if s := g.Stats(); s.PathBytes[PathStaged] != 1<<20 || s.PathBytes[PathRegister] != 0 {
		t.Fatalf("path bytes %v, want all staged", s.PathBytes)
	}
}

func TestGPUUploadCancelLeavesNothingInFlight(t *testing.T) {
	for _, path := range []string{PathStaged, PathRegister, PathHybrid} {
		t.Run(path, func(t *testing.T) {
			g, f := newFakeGPU(t, withPath(path))
			ctx, cancel := context.WithCancel(context.Background())
			f.onMemcpyAsync = cancel // cancel as soon as the first copy is queued
			src := randomBytes(6, 2<<20)
			p, _ := g.Malloc(2 << 20)
			err := g.Upload(ctx, []Copy{{Dst: p, Src: Memory(src)}})
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("upload: %v, want context.Canceled", err)
			}
			checkIdle(t, g, f)
			if f.calls["memcpyAsync"] > 8 {
				t.Errorf("%d copies queued after cancellation", f.calls["memcpyAsync"])
			}
		})
	}
}

func TestGPUUploadRuntimeErrorSurfaces(t *testing.T) {
	for _, path := range []string{PathStaged, PathRegister, PathHybrid} {
		t.Run(path, func(t *testing.T) {
			g, f := newFakeGPU(t, withPath(path))
			f.memcpyAsyncHit = func(n int) int32 {
				if n == 3 {
					return 999
				}
				return 0
			}
			src := randomBytes(7, 1<<20)
			p, _ := g.Malloc(1 << 20)
			err := g.Upload(context.Background(), []Copy{{Dst: p, Src: Memory(src)}})
			var re *RuntimeError
			if !errors.As(err, &re) || re.Code != 999 || re.Call != "cudaMemcpyAsync" || re.Name != "fakeError999" {
				t.Fatalf("upload: %v, want the runtime's error", err)
			}
			checkIdle(t, g, f)
		})
	}
}

func TestGPUUploadFromTruncatedMappingFaults(t *testing.T) {
	g, f := newFakeGPU(t, withPath(PathStaged))
	src, shrink := mappedFile(t, 16*pageSize)
	shrink()
	p, _ := g.Malloc(uint64(len(src)))
	if err := g.Upload(context.Background(), []Copy{{Dst: p, Src: Memory(src)}}); !errors.Is(err, ErrSourceFault) {
		t.Fatalf("upload: %v, want ErrSourceFault", err)
	}
	checkIdle(t, g, f)
	g.cfg.Path = PathPlain
	if err := g.Upload(context.Background(), []Copy{{Dst: p, Src: Memory(src)}}); !errors.Is(err, ErrSourceFault) {
		t.Fatalf("plain upload: %v, want ErrSourceFault", err)
	}
}

func TestGPUAllocationSemantics(t *testing.T) {
	g, f := newFakeGPU(t, UploadConfig{})
	f.capacity = 1 << 20
	if _, err := g.Malloc(2 << 20); !errors.Is(err, ErrOutOfMemory) {
		t.Fatalf("malloc beyond capacity: %v, want ErrOutOfMemory", err)
	}
	if _, err := g.Malloc(0); !errors.Is(err, ErrInvalidValue) {
		t.Fatalf("malloc(0): %v", err)
	}
	p, err := g.Malloc(1000)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Download(make([]byte, 1001), p); !errors.Is(err, ErrInvalidPointer) {
		t.Errorf("download past the end: %v", err)
	}
	if err := g.Upload(context.Background(), []Copy{{Dst: p + 999, Src: Memory([]byte{1, 2})}}); !errors.Is(err, ErrInvalidPointer) {
		t.Errorf("upload past the end: %v", err)
	}
	if err := g.Free(p + 1); !errors.Is(err, ErrInvalidPointer) {
		t.Errorf("free of an interior pointer: %v", err)
	}
	if _, err := g.IPCHandle(p); err != nil {
		t.Errorf("ipc handle: %v", err)
	}
	if err := g.Free(p); err != nil {
		t.Fatal(err)
	}
	if s := g.Stats(); s.LiveAllocations != 0 || s.TotalAllocations != 1 {
		t.Errorf("stats %+v", s)
	}
}

// Downloads larger than a staging buffer go through the bounce buffers.
func TestGPUDownloadThroughStaging(t *testing.T) {
	g, f := newFakeGPU(t, withPath(PathStaged))
	src := randomBytes(8, 300_001)
	p, _ := g.Malloc(uint64(len(src)))
	if err := g.Upload(context.Background(), []Copy{{Dst: p, Src: Memory(src)}}); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(src)-7)
	if err := g.Download(got, p+7); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, src[7:]) {
		t.Fatal("download differs")
	}
	checkIdle(t, g, f)
}
