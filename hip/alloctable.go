package hip

import (
	"fmt"
	"sort"
)

// allocTable records live device allocations so a backend can reject a Free
// of an unknown pointer and a copy that runs outside its allocation, as the
// host backend does, instead of handing the runtime a bad address.
type allocTable struct {
	sizes map[DevicePtr]uint64
	bases []DevicePtr // sorted keys of sizes
	used  uint64
}

func (t *allocTable) add(p DevicePtr, size uint64) {
	if t.sizes == nil {
		t.sizes = make(map[DevicePtr]uint64)
	}
	t.sizes[p] = size
	i := sort.Search(len(t.bases), func(i int) bool { return t.bases[i] > p })
	t.bases = append(t.bases, 0)
	copy(t.bases[i+1:], t.bases[i:])
	t.bases[i] = p
	t.used += size
}

// remove forgets p and returns its size; ok is false for an unknown pointer.
func (t *allocTable) remove(p DevicePtr) (size uint64, ok bool) {
	size, ok = t.sizes[p]
	if !ok {
		return 0, false
	}
	delete(t.sizes, p)
	i := sort.Search(len(t.bases), func(i int) bool { return t.bases[i] >= p })
	t.bases = append(t.bases[:i], t.bases[i+1:]...)
	t.used -= size
	return size, true
}

// check returns an error wrapping ErrInvalidPointer unless [p, p+n) lies
// inside one live allocation.
func (t *allocTable) check(p DevicePtr, n uint64) error {
	i := sort.Search(len(t.bases), func(i int) bool { return t.bases[i] > p }) - 1
	if i < 0 {
		return fmt.Errorf("hip: device address %#x: %w", uintptr(p), ErrInvalidPointer)
	}
	base := t.bases[i]
	size := t.sizes[base]
	off := uint64(p - base)
	if off > size || n > size-off {
		return fmt.Errorf("hip: device range [%#x, +%d) outside allocation [%#x, +%d): %w",
			uintptr(p), n, uintptr(base), size, ErrInvalidPointer)
	}
	return nil
}
