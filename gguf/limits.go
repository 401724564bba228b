package gguf

// Limits on what a file may declare, beyond "no more than the bytes left".
// Each bounds what a hostile header can make the parser allocate; the real
// files they were chosen against are named beside them.
//
// Within them, parsing allocates in proportion to the header, by a small
// constant (measured against a plain header of the same size parsed in the
// same run, TestWorstCaseHeadersAllocateInProportion; full sizes with
// `make stress`, recorded in BENCHMARKS.md): a header mapped from the file
// costs at most ~4x its bytes more, reached by 2^20 one-byte tensors (3.8x:
// a 112-byte TensorInfo for 38 file bytes) and 2^20 one-byte metadata keys
// (3.6x: a 56-byte entry for 14 file bytes); strings and arrays of them
// cost ~1x, being kept encoded. Lookups by name are O(log n) (sorted
// indexes, nameindex.go), so time is O(n log n) in the entries.
const (
	// maxHeaderBytes bounds the header (metadata and tensor infos), which
	// the parser holds in memory (a 1 GiB header costs at most ~4 GiB
	// parsed). The largest real headers are ~10 MB (a 128k vocabulary plus
	// 280k merges); the data section is never read. It also keeps every
	// offset within the header below 2^32 (the parser stores them as uint32).
	maxHeaderBytes = 1 << 30

	// maxTensors bounds the tensor count: each costs ~120 bytes parsed (its
	// TensorInfo, dims and index entry), and every tensor becomes a
	// directory of the mount. Real models have at most a few tens of
	// thousands (MoE, experts split).
	maxTensors = 1 << 20

	// maxKVs bounds the metadata entry count: each costs ~70 bytes parsed
	// (entry, index, key) and becomes a file under metadata/. Real files
	// have ~20-60.
	maxKVs = 1 << 20

	// maxKeyBytes is the spec's limit on a key's length (2^16-1).
	maxKeyBytes = 1<<16 - 1

	// maxArrayDepth bounds arrays of arrays (real files nest at most once);
	// the parser recurses once per level.
	maxArrayDepth = 8

	// maxNestedArrays bounds how many arrays may appear inside arrays in one
	// file. An array of fixed-size arrays costs 12 bytes an element beside
	// their bytes (about 1x the file's 12); one of string or nested arrays
	// ~200 bytes an element, so 2^20 of those cost at most ~200 MiB.
	maxNestedArrays = 1 << 20

	// alignmentKey is the one key the format itself interprets.
	alignmentKey = "general.alignment"

	// allocAhead is how many metadata entries or tensor records the parser
	// allocates for before reading them: more only as they are read, so a
	// count the file's size allows but its bytes do not back costs little.
	allocAhead = 1024

	// readChunk is how much the header parser reads per call when the file
	// is not mapped.
	readChunk = 256 << 10
)

// maxNameBytes (64, the spec's limit on a tensor name), maxDims (4) and
// DefaultAlignment (32) are declared beside the Writer, which shares them.
