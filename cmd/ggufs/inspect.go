package main

import (
	"flag"
	"fmt"
	"io"
	"runtime/debug"

	"github.com/ggufs/ggufs/gguf"
	"github.com/ggufs/ggufs/internal/inspect"
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
			"   ggufs inspect --json --max-array 8 model.gguf\n" +
			"   ggufs inspect --dequant blk.0.attn_q.weight --count 8 model.gguf",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "json", Usage: "print JSON (complete: arrays in full unless --max-array)"},
			&cli.IntFlag{Name: "max-array", Usage: "with --json, keep only the first `N` elements of each array (0: all)"},
			dequantFlag, dequantCountFlag, // inspect_dequant.go
		},
		Action: runInspect,
	}
}

// inspectArgs are inspect's settings, from flags given before or after FILE
// (urfave/cli stops parsing flags at the first argument, but the usage
// `ggufs inspect FILE --json` is natural).
type inspectArgs struct {
	path     string
	json     bool
	maxArray int
	dequant  dequantArgs // inspect_dequant.go
}

func parseInspectArgs(c *cli.Context) (inspectArgs, error) {
	a := inspectArgs{json: c.Bool("json"), maxArray: c.Int("max-array"), dequant: dequantArgsOf(c)}
	if c.NArg() == 0 {
		return a, usageError{"inspect: missing FILE"}
	}
	a.path = c.Args().First()
	rest := flag.NewFlagSet("inspect", flag.ContinueOnError)
	rest.SetOutput(io.Discard)
	jsonAfter := rest.Bool("json", false, "")
	maxAfter := rest.Int("max-array", a.maxArray, "")
	a.dequant.addFlags(rest)
	if err := rest.Parse(c.Args().Tail()); err != nil {
		return a, usageError{"inspect: " + err.Error()}
	}
	if rest.NArg() > 0 {
		return a, usageError{fmt.Sprintf("inspect: want one FILE, got also %q", rest.Args())}
	}
	a.json = a.json || *jsonAfter
	a.maxArray = *maxAfter
	if err := a.dequant.check(); err != nil {
		return a, err
	}
	if a.maxArray < 0 {
		return a, usageError{"inspect: --max-array must be 0 or more"}
	}
	return a, nil
}

func runInspect(c *cli.Context) (err error) {
	a, err := parseInspectArgs(c)
	if err != nil {
		return err
	}
	// inspect reads each array once, so it borrows them from the file's
	// mapping rather than copying megabytes of vocabulary into new memory
	// (most of its time otherwise). A file that shrinks meanwhile then
	// faults while the report is made: that becomes an error, not a crash.
	m, err := gguf.OpenModelWith(a.path, gguf.Options{BorrowArrays: true})
	if err != nil {
		return fmt.Errorf("inspect: %w", err)
	}
	defer m.Close()
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if p := recover(); p != nil {
			if _, ok := p.(interface{ Addr() uintptr }); !ok {
				panic(p)
			}
			err = fmt.Errorf("inspect: %s: %w: the file changed while it was read", a.path, gguf.ErrTruncated)
		}
	}()
	if a.dequant.name != "" {
		if err := inspect.WriteDequant(c.App.Writer, a.path, m, a.dequant.name, a.dequant.count); err != nil {
			return fmt.Errorf("inspect: %w", err)
		}
		return nil
	}
	if a.json {
		// Written as it goes: a header of 2^26 strings is never a report
		// in memory, nor a document and an indented copy of it.
		if err := inspect.WriteJSON(c.App.Writer, a.path, m, a.maxArray); err != nil {
			return fmt.Errorf("inspect: %s: %w", a.path, err)
		}
		return nil
	}
	r, err := inspect.New(a.path, m, false, 0)
	if err != nil {
		return fmt.Errorf("inspect: %s: %w", a.path, err)
	}
	return inspect.WriteText(c.App.Writer, r)
}
