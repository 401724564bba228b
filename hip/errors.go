package hip

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors callers match with errors.Is.
var (
	// ErrOutOfMemory: the device has no room for the allocation. The cache
	// turns it into "evict something, or report no space".
	ErrOutOfMemory = errors.New("hip: out of device memory")
	// ErrNoDevice: the runtime loaded but sees no usable device.
	ErrNoDevice = errors.New("hip: no device")
	// ErrSourceFault: reading the upload's source faulted (for example a file
	// truncated under its mapping raised SIGBUS).
	ErrSourceFault = errors.New("hip: fault reading upload source")
	// ErrInvalidPointer: a device address that no live allocation covers, or
	// a range that runs past the end of its allocation.
	ErrInvalidPointer = errors.New("hip: invalid device pointer")
	// ErrInvalidValue: an argument no call accepts (a zero-byte allocation).
	ErrInvalidValue = errors.New("hip: invalid value")
	// ErrClosed: the backend was closed.
	ErrClosed = errors.New("hip: backend closed")
	// ErrInjected: a fault injected by a test through the host backend.
	ErrInjected = errors.New("hip: injected fault")
	// ErrLibraryNotFound: no runtime library could be loaded.
	ErrLibraryNotFound = errors.New("hip: runtime library not found")
	// ErrMissingSymbol: the runtime library lacks a function the binding needs.
	ErrMissingSymbol = errors.New("hip: runtime symbol missing")
)

// libraryNotFound is ErrLibraryNotFound for one runtime, worded for a user:
// "cuda: runtime library not found (tried libcudart.so.13, …): <dlopen's reason>".
type libraryNotFound struct {
	kind  string
	tried []string
	last  error
}

func (e *libraryNotFound) Error() string {
	return fmt.Sprintf("%s: runtime library not found (tried %s): %v", e.kind, strings.Join(e.tried, ", "), e.last)
}

func (e *libraryNotFound) Is(target error) bool { return target == ErrLibraryNotFound }

func (e *libraryNotFound) Unwrap() error { return e.last }

// Return codes shared by HIP and CUDA (HIP copied CUDA's numbering for these;
// TestHIPEnums checks them against the headers).
const (
	codeSuccess           = 0
	codeInvalidValue      = 1
	codeOutOfMemory       = 2   // hipErrorOutOfMemory, cudaErrorMemoryAllocation
	codeInsufficientDrv   = 35  // hipErrorInsufficientDriver, cudaErrorInsufficientDriver
	codeNoDevice          = 100 // hipErrorNoDevice, cudaErrorNoDevice
	codeInvalidDevice     = 101 // hipErrorInvalidDevice, cudaErrorInvalidDevice
	codeHostAlreadyRegist = 712 // hipErrorHostMemoryAlreadyRegistered, cudaErrorHostMemoryAlreadyRegistered
	codeNotReady          = 600 // hipErrorNotReady, cudaErrorNotReady
)

// RuntimeError is a non-success return code of a runtime call.
type RuntimeError struct {
	Backend string // "hip" or "cuda"
	Call    string // "hipMalloc"
	Code    int    // the runtime's numeric code
	Name    string // "hipErrorOutOfMemory"
	Message string // the runtime's own description
}

// codeSentences say in words what the codes users meet mean; other codes
// get the runtime's own description.
var codeSentences = map[int]string{
	codeInvalidValue:    "the runtime rejected an argument",
	codeOutOfMemory:     "the device is out of memory",
	codeInsufficientDrv: "the installed GPU driver is older than this runtime needs",
	codeNoDevice:        "the runtime sees no GPU (no device, or no access to /dev/kfd, /dev/dri or /dev/nvidia*)",
	codeInvalidDevice:   "no such device",
	codeNotReady:        "the device has not finished the work",
}

// Error is "cuda: the device is out of memory (cudaMalloc:
// cudaErrorMemoryAllocation)": the backend, a sentence, then the call and code.
func (e *RuntimeError) Error() string {
	name := e.Name
	if name == "" {
		name = fmt.Sprintf("error %d", e.Code)
	}
	sentence, known := codeSentences[e.Code]
	if !known {
		sentence = e.Message
	}
	if sentence == "" || sentence == name {
		sentence = "runtime call failed"
	}
	backend := e.Backend
	if backend == "" {
		backend = "hip"
	}
	return fmt.Sprintf("%s: %s (%s: %s)", backend, sentence, e.Call, name)
}

// Is lets errors.Is match the sentinels the layers above act on.
func (e *RuntimeError) Is(target error) bool {
	switch target {
	case ErrOutOfMemory:
		return e.Code == codeOutOfMemory
	case ErrNoDevice:
		return e.Code == codeNoDevice || e.Code == codeInsufficientDrv
	case ErrInvalidValue:
		return e.Code == codeInvalidValue
	}
	return false
}
