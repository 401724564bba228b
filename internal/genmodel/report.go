package genmodel

import (
	"encoding/binary"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/ggufs/ggufs/gguf"
	"github.com/ggufs/ggufs/internal/units"
	"github.com/ggufs/ggufs/synth"
)

// Report says what WriteAll wrote: the shape of the model, the bytes and how
// long it took.
func Report(w io.Writer, paths []string, opts synth.Options, st synth.Stats, elapsed time.Duration) {
	counts := map[gguf.Type]int{}
	for _, t := range st.Layout {
		counts[t.Type]++
	}
	types := make([]gguf.Type, 0, len(counts))
	for t := range counts {
		types = append(types, t)
	}
	slices.Sort(types)
	var mix []string
	for _, t := range types {
		mix = append(mix, fmt.Sprintf("%s×%d", t, counts[t]))
	}
	order := "little-endian"
	if opts.ByteOrder == binary.BigEndian {
		order = "big-endian"
	}
	preset := opts.Preset
	if preset == "" {
		preset = "tiny"
	}
	fmt.Fprintf(w, "wrote %s: preset %s, GGUF v%d %s, alignment %d\n", paths[0], preset, version(opts), order, alignment(opts))
	if len(paths) > 1 {
		fmt.Fprintf(w, "  split into %d shards: %s … %s\n", len(paths), paths[0], paths[len(paths)-1])
	}
	fmt.Fprintf(w, "  %d tensors (%s)\n", st.Tensors, strings.Join(mix, " "))
	var data string
	if opts.Sparse {
		data = "data left as a hole (sparse)"
	} else {
		data = fmt.Sprintf("data from seed %d", opts.Seed)
	}
	fmt.Fprintf(w, "  header %s, %s of tensor %s, file size %s (%d bytes)\n",
		units.Text(st.DataOffset), units.Text(st.DataBytes), data, units.Text(st.FileBytes), st.FileBytes)
	rate := ""
	if secs := elapsed.Seconds(); secs > 0 && !opts.Sparse {
		rate = fmt.Sprintf(", %s/s", units.Text(uint64(float64(st.FileBytes)/secs)))
	}
	fmt.Fprintf(w, "  in %s%s\n", elapsed.Round(time.Millisecond), rate)
}

func version(o synth.Options) uint32 {
	if o.Version == 0 {
		return 3
	}
	return o.Version
}

func alignment(o synth.Options) uint64 {
	if o.Alignment == 0 {
		return gguf.DefaultAlignment
	}
	return o.Alignment
}
