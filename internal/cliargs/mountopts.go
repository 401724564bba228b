package cliargs

import (
	"fmt"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"
)

// genericMountOptions are options mount(8), fstab and mount.fuse3 pass that
// mean nothing more to ggufs: the tree is read-only whatever ro/rw say, the
// kernel already mounts FUSE nosuid and nodev for users, and the rest
// (auto, nofail, _netdev, user, x-systemd.*, comment=) are for mount(8).
var genericMountOptions = []string{
	"defaults", "ro", "rw", "dev", "nodev", "suid", "nosuid", "exec", "noexec",
	"async", "atime", "noatime", "relatime", "strictatime", "nodiratime", "diratime",
	"auto", "noauto", "user", "users", "nouser", "owner", "nofail", "_netdev", "silent", "loud",
}

// mountOptionFlags turns mount's `-o opt,opt=value,...` into the matching
// flags: an option is a flag's name with '_' for '-' (cache_size=8GiB is
// --cache-size=8GiB, allow_other is --allow-other); mount(8)'s generic
// options are accepted and ignored; anything else is a usage error.
func mountOptionFlags(opts string, flags []cli.Flag) ([]string, error) {
	var out []string
	for _, opt := range strings.Split(opts, ",") {
		name, value, hasValue := strings.Cut(opt, "=")
		if slices.Contains(genericMountOptions, name) || strings.HasPrefix(name, "x-") || name == "comment" {
			continue
		}
		flagName := strings.ReplaceAll(name, "_", "-")
		f := findFlag(flags, flagName)
		if f == nil || flagName == "daemon" || flagName == "help" {
			return nil, UsageError{fmt.Sprintf("mount: unknown -o option %q (want %s, or generic ones such as rw, noatime, nofail)",
				opt, strings.Join(mountOptionNames(flags), ", "))}
		}
		_, isBool := f.(*cli.BoolFlag)
		switch {
		case isBool && hasValue:
			return nil, UsageError{fmt.Sprintf("mount: -o %s takes no value", name)}
		case isBool:
			out = append(out, "--"+flagName)
		case !hasValue || value == "":
			return nil, UsageError{fmt.Sprintf("mount: -o %s needs a value (%s=...)", name, name)}
		default:
			out = append(out, "--"+flagName+"="+value)
		}
	}
	return out, nil
}

func findFlag(flags []cli.Flag, name string) cli.Flag {
	for _, f := range flags {
		if slices.Contains(f.Names(), name) {
			return f
		}
	}
	return nil
}

// mountOptionNames lists the -o forms of mount's flags: allow_other, cache_size=.
func mountOptionNames(flags []cli.Flag) []string {
	var names []string
	for _, f := range flags {
		name := f.Names()[0]
		if name == "daemon" || name == "help" {
			continue
		}
		o := strings.ReplaceAll(name, "-", "_")
		if _, isBool := f.(*cli.BoolFlag); !isBool {
			o += "="
		}
		names = append(names, o)
	}
	return names
}
