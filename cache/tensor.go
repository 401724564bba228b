package cache

import (
	"os"

	"github.com/ggufs/ggufs/gguf"
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
	// mapping in (see hip.Copy.SrcFile).
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
