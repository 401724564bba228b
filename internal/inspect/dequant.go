package inspect

import (
	"fmt"
	"io"
	"strconv"

	"github.com/ggufs/ggufs/gguf"
)

// WriteDequant prints tensor name's type, shape and first count values (0:
// all; ne0 fastest) as ggml dequantizes them to float32, one "index value"
// line each, values in the shortest form
// that reads back as the same float32 (NaN, +Inf, -0 spelled so).
func WriteDequant(w io.Writer, path string, m *gguf.Model, name string, count int) error {
	ti, ok := m.Tensor(name)
	if !ok {
		return fmt.Errorf("%s: no tensor %q", path, name)
	}
	if !gguf.CanDequantize(ti.Type) {
		return fmt.Errorf("%s: tensor %q: %w: %s", path, name, gguf.ErrNoDequantizer, ti.Type)
	}
	if ti.Shard < 0 || ti.Shard >= len(m.Shards) {
		return fmt.Errorf("%s: tensor %q has no shard", path, name)
	}
	n := ti.Elements()
	if count > 0 && uint64(count) < n {
		n = uint64(count)
	}
	vals := make([]float32, n)
	if err := m.Shards[ti.Shard].DequantizeTensor(ti, vals, 0); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if _, err := fmt.Fprintf(w, "%s: %s, shape %v (ggml order), %d elements; first %d as float32:\n",
		ti.Name, ti.Type, ti.Dims, ti.Elements(), n); err != nil {
		return err
	}
	for i, v := range vals {
		if _, err := fmt.Fprintf(w, "%d %s\n", i, strconv.FormatFloat(float64(v), 'g', -1, 32)); err != nil {
			return err
		}
	}
	return nil
}
