package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ggufs/ggufs/gguf"
	"github.com/ggufs/ggufs/internal/genmodel"
	"github.com/ggufs/ggufs/synth"
	"github.com/urfave/cli/v2"
)

func genCommand() *cli.Command {
	return &cli.Command{
		Name:      "gen",
		Usage:     "write a synthetic GGUF model (realistic names, shapes and metadata; pseudo-random data)",
		ArgsUsage: " ",
		Description: "Writes a model shaped like a real one: llama.cpp's tensor names, the shapes of the\n" +
			"chosen preset, llama.* hyperparameters and a tokenizer vocabulary of the right size.\n" +
			"Tensor data is pseudo-random and depends only on --seed (float tensors hold finite\n" +
			"values below 2 in magnitude; quantized blocks are random bytes with finite float\n" +
			"scales, so they dequantize to finite numbers). With --sparse the\n" +
			"data section is a hole: it reads as zeros and takes no disk space, so a 40 GB\n" +
			"llama-70b-shaped file is made in about a second.\n\n" +
			"Presets:\n" + genPresetList() + "\n" +
			"Examples:\n" +
			"   ggufs gen -o tiny.gguf\n" +
			"   ggufs gen -o llama7b.gguf --preset llama-7b --dtype q4_K --seed 42\n" +
			"   ggufs gen -o llama70b.gguf --preset llama-70b --sparse\n" +
			"   ggufs gen -o be.gguf --preset tiny --big-endian --version 2 --alignment 64",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write the model to `FILE` (required)"},
			&cli.StringFlag{Name: "preset", Value: "tiny", Usage: "model shape: " + genPresetNames()},
			&cli.StringFlag{Name: "dtype", Usage: "ggml `TYPE` of the 2-D weight matrices (f16, bf16, q8_0, q4_K, iq4_xs, …); default: the preset's (q8_0 for tiny, q4_K for llama-*); norms stay f32"},
			&cli.BoolFlag{Name: "sparse", Usage: "leave the data section as a hole (zeros, no disk blocks) instead of writing data"},
			&cli.Uint64Flag{Name: "seed", Value: 1, Usage: "seed of the pseudo-random tensor data; the same seed gives the same bytes"},
			&cli.UintFlag{Name: "version", Value: 3, Usage: "GGUF version to write: 1, 2 or 3"},
			&cli.BoolFlag{Name: "big-endian", Usage: "write a big-endian file (header fields byte-swapped; gguf-py's layout)"},
			&cli.Uint64Flag{Name: "alignment", Value: gguf.DefaultAlignment, Usage: "data alignment in bytes, a power of two; other than 32 it is stored as general.alignment"},
			&cli.IntFlag{Name: "split", Value: 1, Usage: "write a split model of `N` shards as llama.cpp's gguf-split does: FILE.gguf becomes FILE-00001-of-0000N.gguf, …"},
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "overwrite FILE even if it is not a model made by gen (those are replaced without asking)"},
		},
		Action: runGen,
	}
}

func genPresetNames() string {
	var names []string
	for _, p := range synth.Presets() {
		names = append(names, p.Name)
	}
	return strings.Join(names, ", ")
}

func genPresetList() string {
	var b strings.Builder
	for _, p := range synth.Presets() {
		fmt.Fprintf(&b, "   %-10s %s\n", p.Name, p.About)
	}
	return b.String()
}

// genOptions turns the flags into synth.Options, rejecting bad usage.
func genOptions(c *cli.Context) (string, synth.Options, error) {
	if c.NArg() > 0 {
		return "", synth.Options{}, usageError{fmt.Sprintf("gen: unexpected argument %q (the output file is given with -o)", c.Args().First())}
	}
	out := c.String("output")
	if out == "" {
		return "", synth.Options{}, usageError{"gen: -o FILE is required"}
	}
	v := c.Uint("version")
	if v < 1 || v > 3 {
		return "", synth.Options{}, usageError{fmt.Sprintf("gen: --version %d: want 1, 2 or 3", v)}
	}
	a := c.Uint64("alignment")
	if a == 0 || a&(a-1) != 0 || a > 1<<31 {
		return "", synth.Options{}, usageError{fmt.Sprintf("gen: --alignment %d: want a power of two from 1 to 2^31", a)}
	}
	opts := synth.Options{
		Preset: c.String("preset"), DType: c.String("dtype"), Sparse: c.Bool("sparse"),
		Seed: c.Uint64("seed"), Version: uint32(v), Alignment: a, Split: c.Int("split"),
	}
	if opts.Split < 1 {
		return "", opts, usageError{fmt.Sprintf("gen: --split %d: want 1 or more", opts.Split)}
	}
	if c.Bool("big-endian") {
		opts.ByteOrder = binary.BigEndian
	}
	return out, opts, nil
}

// genShards plans the model and its shards.
func genShards(opts synth.Options) ([]*synth.Model, error) {
	shards, err := genmodel.Plan(opts)
	if errors.Is(err, synth.ErrOptions) {
		return nil, usageError{"gen: " + strings.TrimPrefix(err.Error(), "synth: ")}
	}
	if err != nil {
		return nil, fmt.Errorf("gen: %w", err)
	}
	return shards, nil
}

func runGen(c *cli.Context) error {
	out, opts, err := genOptions(c)
	if err != nil {
		return err
	}
	shards, err := genShards(opts)
	if err != nil {
		return err
	}
	paths := synth.ShardPaths(out, len(shards))
	if !c.Bool("force") {
		if err := genmodel.CheckOverwrite(paths); err != nil {
			return fmt.Errorf("gen: %w", err)
		}
	}
	start := time.Now()
	var count func(uint64)
	bar := genProgress(shards, opts.Sparse)
	if bar != nil {
		count = bar.Add
	}
	total, err := genmodel.WriteAll(paths, shards, count)
	if bar != nil {
		bar.Finish(err)
	}
	if err != nil {
		return fmt.Errorf("gen: %w", err)
	}
	genmodel.Report(c.App.Writer, paths, opts, total, time.Since(start))
	return nil
}
