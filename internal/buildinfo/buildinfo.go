// Package buildinfo says which build a binary is, from what Go embeds in it.
package buildinfo

import (
	"fmt"
	"runtime/debug"
)

// Version is what --version prints after "ggufs version": the module
// version, the commit it was built from (with "+changes" when the tree had
// uncommitted edits) and the Go toolchain, all from the build information Go
// embeds in the binary.
func Version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown (built without module information)"
	}
	return format(info)
}

func format(info *debug.BuildInfo) string {
	commit, dirty, when := "unknown", "", ""
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			commit = s.Value
			if len(commit) > 12 {
				commit = commit[:12]
			}
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+changes"
			}
		case "vcs.time":
			when = " of " + s.Value
		}
	}
	v := info.Main.Version
	if v == "" {
		v = "(devel)"
	}
	return fmt.Sprintf("%s (commit %s%s%s, %s)", v, commit, dirty, when, info.GoVersion)
}
