package hip

import (
	"fmt"
	"runtime"
	"syscall"
)

// Pinner is implemented by backends that can allocate page-locked host memory
// and copy from it in one direct call: the physical limit that upload
// benchmarks measure their paths against.
type Pinner interface {
	AllocPinned(n uint64) ([]byte, error)
	FreePinned(b []byte) error
	// CopyDirect copies src to dst in one synchronous call, no pipeline.
	CopyDirect(dst DevicePtr, src []byte) error
}

var (
	_ Pinner = (*GPU)(nil)
	_ Pinner = (*Host)(nil)
)

// AllocPinned allocates n bytes of page-locked host memory.
func (g *GPU) AllocPinned(n uint64) ([]byte, error) {
	if n == 0 || n > uint64(maxInt) {
		return nil, fmt.Errorf("%s: pinned allocation of %d bytes: %w", g, n, ErrInvalidValue)
	}
	unbind, err := g.bind()
	defer unbind()
	if err != nil {
		return nil, err
	}
	var addr uintptr
	if err := g.rt.check("HostAlloc", g.rt.hostAlloc(&addr, n, hostAllocDefault)); err != nil {
		return nil, fmt.Errorf("%s: pinned allocation of %d bytes: %w", g, n, err)
	}
	return bytesAt(addr, int(n)), nil
}

// FreePinned frees memory from AllocPinned.
func (g *GPU) FreePinned(b []byte) error {
	unbind, err := g.bind()
	defer unbind()
	if err != nil {
		return err
	}
	return g.rt.check("FreeHost", g.rt.freeHost(addressOf(b)))
}

// CopyDirect is one synchronous hipMemcpy host to device.
func (g *GPU) CopyDirect(dst DevicePtr, src []byte) error {
	if err := g.checkRange(dst, uint64(len(src))); err != nil {
		return err
	}
	unbind, err := g.bind()
	defer unbind()
	if err != nil {
		return err
	}
	err = g.rt.check("Memcpy", g.rt.memcpy(uintptr(dst), addressOf(src), uint64(len(src)), memcpyHostToDevice))
	runtime.KeepAlive(src)
	return err
}

// AllocPinned returns n bytes of resident anonymous memory.
func (h *Host) AllocPinned(n uint64) ([]byte, error) {
	if n == 0 || n > uint64(maxInt) {
		return nil, fmt.Errorf("host: pinned allocation of %d bytes: %w", n, ErrInvalidValue)
	}
	b, err := syscall.Mmap(-1, 0, int(n), syscall.PROT_READ|syscall.PROT_WRITE,
		syscall.MAP_PRIVATE|syscall.MAP_ANONYMOUS|syscall.MAP_POPULATE)
	if err != nil {
		return nil, fmt.Errorf("host: pinned allocation of %d bytes: %v: %w", n, err, ErrOutOfMemory)
	}
	return b, nil
}

// FreePinned frees memory from AllocPinned.
func (h *Host) FreePinned(b []byte) error { return syscall.Munmap(b) }

// CopyDirect copies src to dst.
func (h *Host) CopyDirect(dst DevicePtr, src []byte) error {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.closed {
		return ErrClosed
	}
	d, err := h.span(dst, len(src))
	if err != nil {
		return err
	}
	_, err = copyFromSource(d, src)
	return err
}
