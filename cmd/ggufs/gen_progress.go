package main

import (
	"io"
	"os"

	"github.com/ggufs/ggufs/gguf"
	"github.com/ggufs/ggufs/internal/progress"
	"github.com/ggufs/ggufs/synth"
)

// genProgress shows a progress bar on a terminal while gen writes tensor
// data (minutes for a 40 GB model); it stays silent otherwise, and for
// sparse models, which take milliseconds.
func genProgress(shards []*synth.Model, sparse bool) *progress.Bar {
	if sparse || !progress.IsTerminal(os.Stderr) {
		return nil
	}
	var total uint64
	for _, m := range shards {
		for _, t := range m.Tensors {
			n, err := gguf.ByteSize(t.Type, t.Dims)
			if err != nil {
				n = t.Size
			}
			total += n
		}
	}
	return progress.New(os.Stderr, "writing", total)
}

// progressWriter counts what passes through it into a progress display.
type progressWriter struct {
	w io.Writer
	p *progress.Bar
}

func (pw progressWriter) Write(b []byte) (int, error) {
	n, err := pw.w.Write(b)
	pw.p.Add(uint64(n))
	return n, err
}
