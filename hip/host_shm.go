package hip

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// hostAlloc is one host-backend allocation: a memfd and this process's
// writable mapping of it.
type hostAlloc struct {
	mem  []byte
	file *os.File
}

// sealsForConsumers stop every other holder of the file from changing it:
// no new writable mapping or write(2) (existing mappings, ours, keep
// working), no resize (a shrunk file would fault our mapping).
const sealsForConsumers = unix.F_SEAL_FUTURE_WRITE | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_SEAL

// newHostAlloc creates a memfd of size bytes, maps it shared and writable,
// and seals it against writes through any other mapping.
func newHostAlloc(size uint64) (_ hostAlloc, err error) {
	fd, err := unix.MemfdCreate("ggufs-arena", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return hostAlloc{}, fmt.Errorf("memfd_create: %w", err)
	}
	f := os.NewFile(uintptr(fd), "ggufs-arena")
	defer func() {
		if err != nil {
			f.Close()
		}
	}()
	if err := unix.Ftruncate(fd, int64(size)); err != nil {
		return hostAlloc{}, fmt.Errorf("sizing memfd to %d bytes: %w", size, err)
	}
	mem, err := unix.Mmap(fd, 0, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return hostAlloc{}, fmt.Errorf("mmap of memfd: %w", err)
	}
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, sealsForConsumers); err != nil {
		unix.Munmap(mem)
		return hostAlloc{}, fmt.Errorf("sealing memfd: %w", err)
	}
	return hostAlloc{mem: mem, file: f}, nil
}

func (a hostAlloc) close() {
	_ = unix.Munmap(a.mem) // cannot fail for a mapping we made
	a.file.Close()
}

// Export returns a read-only file descriptor of the allocation at base,
// which another process maps with mmap(PROT_READ, MAP_SHARED) to see the
// allocation's bytes as this process writes them. The seals make a writable
// shared mapping of it fail, however the consumer reopens it.
func (h *Host) Export(base DevicePtr) (Export, error) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.closed {
		return Export{}, ErrClosed
	}
	a, ok := h.allocs[base]
	if !ok {
		return Export{}, fmt.Errorf("host: export of %#x: not the start of an allocation: %w", uintptr(base), ErrInvalidPointer)
	}
	// Reopening through /proc gives a new open file of the same memory
	// whose access mode is read-only (a dup would share our mode).
	path := "/proc/self/fd/" + strconv.Itoa(int(a.file.Fd()))
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return Export{}, fmt.Errorf("host: export of %#x: reopening read-only: %w", uintptr(base), errors.Join(err, ErrNotExportable))
	}
	return Export{Mechanism: MechanismMemfd, File: f, Size: uint64(len(a.mem))}, nil
}
