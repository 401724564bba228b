package cliargs

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// argsApp is a small app with the shapes Normalize must handle: value
// and boolean flags, a command with subcommands, aliases.
func argsApp() *cli.App {
	return &cli.App{Name: "ggufs", Commands: []*cli.Command{
		{Name: "mount", Flags: []cli.Flag{
			&cli.StringFlag{Name: "cache-size"},
			&cli.StringFlag{Name: "backend"},
			&cli.IntFlag{Name: "device"},
			&cli.BoolFlag{Name: "allow-other"},
			&cli.BoolFlag{Name: "daemon", Aliases: []string{"background"}},
		}},
		{Name: "load", Flags: []cli.Flag{&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}}}},
		{Name: "bench", Subcommands: []*cli.Command{
			{Name: "open", Flags: []cli.Flag{&cli.IntFlag{Name: "runs"}}},
		}},
	}}
}

func TestNormalizeArgsMovesFlagsBeforeArguments(t *testing.T) {
	cases := []struct{ in, want string }{
		{"ggufs mount m.gguf /mnt/m --cache-size 1GiB", "ggufs mount --cache-size 1GiB -- m.gguf /mnt/m"},
		{"ggufs mount --cache-size 1GiB m.gguf /mnt/m", "ggufs mount --cache-size 1GiB -- m.gguf /mnt/m"},
		{"ggufs mount m.gguf --allow-other /mnt/m --device=1", "ggufs mount --allow-other --device=1 -- m.gguf /mnt/m"},
		{"ggufs load /mnt/m --quiet", "ggufs load --quiet -- /mnt/m"},
		{"ggufs load /mnt/m -q", "ggufs load -q -- /mnt/m"},
		{"ggufs bench open m.gguf --runs 3", "ggufs bench open --runs 3 -- m.gguf"},
		// "--" ends the flags: what follows is an argument even if it looks like a flag.
		{"ggufs load /mnt/m -- --quiet", "ggufs load -- /mnt/m --quiet"},
		{"ggufs mount --cache-size 1GiB -- -odd.gguf /mnt/m", "ggufs mount --cache-size 1GiB -- -odd.gguf /mnt/m"},
		// No arguments, no "--" added; completion stays last.
		{"ggufs mount --help", "ggufs mount --help"},
		{"ggufs mount m.gguf --generate-bash-completion", "ggufs mount -- m.gguf --generate-bash-completion"},
		{"ggufs", "ggufs"},
		{"ggufs --version", "ggufs --version"},
		{"ggufs help mount", "ggufs help -- mount"},
		// -o options become flags.
		{"ggufs mount m.gguf /mnt/m -o cache_size=8GiB,allow_other,rw,nofail", "ggufs mount --cache-size=8GiB --allow-other -- m.gguf /mnt/m"},
		// The mount.fuse convention: no command, then -o: a background mount.
		{"ggufs m.gguf /mnt/m -o rw,backend=host,dev,suid", "ggufs mount --daemon --backend=host -- m.gguf /mnt/m"},
	}
	for _, c := range cases {
		got, err := Normalize(argsApp(), strings.Fields(c.in))
		if err != nil {
			t.Errorf("%s: %v", c.in, err)
			continue
		}
		if want := strings.Fields(c.want); !slices.Equal(got, want) {
			t.Errorf("%s:\n got %q\nwant %q", c.in, got, want)
		}
	}
}

func TestNormalizeArgsRefusesBadMountOptions(t *testing.T) {
	for in, want := range map[string]string{
		"ggufs mount m /mnt -o cache_sise=1GiB": `unknown -o option "cache_sise=1GiB"`,
		"ggufs mount m /mnt -o allow_other=yes": "allow_other takes no value",
		"ggufs mount m /mnt -o cache_size":      "cache_size needs a value",
		"ggufs mount m /mnt -o":                 "-o needs a value",
		"ggufs mount m /mnt -o daemon":          `unknown -o option "daemon"`,
	} {
		_, err := Normalize(argsApp(), strings.Fields(in))
		var ue UsageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want a usage error saying %q", in, err, want)
		}
	}
}

// Any command line is rewritten, still led by the program name, or refused
// with a usage error; never a panic.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{
		"ggufs mount m.gguf /mnt/m --cache-size 1GiB",
		"ggufs m.gguf /mnt/m -o rw,backend=host,dev",
		"ggufs mount m /mnt -o cache_size=,allow_other=1,,x-a",
		"ggufs bench open m.gguf --runs",
		"ggufs load -- -q --generate-bash-completion",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		args := strings.Fields(line)
		got, err := Normalize(argsApp(), args)
		if err != nil {
			var ue UsageError
			if !errors.As(err, &ue) {
				t.Fatalf("%q: %v is not a usage error", args, err)
			}
			return
		}
		if len(args) > 0 && (len(got) == 0 || got[0] != args[0]) {
			t.Fatalf("%q: became %q, without the program name first", args, got)
		}
	})
}
