package gguf

// Limits on what a file may declare, beyond "no more than the bytes left".
// Each bounds what a hostile header can make the parser allocate; the real
// files they were chosen against are named beside them.
const (
	// maxHeaderBytes bounds the header (metadata and tensor infos), which the
	// parser holds in memory. The largest real headers are ~10 MB (a 128k
	// vocabulary plus 280k merges); the data section is never read.
	maxHeaderBytes = 1 << 30

	// maxTensors bounds the tensor count: each costs ~200 bytes parsed.
	// Real models have at most a few tens of thousands (MoE, experts split).
	maxTensors = 1 << 20

	// maxKVs bounds the metadata entry count (real files: ~20-60).
	maxKVs = 1 << 20

	// maxKeyBytes is the spec's limit on a key's length (2^16-1).
	maxKeyBytes = 1<<16 - 1

	// maxArrayDepth bounds arrays of arrays (real files nest at most once);
	// the parser recurses once per level.
	maxArrayDepth = 8

	// maxNestedArrays bounds how many arrays may appear inside arrays in one
	// file: each costs ~100 bytes for 12 bytes of file, a 9x amplification.
	maxNestedArrays = 1 << 20

	// alignmentKey is the one key the format itself interprets.
	alignmentKey = "general.alignment"

	// allocAhead is how many metadata entries or tensor records the parser
	// allocates for before reading them: more only as they are read.
	allocAhead = 1024

	// readChunk is how much the header parser reads per call.
	readChunk = 256 << 10
)

// maxNameBytes (64, the spec's limit on a tensor name), maxDims (4) and
// DefaultAlignment (32) are declared beside the Writer, which shares them.
