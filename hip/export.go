package hip

import (
	"errors"
	"os"
)

// Mechanisms by which another process maps an exported allocation.
const (
	// MechanismMemfd: the host backend's allocation is a shared memory file;
	// the consumer mmaps the file descriptor it receives (read-only).
	MechanismMemfd = "memfd"
	// MechanismCUDAVMM: a cuMemCreate allocation exported as a POSIX file
	// descriptor; the consumer imports it and maps it read-only.
	MechanismCUDAVMM = "cuda_vmm"
	// MechanismCUDAIPC, MechanismHIPIPC: a legacy 64-byte IPC handle that the
	// consumer opens with cudaIpcOpenMemHandle / hipIpcOpenMemHandle.
	MechanismCUDAIPC = "cuda_ipc"
	MechanismHIPIPC  = "hip_ipc"
)

// ErrNotExportable: the backend cannot share this allocation with other
// processes (its runtime lacks every sharing mechanism).
var ErrNotExportable = errors.New("hip: allocation cannot be exported")

// Export is what another process needs to map one whole allocation. Exports
// are per allocation, never per address inside one: a consumer maps the
// allocation and adds a tensor's offset itself.
type Export struct {
	Mechanism string
	// File is the allocation as a file descriptor (memfd, cuda_vmm), opened
	// for reading only; the caller closes it.
	File *os.File
	// Handle is a legacy IPC handle (cuda_ipc, hip_ipc).
	Handle []byte
	// Size is the allocation's length in bytes.
	Size uint64
}

// Exporter is a backend whose allocations other processes can map.
type Exporter interface {
	// Export describes the allocation that starts at base (an address Malloc
	// returned).
	Export(base DevicePtr) (Export, error)
}

var _ Exporter = (*Host)(nil)
