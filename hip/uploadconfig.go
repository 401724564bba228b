package hip

import (
	"fmt"
	"runtime"
)

// Upload paths, as Stats.PathBytes names them.
const (
	PathAuto     = "auto"     // the fastest measured path for the runtime
	PathRegister = "register" // pin bounded chunks of the source in place, copy, unpin
	PathStaged   = "staged"   // copy into a ring of pinned buffers, then to the device
	PathHybrid   = "hybrid"   // register and staged workers take chunks from one queue
	PathPlain    = "plain"    // one synchronous copy per entry from pageable memory
	PathHost     = "host"     // the host backend's memory copy
)

// UploadConfig tunes the GPU upload pipeline. Zero fields take the defaults.
type UploadConfig struct {
	Path           string // PathAuto, PathRegister, PathStaged, PathHybrid or PathPlain
	ChunkBytes     uint64 // registration chunk
	InFlight       int    // registered chunks in flight (one stream each)
	StagingBuffers int    // pinned staging buffers (one stream each)
	StagingBytes   uint64 // size of each staging buffer
	Workers        int    // goroutines registering chunks or filling buffers
	// RegisterWorkers, on the hybrid path, are the goroutines that pin
	// chunks while the Workers fill staging buffers.
	RegisterWorkers int
	SmallBytes      uint64 // entries smaller than this are packed into staging buffers
	// NoPopulate turns off mapping each chunk's pages in one
	// madvise(MADV_POPULATE_READ) before pinning or copying it (instead of
	// a fault a page; BENCHMARKS.md has what that gains).
	NoPopulate bool
	// NoPread makes staging copy from the mapping even where a Copy names
	// a file (Source) (for measuring one against the other).
	NoPread bool
}

// Defaults, chosen by `ggufs bench upload` on an H200 (BENCHMARKS.md, "GPU
// upload", has the runs): staging by pread from the file into many small
// pinned buffers beats larger buffers (the DMA reads what the fill just
// wrote while it is still in the CPU caches), filling from the mapping
// (faulting it in dominates) and registering chunks (the driver serialises
// pinning, and unpinning costs as much again).
const (
	defaultChunkBytes      = 64 << 20
	defaultInFlight        = 6
	defaultStagingBuffers  = 32
	defaultStagingBytes    = 4 << 20
	defaultWorkers         = 12
	defaultRegisterWorkers = 2
	defaultSmallBytes      = 1 << 20
)

// withDefaults fills zero fields; auto becomes the path measured fastest on
// kind's runtime.
func (c UploadConfig) withDefaults(kind string) (UploadConfig, error) {
	switch c.Path {
	case "", PathAuto:
		// Staging measured fastest on CUDA (above); on AMD, ROCm documents
		// hipHostRegister of large ranges as costly and has no read-only
		// flag, so stage there too.
		c.Path = PathStaged
	case PathRegister, PathStaged, PathHybrid, PathPlain:
	default:
		return c, fmt.Errorf("hip: unknown upload path %q (want auto, register, staged, hybrid or plain)", c.Path)
	}
	if c.ChunkBytes == 0 {
		c.ChunkBytes = defaultChunkBytes
	}
	if c.InFlight <= 0 {
		c.InFlight = defaultInFlight
	}
	if c.StagingBuffers <= 0 {
		c.StagingBuffers = defaultStagingBuffers
	}
	if c.StagingBytes == 0 {
		c.StagingBytes = defaultStagingBytes
	}
	if c.Workers <= 0 {
		// Fill workers mostly wait in pread; past the core count they only
		// contend for memory bandwidth.
		c.Workers = min(defaultWorkers, max(2, runtime.NumCPU()))
	}
	if c.RegisterWorkers <= 0 {
		c.RegisterWorkers = defaultRegisterWorkers
	}
	if c.SmallBytes == 0 {
		c.SmallBytes = defaultSmallBytes
	}
	if c.ChunkBytes < uint64(pageSize) || c.StagingBytes < uint64(pageSize) {
		return c, fmt.Errorf("hip: upload chunk and staging buffer must be at least a page (%d bytes)", pageSize)
	}
	return c, nil
}
