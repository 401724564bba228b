package cache

import (
	"fmt"

	"github.com/ggufs/ggufs/gguf"
	"github.com/ggufs/ggufs/hip"
)

// Tensor is one tensor the cache can make resident.
type Tensor struct {
	Name string
	Size uint64
	// Source says where the tensor's bytes are (for a model's tensor, a range
	// of its shard: SourceOf); it is called for each upload and must describe
	// exactly Size bytes.
	Source func() (hip.Source, error)
	// Err, when non-nil, says why the tensor can never be uploaded (an unknown
	// type, for example); Get returns it.
	Err error
}

// TensorsFromModel lists m's tensors in file order.
func TensorsFromModel(m *gguf.Model) []Tensor {
	tensors := make([]Tensor, 0, len(m.Tensors))
	for _, info := range m.Tensors {
		tensors = append(tensors, Tensor{
			Name:   info.Name,
			Size:   info.Size,
			Source: func() (hip.Source, error) { return SourceOf(m, info) },
			Err:    info.Uploadable(),
		})
	}
	return tensors
}

// SourceOf is where info's bytes lie in m: one range of its shard, which the
// device reads by pread from the shard's file or through the shard's mapping
// (zero-copy), both taken from the same shard and offset so they cannot
// disagree.
func SourceOf(m *gguf.Model, info *gguf.TensorInfo) (hip.Source, error) {
	mapped, err := m.TensorBytes(info)
	if err != nil {
		return hip.Source{}, err
	}
	return hip.FileRange(m.Shards[info.Shard].OSFile(), int64(info.FileOffset), mapped)
}

// copyTo is the upload of t's bytes to dst: the one place a tensor's source
// becomes a device copy. A source that cannot be read, or gives other than
// Size bytes, is an error wrapping ErrSourceFault.
func (t *Tensor) copyTo(dst hip.DevicePtr) (hip.Copy, error) {
	src, err := t.Source()
	if err == nil && uint64(src.Len()) != t.Size {
		err = fmt.Errorf("%w: %d bytes, want %d", errSourceSize, src.Len(), t.Size)
	}
	if err != nil {
		return hip.Copy{}, fmt.Errorf("cache: tensor %q: reading source: %w", t.Name, fromSource(err))
	}
	return hip.Copy{Dst: dst, Src: src}, nil
}
