package fs

import (
	"fmt"
	"strings"
)

// maxNameLen is Linux's NAME_MAX: a longer entry could be listed but never
// looked up.
const maxNameLen = 255

// EntryName is the directory entry that shows a tensor name or metadata key.
// GGUF allows names no file name can be ('/', "." and ".."), so they are
// percent-encoded: '%' as %25, '/' as %2F, NUL as %00, and "." and ".." as
// %2E and %2E%2E. Every other byte stays as it is, so ordinary names
// (blk.0.attn_q.weight) are unchanged. The mapping is reversible
// (OriginalName); the original is also in user.ggufs.name.
func EntryName(name string) string {
	switch name {
	case ".":
		return "%2E"
	case "..":
		return "%2E%2E"
	}
	if !strings.ContainsAny(name, "%/\x00") {
		return name
	}
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		switch c := name[i]; c {
		case '%', '/', 0:
			fmt.Fprintf(&b, "%%%02X", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// OriginalName reverses EntryName. It fails on an entry EntryName cannot
// produce (a '%' not followed by two hex digits, or a '/').
func OriginalName(entry string) (string, error) {
	if strings.ContainsRune(entry, '/') {
		return "", fmt.Errorf("fs: entry name %q contains '/'", entry)
	}
	var b strings.Builder
	for i := 0; i < len(entry); i++ {
		c := entry[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		hi, okHi := unhex(entry, i+1)
		lo, okLo := unhex(entry, i+2)
		if !okHi || !okLo {
			return "", fmt.Errorf("fs: entry name %q: %% at byte %d is not followed by two hex digits", entry, i)
		}
		b.WriteByte(hi<<4 | lo)
		i += 2
	}
	return b.String(), nil
}

func unhex(s string, i int) (byte, bool) {
	if i >= len(s) {
		return 0, false
	}
	switch c := s[i]; {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// validName reports whether entry can be one directory entry: not empty,
// "." or "..", no '/' or NUL, at most NAME_MAX bytes. EntryName's results
// pass unless the name is too long; the tree checks again so that no file can
// ever place an entry outside its directory.
func validName(entry string) bool {
	return entry != "" && entry != "." && entry != ".." &&
		len(entry) <= maxNameLen && !strings.ContainsAny(entry, "/\x00")
}

// entryNames gives each name its directory entry (encode: EntryName). An
// entry too long for the kernel is "" (the caller leaves it out and says so);
// two names that would share one entry are an error naming both, so that
// neither is hidden behind the other.
func entryNames(what string, names []string, encode func(string) string) ([]string, error) {
	entries := make([]string, len(names))
	owner := make(map[string]string, len(names))
	for i, name := range names {
		e := encode(name)
		if !validName(e) {
			continue
		}
		if prev, dup := owner[e]; dup {
			return nil, fmt.Errorf("fs: %ss %q and %q both map to the directory entry %q", what, prev, name, e)
		}
		owner[e] = name
		entries[i] = e
	}
	return entries, nil
}
