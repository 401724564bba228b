package hip

import (
	"fmt"
	"runtime"
	"sync"
	"unsafe"
)

// GPU is one device of a loaded HIP or CUDA runtime.
type GPU struct {
	rt   *runtimeAPI
	dev  int32
	info DeviceInfo
	cfg  UploadConfig

	mu     sync.Mutex // guards table and closed
	table  allocTable
	closed bool

	poolsMu sync.Mutex     // guards creating and destroying the pools
	pools   *pools         // created by prepare at Open, or on first use
	warming sync.WaitGroup // prepare's goroutine; Close waits for it

	stats counters
}

var _ Backend = (*GPU)(nil)

// DeviceInfo describes one device as `ggufs devices` shows it.
type DeviceInfo struct {
	Index             int    `json:"index"`
	Name              string `json:"name"`
	PCIBusID          string `json:"pci_bus_id"`
	TotalBytes        uint64 `json:"total_bytes"`
	FreeBytes         uint64 `json:"free_bytes"`
	ComputeCapability string `json:"compute_capability,omitempty"`
}

// Kind is "hip" or "cuda".
func (g *GPU) Kind() string { return g.rt.fl.kind }

// String is "cuda:0" or "hip:1".
func (g *GPU) String() string { return fmt.Sprintf("%s:%d", g.rt.fl.kind, g.dev) }

// Info describes the device.
func (g *GPU) Info() DeviceInfo { return g.info }

// UploadPath is the path Upload takes for large entries.
func (g *GPU) UploadPath() string { return g.cfg.Path }

// bind pins the calling goroutine to its OS thread and makes g's device
// current there: the runtime's current device is per thread. The returned
// func undoes the pinning.
func (g *GPU) bind() (func(), error) {
	runtime.LockOSThread()
	if err := g.rt.check("SetDevice", g.rt.setDevice(g.dev)); err != nil {
		runtime.UnlockOSThread()
		return func() {}, err
	}
	return runtime.UnlockOSThread, nil
}

// Malloc allocates device memory; a full device gives an error matching
// ErrOutOfMemory.
func (g *GPU) Malloc(size uint64) (DevicePtr, error) {
	if size == 0 {
		return 0, fmt.Errorf("%s: malloc of 0 bytes: %w", g, ErrInvalidValue)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return 0, ErrClosed
	}
	unbind, err := g.bind()
	defer unbind()
	if err != nil {
		return 0, fmt.Errorf("%s: malloc: %w", g, err)
	}
	var p uintptr
	if err := g.rt.check("Malloc", g.rt.malloc(&p, size)); err != nil {
		return 0, fmt.Errorf("%s: malloc of %d bytes: %w", g, size, err)
	}
	g.table.add(DevicePtr(p), size)
	g.stats.alloc(size)
	return DevicePtr(p), nil
}

// Free releases memory Malloc returned; any other pointer is an error.
func (g *GPU) Free(p DevicePtr) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return ErrClosed
	}
	size, ok := g.table.remove(p)
	if !ok {
		return fmt.Errorf("%s: free of %#x: %w", g, uintptr(p), ErrInvalidPointer)
	}
	g.stats.free(size)
	unbind, err := g.bind()
	defer unbind()
	if err != nil {
		return fmt.Errorf("%s: free: %w", g, err)
	}
	if err := g.rt.check("Free", g.rt.free(uintptr(p))); err != nil {
		return fmt.Errorf("%s: free of %#x: %w", g, uintptr(p), err)
	}
	return nil
}

// checkRange fails unless [p, p+n) lies in one live allocation.
func (g *GPU) checkRange(p DevicePtr, n uint64) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return ErrClosed
	}
	return g.table.check(p, n)
}

// MemInfo reports the device's free and total memory.
func (g *GPU) MemInfo() (free, total uint64, err error) {
	unbind, err := g.bind()
	defer unbind()
	if err != nil {
		return 0, 0, fmt.Errorf("%s: mem info: %w", g, err)
	}
	if err := g.rt.check("MemGetInfo", g.rt.memGetInfo(&free, &total)); err != nil {
		return 0, 0, fmt.Errorf("%s: mem info: %w", g, err)
	}
	return free, total, nil
}

