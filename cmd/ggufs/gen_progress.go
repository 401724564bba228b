package main

import (
	"os"

	"github.com/ggufs/ggufs/internal/genmodel"
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
	return progress.New(os.Stderr, "writing", genmodel.DataBytes(shards))
}
