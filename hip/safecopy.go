package hip

import (
	"fmt"
	"io"
	"os"
	"runtime/debug"
)

// copyFromSource copies src into dst and turns a memory fault while reading
// src (SIGBUS from a file truncated under its mapping) into an error wrapping
// ErrSourceFault instead of a crash. It returns the bytes copied.
func copyFromSource(dst, src []byte) (n int, err error) {
	old := debug.SetPanicOnFault(true)
	defer debug.SetPanicOnFault(old)
	defer func() {
		if r := recover(); r != nil {
			err = faultError(r)
		}
	}()
	return copy(dst, src), nil
}

// faultError describes a recovered fault; anything that is not a memory fault
// is a bug and is re-raised.
func faultError(r any) error {
	type addresser interface{ Addr() uintptr }
	if a, ok := r.(addresser); ok {
		return fmt.Errorf("%w at address %#x", ErrSourceFault, a.Addr())
	}
	if e, ok := r.(error); ok {
		return fmt.Errorf("%w: %v", ErrSourceFault, e)
	}
	panic(r)
}

// touchSource reads one byte of every page of src under the same guard, so a
// path that hands src to the runtime directly (a plain copy) finds a
// truncated mapping as an error before the runtime's C code faults on it.
func touchSource(src []byte) (err error) {
	old := debug.SetPanicOnFault(true)
	defer debug.SetPanicOnFault(old)
	defer func() {
		if r := recover(); r != nil {
			err = faultError(r)
		}
	}()
	touchPages(src)
	return nil
}

// touchPages returns a value computed from a byte of every page, so the
// compiler must perform every load; noinline keeps a caller that discards
// the result from removing them.
//
//go:noinline
func touchPages(src []byte) byte {
	var sum byte
	for i := 0; i < len(src); i += pageSize {
		sum ^= src[i]
	}
	if len(src) > 0 {
		sum ^= src[len(src)-1]
	}
	return sum
}

// preadFull fills dst from f at off. A short file (truncated under its
// mapping) is ErrSourceFault, as a fault on the mapping would be.
func preadFull(f *os.File, dst []byte, off int64) error {
	for len(dst) > 0 {
		n, err := f.ReadAt(dst, off)
		dst, off = dst[n:], off+int64(n)
		if err == io.EOF && len(dst) > 0 {
			return fmt.Errorf("%w: %s ends before offset %d", ErrSourceFault, f.Name(), off+int64(len(dst)))
		}
		if err != nil && err != io.EOF {
			return fmt.Errorf("%w: pread %s at %d: %w", ErrSourceFault, f.Name(), off, err)
		}
	}
	return nil
}
