package synth

import (
	"fmt"
	"strings"

	"github.com/ggufs/ggufs/gguf"
)

// maxSplit is the most shards a model can be split into (five-digit names).
const maxSplit = 99999

// Split divides the model into n shards as llama.cpp's gguf-split does:
// consecutive runs of tensors, the first shard carrying all the metadata,
// every shard carrying split.no (uint16, 0-based), split.count (uint16) and
// split.tensors.count (int32). Each shard writes and predicts its data as
// part of the whole (TensorData indexes are the shard's own).
func (m *Model) Split(n int) ([]*Model, error) {
	if n < 1 || n > maxSplit || n > len(m.Tensors) {
		return nil, fmt.Errorf("%w: cannot split %d tensors into %d shards", ErrOptions, len(m.Tensors), n)
	}
	shards := make([]*Model, n)
	for k := range shards {
		lo, hi := k*len(m.Tensors)/n, (k+1)*len(m.Tensors)/n
		split := []gguf.KV{
			{Key: gguf.KeySplitNo, Value: gguf.NewUint16(uint16(k))},
			{Key: gguf.KeySplitCount, Value: gguf.NewUint16(uint16(n))},
			{Key: gguf.KeySplitTensorsCount, Value: gguf.NewInt32(int32(len(m.Tensors)))},
		}
		md := append(split, m.origin()...)
		if k == 0 {
			md = append(append([]gguf.KV(nil), m.Metadata...), split...)
		}
		shards[k] = &Model{Metadata: md, Tensors: m.Tensors[lo:hi], opts: m.opts, order: m.order, base: m.base + lo}
	}
	return shards, nil
}

// ShardPaths names n shards for path as llama.cpp does: model.gguf becomes
// model-00001-of-0000n.gguf, …; with n = 1, path itself.
func ShardPaths(path string, n int) []string {
	if n <= 1 {
		return []string{path}
	}
	prefix := strings.TrimSuffix(path, ".gguf")
	out := make([]string, n)
	for k := range out {
		out[k] = gguf.ShardPath(prefix, k, n)
	}
	return out
}
