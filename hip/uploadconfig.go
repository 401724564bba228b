package hip

import "fmt"

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
// 4 GiB from a warm page cache, pinned copy 55.4 GB/s): staging with 6
// workers, 8 buffers of 16 MiB and populate gave 36.5 GB/s; registering
// 64 MiB chunks 22 GB/s (the driver serialises pinning: more workers only
// wait longer), 256 MiB chunks 23.5; more staging workers or bigger buffers
// did not help. Chunks stay small enough that pinning one never holds much RAM.
const (
	defaultChunkBytes      = 64 << 20
	defaultInFlight        = 6
	defaultStagingBuffers  = 8
	defaultStagingBytes    = 16 << 20
	defaultWorkers         = 6
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
		c.Workers = defaultWorkers
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
