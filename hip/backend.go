// Package hip moves bytes between host memory and GPU memory.
//
// One binding of the HIP runtime API, loaded at run time with purego (no cgo),
// serves AMD GPUs through libamdhip64 and NVIDIA GPUs through libcudart, whose
// API HIP mirrors. A host backend emulates a device in host memory where no GPU
// runtime loads; it is also what every CI test of the layers above runs on.
package hip

import "context"

// DevicePtr is an address in a backend's device memory.
type DevicePtr uintptr

// Copy is one host-to-device transfer: Src is copied to Dst.
type Copy struct {
	Dst DevicePtr
	Src Source
}

// Backend is one device of one runtime. It is safe for concurrent use.
type Backend interface {
	// Kind is "hip", "cuda" or "host".
	Kind() string
	// String names the device as users see it: "cuda:0", "hip:1", "host".
	String() string
	// Malloc allocates size bytes of device memory.
	Malloc(size uint64) (DevicePtr, error)
	// Free releases memory returned by Malloc.
	Free(p DevicePtr) error
	// Upload copies every Src to its Dst by the fastest path the backend has
	// (pipelined, pinned, many small copies batched), and returns once all of
	// them are complete on the device. It stops early when ctx is cancelled.
	Upload(ctx context.Context, copies []Copy) error
	// Download copies len(dst) bytes from device address src into dst.
	Download(dst []byte, src DevicePtr) error
	// MemInfo reports the device's free and total memory in bytes.
	MemInfo() (free, total uint64, err error)
	// Stats reports what the backend has done so far.
	Stats() Stats
	// Close releases every resource the backend holds.
	Close() error
}
