package cache

import (
	"fmt"
	"os"

	"github.com/ggufs/ggufs/gguf"
	"github.com/ggufs/ggufs/hip"
)

// Tensor is one tensor the cache can make resident.
type Tensor struct {
	Name string
	Size uint64
	// Bytes returns the tensor's host bytes (zero-copy from the mapping); it is
	// called for each upload and must return exactly Size bytes.
	Bytes func() ([]byte, error)
	// Err, when non-nil, says why the tensor can never be uploaded (an unknown
	// type, for example); Get returns it.
	Err error
	// File and Offset, when File is set, say where Bytes' slice lies in a
	// file, so the device can read it by pread instead of faulting the
	// mapping in (see hip.Copy.SrcFile). They must describe the same bytes:
	// TensorsFromModel takes both from one TensorInfo.
	File   *os.File
	Offset int64
}

// TensorsFromModel lists m's tensors in file order.
func TensorsFromModel(m *gguf.Model) []Tensor {
	tensors := make([]Tensor, 0, len(m.Tensors))
	for _, info := range m.Tensors {
		tensors = append(tensors, Tensor{
			Name:   info.Name,
			Size:   info.Size,
			Bytes:  func() ([]byte, error) { return m.TensorBytes(info) },
			Err:    info.Uploadable(),
			File:   m.Shards[info.Shard].OSFile(),
			Offset: int64(info.FileOffset),
		})
	}
	return tensors
}

// copyTo is the upload of t's bytes to dst: the one place a tensor's source
// becomes a device copy. A source that cannot be read, or gives other than
// Size bytes, is an error wrapping ErrSourceFault.
func (t *Tensor) copyTo(dst hip.DevicePtr) (hip.Copy, error) {
	src, err := t.Bytes()
	if err == nil && uint64(len(src)) != t.Size {
		err = fmt.Errorf("%w: %d bytes, want %d", errSourceSize, len(src), t.Size)
	}
	if err != nil {
		return hip.Copy{}, fmt.Errorf("cache: tensor %q: reading source: %w", t.Name, fromSource(err))
	}
	return hip.Copy{Dst: dst, Src: src, SrcFile: t.File, SrcOffset: t.Offset}, nil
}
