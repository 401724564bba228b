package fs

import "testing"

// mustTensor returns the entry the tree makes for the tensor named name.
func (r *Root) mustTensor(t testing.TB, name string) *tensorEntry {
	t.Helper()
	e, ok := r.lookupTensor(name)
	if !ok {
		t.Fatalf("tensor %q is not shown", name)
	}
	return e
}
