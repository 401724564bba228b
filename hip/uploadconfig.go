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
	// a fault a page): on the H200 it raised staging from 28 to 36 GB/s.
	NoPopulate bool
	// NoPread makes staging copy from the mapping even where a Copy names
	// its SrcFile (for measuring one against the other).
	NoPread bool
}

// Defaults, chosen by `ggufs bench upload` on an H200 (CUDA 13, 16 cores;
// 4 GiB from a warm page cache, pinned copy 55.5 GB/s). Staging filled by
// pread from the file with 12 workers into 32 buffers of 4 MiB ran at 50.3
// GB/s (0.91 of pinned); 16 MiB buffers with 6 workers 32, filling from the
// mapping instead of pread 25 (faulting the mapping in dominates), 64 MiB
// buffers 30. Registering chunks tops out near 23 GB/s: the driver
// serialises pinning, and unpinning costs as much again. Small buffers stay
// warm in the CPU caches between the fill and the DMA read.
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
