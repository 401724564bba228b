package main

import (
	"flag"
	"fmt"
	"io"
	"strconv"

	"github.com/ggufs/ggufs/gguf"
	"github.com/urfave/cli/v2"
)

// defaultDequantCount is how many values --dequant prints without --count,
// a screenful, as gguf-dump shows a tensor's first values.
const defaultDequantCount = 16

var (
	dequantFlag      = &cli.StringFlag{Name: "dequant", Usage: "print the first values of tensor `NAME` converted to float32 (as ggml dequantizes it)"}
	dequantCountFlag = &cli.IntFlag{Name: "count", Value: defaultDequantCount,
		Usage: "with --dequant, how many values (`N`, from the first; 0: all)"}
)

// dequantArgs are inspect --dequant's settings.
type dequantArgs struct {
	name  string
	count int
}

func dequantArgsOf(c *cli.Context) dequantArgs {
	return dequantArgs{name: c.String("dequant"), count: c.Int("count")}
}

// addFlags lets the flags also follow FILE; parsing fs updates a.
func (a *dequantArgs) addFlags(fs *flag.FlagSet) {
	fs.StringVar(&a.name, "dequant", a.name, "")
	fs.IntVar(&a.count, "count", a.count, "")
}

func (a dequantArgs) check() error {
	if a.count < 0 {
		return usageError{"inspect: --count must be 0 or more"}
	}
	return nil
}

// writeDequant prints tensor a.name's type, shape and first a.count values
// (ne0 fastest), one "index value" line each, values in the shortest form
// that reads back as the same float32 (NaN, +Inf, -0 spelled so).
func writeDequant(w io.Writer, path string, m *gguf.Model, a dequantArgs) error {
	ti, ok := m.Tensor(a.name)
	if !ok {
		return fmt.Errorf("inspect: %s: no tensor %q", path, a.name)
	}
	if !gguf.CanDequantize(ti.Type) {
		return fmt.Errorf("inspect: %s: tensor %q: %w: %s", path, a.name, gguf.ErrNoDequantizer, ti.Type)
	}
	if ti.Shard < 0 || ti.Shard >= len(m.Shards) {
		return fmt.Errorf("inspect: %s: tensor %q has no shard", path, a.name)
	}
	n := ti.Elements()
	if a.count > 0 && uint64(a.count) < n {
		n = uint64(a.count)
	}
	vals := make([]float32, n)
	if err := m.Shards[ti.Shard].DequantizeTensor(ti, vals, 0); err != nil {
		return fmt.Errorf("inspect: %s: %w", path, err)
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
