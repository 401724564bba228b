package hip

import "fmt"

// Upload paths, as Stats.PathBytes names them.
const (
	PathAuto     = "auto"     // the fastest measured path for the runtime
	PathRegister = "register" // pin bounded chunks of the source in place, copy, unpin
	PathStaged   = "staged"   // copy into a ring of pinned buffers, then to the device
	PathPlain    = "plain"    // one synchronous copy per entry from pageable memory
	PathHost     = "host"     // the host backend's memory copy
)

// UploadConfig tunes the GPU upload pipeline. Zero fields take the defaults.
type UploadConfig struct {
	Path           string // PathAuto, PathRegister, PathStaged or PathPlain
	ChunkBytes     uint64 // registration chunk
	InFlight       int    // registered chunks in flight (one stream each)
	StagingBuffers int    // pinned staging buffers (one stream each)
	StagingBytes   uint64 // size of each staging buffer
	Workers        int    // goroutines registering chunks or filling buffers
	SmallBytes     uint64 // entries smaller than this are packed into staging buffers
	// Populate maps each chunk's pages in one madvise(MADV_POPULATE_READ)
	// before pinning or copying it, instead of one page fault per page.
	Populate bool
}

// Defaults, chosen by `ggufs bench upload` on an H200 (see the report in
// issue 3): large enough that per-call cost vanishes, small enough that
// pinning a chunk never holds much RAM.
const (
	defaultChunkBytes     = 64 << 20
	defaultInFlight       = 6
	defaultStagingBuffers = 8
	defaultStagingBytes   = 16 << 20
	defaultWorkers        = 6
	defaultSmallBytes     = 1 << 20
)

// withDefaults fills zero fields; auto becomes the path measured fastest on
// kind's runtime.
func (c UploadConfig) withDefaults(kind string) (UploadConfig, error) {
	switch c.Path {
	case "", PathAuto:
		c.Path = PathRegister
		if kind == "hip" {
			// ROCm documents hipHostRegister of large ranges as costly and
			// offers no read-only flag: stage on AMD.
			c.Path = PathStaged
		}
	case PathRegister, PathStaged, PathPlain:
	default:
		return c, fmt.Errorf("hip: unknown upload path %q (want auto, register, staged or plain)", c.Path)
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
	if c.SmallBytes == 0 {
		c.SmallBytes = defaultSmallBytes
	}
	if c.ChunkBytes < uint64(pageSize) || c.StagingBytes < uint64(pageSize) {
		return c, fmt.Errorf("hip: upload chunk and staging buffer must be at least a page (%d bytes)", pageSize)
	}
	return c, nil
}
