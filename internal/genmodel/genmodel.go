// Package genmodel writes the synthetic models `ggufs gen` makes: planned,
// split into shards, each written beside its place and renamed into it, so
// that a failed or interrupted run never leaves a half-written model.
package genmodel

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/ggufs/ggufs/gguf"
	"github.com/ggufs/ggufs/synth"
)

// Plan plans the model of opts and its shards; bad options wrap
// synth.ErrOptions.
func Plan(opts synth.Options) ([]*synth.Model, error) {
	m, err := synth.Plan(opts)
	if err != nil {
		return nil, err
	}
	if opts.Split > 1 {
		return m.Split(opts.Split)
	}
	return []*synth.Model{m}, nil
}

// DataBytes is the tensor data the shards hold: what a progress display counts.
func DataBytes(shards []*synth.Model) uint64 {
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
	return total
}

// CheckOverwrite refuses paths that exist and are not models gen made:
// replacing those is routine (demos, benchmarks); anything else may be
// someone's real model.
func CheckOverwrite(paths []string) error {
	for _, p := range paths {
		if _, err := os.Lstat(p); err == nil && !synth.IsSynthetic(p) {
			return fmt.Errorf("%s exists and is not a model made by ggufs gen (use --force to overwrite)", p)
		}
	}
	return nil
}

// WriteAll writes shards[k] to paths[k] and sums what was written. count,
// if not nil, is told every byte written (for a progress display; only for
// models with data: a sparse model needs the file itself, to seek and
// truncate).
func WriteAll(paths []string, shards []*synth.Model, count func(n uint64)) (synth.Stats, error) {
	var total synth.Stats
	for k, p := range paths {
		st, err := Write(p, shards[k], count)
		if err != nil {
			return total, err
		}
		total.Tensors += st.Tensors
		total.DataBytes += st.DataBytes
		total.FileBytes += st.FileBytes
		total.Layout = append(total.Layout, st.Layout...)
		if k == 0 {
			total.DataOffset = st.DataOffset
		}
	}
	return total, nil
}

// Write writes m to a temporary file beside out and renames it into place;
// the temporary file is removed on failure and on an interrupting signal.
func Write(out string, m *synth.Model, count func(n uint64)) (synth.Stats, error) {
	tmp, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".tmp-*")
	if err != nil {
		return synth.Stats{}, err
	}
	defer removeOnSignal(tmp.Name())()
	var dst io.Writer = tmp
	if count != nil {
		dst = countingWriter{w: tmp, count: count}
	}
	st, err := m.Write(dst)
	if err == nil {
		err = tmp.Chmod(0o644) // CreateTemp makes it private; a model is not
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), out)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return st, fmt.Errorf("%s: %w", out, err)
	}
	return st, nil
}

// countingWriter tells count how many bytes pass through it.
type countingWriter struct {
	w     io.Writer
	count func(n uint64)
}

func (cw countingWriter) Write(b []byte) (int, error) {
	n, err := cw.w.Write(b)
	cw.count(uint64(n))
	return n, err
}
