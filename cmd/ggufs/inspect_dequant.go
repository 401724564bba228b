package main

import (
	"flag"

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
