package main

import (
	"encoding/json"
	"fmt"

	"github.com/ggufs/ggufs/gguf"
	"github.com/urfave/cli/v2"
)

func inspectCommand() *cli.Command {
	return &cli.Command{
		Name:      "inspect",
		Usage:     "print a GGUF file's header, metadata, tensor table and totals by dtype",
		ArgsUsage: "FILE",
		Description: "Parses and validates FILE's header (never its data) and prints the version,\n" +
			"byte order, alignment, data offset, metadata (long arrays summarized by type,\n" +
			"length and first elements), a table of tensors (name, dtype, shape in ggml order,\n" +
			"absolute offset, bytes) and totals by dtype. Tensors of a type without a known\n" +
			"layout are flagged with '!'. For the first shard of a split model\n" +
			"(NAME-00001-of-00003.gguf) every shard is read and shown.\n\n" +
			"--json prints one JSON document with every value in full (schema:\n" +
			"docs/inspect-json.md, \"schema_version\": 1); --max-array N cuts arrays to N elements.\n\n" +
			"Examples:\n" +
			"   ggufs inspect model.gguf\n" +
			"   ggufs inspect --json model.gguf | jq '.tensors[] | select(.type == \"q4_K\") | .name'\n" +
			"   ggufs inspect --json --max-array 8 model.gguf",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "json", Usage: "print JSON (complete: arrays in full unless --max-array)"},
			&cli.IntFlag{Name: "max-array", Usage: "with --json, keep only the first `N` elements of each array (0: all)"},
		},
		Action: runInspect,
	}
}

func runInspect(c *cli.Context) error {
	if c.NArg() != 1 {
		return usageError{fmt.Sprintf("inspect: want one FILE, got %d arguments", c.NArg())}
	}
	if c.Int("max-array") < 0 {
		return usageError{"inspect: --max-array must be 0 or more"}
	}
	path := c.Args().First()
	m, err := gguf.OpenModel(path)
	if err != nil {
		return fmt.Errorf("inspect: %w", err)
	}
	defer m.Close()
	r, err := newInspectReport(path, m, c.Int("max-array"))
	if err != nil {
		return fmt.Errorf("inspect: %s: %w", path, err)
	}
	if c.Bool("json") {
		enc := json.NewEncoder(c.App.Writer)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	return writeInspectText(c.App.Writer, r)
}
