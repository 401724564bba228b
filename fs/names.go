package fs

import "strings"

// maxNameLen is Linux's NAME_MAX: a longer entry could be listed but never
// looked up.
const maxNameLen = 255

// validName reports whether name can be one directory entry: it must not be
// empty, "." or "..", contain '/' or NUL, or exceed NAME_MAX. gguf already
// rejects such tensor names; the tree checks again so that no file can ever
// place an entry outside its directory.
func validName(name string) bool {
	return name != "" && name != "." && name != ".." &&
		len(name) <= maxNameLen && !strings.ContainsAny(name, "/\x00")
}