// IPCHandle exports an allocation for another process (hipIpcGetMemHandle).
func (g *GPU) IPCHandle(p DevicePtr) ([ipcHandleSize]byte, error) {
	var h [ipcHandleSize]byte
	if err := g.checkRange(p, 1); err != nil {
		return h, err
	}
	unbind, err := g.bind()
	defer unbind()
	if err != nil {
		return h, err
	}
	if err := g.rt.check("IpcGetMemHandle", g.rt.ipcGetMemHandle(&h, uintptr(p))); err != nil {
		return h, fmt.Errorf("%s: ipc handle of %#x: %w", g, uintptr(p), err)
	}
	return h, nil
}

// Synchronize waits for all work on the device (hipDeviceSynchronize).
func (g *GPU) Synchronize() error {
	unbind, err := g.bind()
	defer unbind()
	if err != nil {
		return err
	}
	return g.rt.check("DeviceSynchronize", g.rt.deviceSynchronize())
}

// Stats reports what the backend has done.
func (g *GPU) Stats() Stats { return g.stats.snapshot() }

// Close frees the pinned buffers, streams and every live allocation.
func (g *GPU) Close() error {
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return nil
	}
	g.closed = true
	live := g.table.bases
	g.table = allocTable{}
	g.mu.Unlock()
	g.warming.Wait()

	unbind, err := g.bind()
	defer unbind()
	if err != nil {
		return fmt.Errorf("%s: close: %w", g, err)
	}
	var first error
	for _, p := range live {
		if err := g.rt.check("Free", g.rt.free(uintptr(p))); err != nil && first == nil {
			first = err
		}
	}
	g.poolsMu.Lock()
	if g.pools != nil {
		if err := g.pools.destroy(g.rt); err != nil && first == nil {
			first = err
		}
		g.pools = nil
	}
	g.poolsMu.Unlock()
	if first != nil {
		return fmt.Errorf("%s: close: %w", g, first)
	}
	return nil
}

// deviceInfo queries device dev; the caller has made it current.
func (rt *runtimeAPI) deviceInfo(dev int32) (DeviceInfo, error) {
	info := DeviceInfo{Index: int(dev)}
	buf := make([]byte, 256)
	if err := rt.check("DeviceGetPCIBusId", rt.deviceGetPCIBusID(&buf[0], int32(len(buf)), dev)); err != nil {
		return info, err
	}
	info.PCIBusID = cString(buf)
	if rt.fl.kind == "hip" {
		name := make([]byte, 256)
		if err := rt.check("DeviceGetName", rt.deviceGetName(&name[0], int32(len(name)), dev)); err != nil {
			return info, err
		}
		info.Name = cString(name)
		if err := rt.check("DeviceTotalMem", rt.deviceTotalMem(&info.TotalBytes, dev)); err != nil {
			return info, err
		}
		var total uint64
		if err := rt.check("MemGetInfo", rt.memGetInfo(&info.FreeBytes, &total)); err != nil {
			return info, err
		}
	} else {
		// cudaDeviceProp starts with char name[256] in every version; the
		// buffer is far larger than the whole struct has ever been.
		prop := make([]byte, 64<<10)
		if err := rt.check("GetDeviceProperties", rt.getDeviceProperties(&prop[0], dev)); err != nil {
			return info, err
		}
		info.Name = cString(prop[:256])
		if err := rt.check("MemGetInfo", rt.memGetInfo(&info.FreeBytes, &info.TotalBytes)); err != nil {
			return info, err
		}
	}
	var major, minor int32
	if rt.check("DeviceGetAttribute", rt.deviceGetAttribute(&major, rt.fl.attrCCMajor, dev)) == nil &&
		rt.check("DeviceGetAttribute", rt.deviceGetAttribute(&minor, rt.fl.attrCCMinor, dev)) == nil {
		info.ComputeCapability = fmt.Sprintf("%d.%d", major, minor)
	}
	return info, nil
}

// bytesAt views n bytes of memory at addr that the runtime allocated (pinned
// host memory). The conversion goes through memory so that vet's uintptr
// rule, meant for Go-managed memory, does not apply.
func bytesAt(addr uintptr, n int) []byte {
	p := *(*unsafe.Pointer)(unsafe.Pointer(&addr))
	return unsafe.Slice((*byte)(p), n)
}
