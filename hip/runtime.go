package hip

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/ebitengine/purego"
)

// runtimeAPI is the HIP runtime API (or CUDA's, which HIP mirrors) resolved
// from one loaded library. Every function returns the runtime's status code.
// size_t is uint64 and pointers are uintptr: the binding targets 64-bit Linux.
type runtimeAPI struct {
	fl      *flavor
	path    string // the library that was loaded
	handle  uintptr
	symbols []string // every symbol resolved, for tests and reports

	// hipError_t hipGetDeviceCount(int* count)
	getDeviceCount func(count *int32) int32
	// hipError_t hipSetDevice(int deviceId)
	setDevice func(device int32) int32
	// hipError_t hipDeviceGetAttribute(int* pi, hipDeviceAttribute_t attr, int deviceId)
	deviceGetAttribute func(value *int32, attr int32, device int32) int32
	// hipError_t hipDeviceGetPCIBusId(char* pciBusId, int len, int device)
	deviceGetPCIBusID func(id *byte, length int32, device int32) int32
	// hipError_t hipMemGetInfo(size_t* free, size_t* total)
	memGetInfo func(free, total *uint64) int32
	// hipError_t hipMalloc(void** ptr, size_t size)
	malloc func(ptr *uintptr, size uint64) int32
	// hipError_t hipFree(void* ptr)
	free func(ptr uintptr) int32
	// hipError_t hipMemcpy(void* dst, const void* src, size_t sizeBytes, hipMemcpyKind kind)
	memcpy func(dst, src uintptr, size uint64, kind int32) int32
	// hipError_t hipMemcpyAsync(void* dst, const void* src, size_t sizeBytes, hipMemcpyKind kind, hipStream_t stream)
	memcpyAsync func(dst, src uintptr, size uint64, kind int32, stream uintptr) int32
	// hipError_t hipStreamCreateWithFlags(hipStream_t* stream, unsigned int flags)
	streamCreateWithFlags func(stream *uintptr, flags uint32) int32
	// hipError_t hipStreamSynchronize(hipStream_t stream)
	streamSynchronize func(stream uintptr) int32
	// hipError_t hipStreamDestroy(hipStream_t stream)
	streamDestroy func(stream uintptr) int32
	// hipError_t hipEventCreateWithFlags(hipEvent_t* event, unsigned flags)
	eventCreateWithFlags func(event *uintptr, flags uint32) int32
	// hipError_t hipEventRecord(hipEvent_t event, hipStream_t stream)
	eventRecord func(event, stream uintptr) int32
	// hipError_t hipEventSynchronize(hipEvent_t event)
	eventSynchronize func(event uintptr) int32
	// hipError_t hipEventElapsedTime(float* ms, hipEvent_t start, hipEvent_t stop)
	eventElapsedTime func(ms *float32, start, stop uintptr) int32
	// hipError_t hipEventDestroy(hipEvent_t event)
	eventDestroy func(event uintptr) int32
	// hipError_t hipHostRegister(void* hostPtr, size_t sizeBytes, unsigned int flags)
	hostRegister func(ptr uintptr, size uint64, flags uint32) int32
	// hipError_t hipHostUnregister(void* hostPtr)
	hostUnregister func(ptr uintptr) int32
	// hipError_t hipHostMalloc(void** ptr, size_t size, unsigned int flags)
	// cudaError_t cudaHostAlloc(void** pHost, size_t size, unsigned int flags)
	hostAlloc func(ptr *uintptr, size uint64, flags uint32) int32
	// hipError_t hipHostFree(void* ptr); cudaError_t cudaFreeHost(void* ptr)
	freeHost func(ptr uintptr) int32
	// hipError_t hipIpcGetMemHandle(hipIpcMemHandle_t* handle, void* devPtr)
	ipcGetMemHandle func(handle *[ipcHandleSize]byte, ptr uintptr) int32
	// const char* hipGetErrorName(hipError_t hip_error)
	getErrorName func(code int32) string
	// const char* hipGetErrorString(hipError_t hipError)
	getErrorString func(code int32) string
	// hipError_t hipRuntimeGetVersion(int* runtimeVersion)
	runtimeGetVersion func(version *int32) int32
	// hipError_t hipDriverGetVersion(int* driverVersion)
	driverGetVersion func(version *int32) int32
	// hipError_t hipDeviceSynchronize(void)
	deviceSynchronize func() int32

	// HIP only: hipError_t hipDeviceGetName(char* name, int len, hipDevice_t device)
	deviceGetName func(name *byte, length int32, device int32) int32
	// HIP only: hipError_t hipDeviceTotalMem(size_t* bytes, hipDevice_t device)
	deviceTotalMem func(bytes *uint64, device int32) int32
	// CUDA only: cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device).
	// Only the name, the struct's first field (char name[256]) in every
	// version, is read, into a buffer far larger than any version's struct.
	getDeviceProperties func(prop *byte, device int32) int32
}

// binding names one function pointer and the symbols that may provide it.
type binding struct {
	fn    any      // pointer to a func field
	names []string // tried in order
}

func (rt *runtimeAPI) bindings() []binding {
	p := rt.fl.prefix
	b := func(fn any, suffix string) binding { return binding{fn: fn, names: []string{p + suffix}} }
	list := []binding{
		b(&rt.getDeviceCount, "GetDeviceCount"),
		b(&rt.setDevice, "SetDevice"),
		b(&rt.deviceGetAttribute, "DeviceGetAttribute"),
		b(&rt.deviceGetPCIBusID, "DeviceGetPCIBusId"),
		b(&rt.memGetInfo, "MemGetInfo"),
		b(&rt.malloc, "Malloc"),
		b(&rt.free, "Free"),
		b(&rt.memcpy, "Memcpy"),
		b(&rt.memcpyAsync, "MemcpyAsync"),
		b(&rt.streamCreateWithFlags, "StreamCreateWithFlags"),
		b(&rt.streamSynchronize, "StreamSynchronize"),
		b(&rt.streamDestroy, "StreamDestroy"),
		b(&rt.eventCreateWithFlags, "EventCreateWithFlags"),
		b(&rt.eventRecord, "EventRecord"),
		b(&rt.eventSynchronize, "EventSynchronize"),
		b(&rt.eventElapsedTime, "EventElapsedTime"),
		b(&rt.eventDestroy, "EventDestroy"),
		b(&rt.hostRegister, "HostRegister"),
		b(&rt.hostUnregister, "HostUnregister"),
		{fn: &rt.hostAlloc, names: []string{rt.fl.hostAllocSym}},
		{fn: &rt.freeHost, names: []string{rt.fl.freeHostSym}},
		b(&rt.ipcGetMemHandle, "IpcGetMemHandle"),
		b(&rt.getErrorName, "GetErrorName"),
		b(&rt.getErrorString, "GetErrorString"),
		b(&rt.runtimeGetVersion, "RuntimeGetVersion"),
		b(&rt.driverGetVersion, "DriverGetVersion"),
		b(&rt.deviceSynchronize, "DeviceSynchronize"),
	}
	if rt.fl.kind == "hip" {
		list = append(list, b(&rt.deviceGetName, "DeviceGetName"), b(&rt.deviceTotalMem, "DeviceTotalMem"))
	} else {
		// CUDA 12 renamed the symbol behind the header's macro to _v2.
		list = append(list, binding{fn: &rt.getDeviceProperties,
			names: []string{"cudaGetDeviceProperties_v2", "cudaGetDeviceProperties"}})
	}
	return list
}

// loadRuntime loads fl's library, from explicit when it is set, and resolves
// every symbol. tried lists each name or path attempted.
func loadRuntime(fl *flavor, explicit string) (rt *runtimeAPI, tried []string, err error) {
	var candidates []string
	if explicit != "" {
		candidates = []string{explicit}
	} else {
		candidates = append(candidates, fl.libs...) // the dynamic loader's own search
		for _, dir := range fl.dirs() {
			for _, name := range fl.libs {
				candidates = append(candidates, filepath.Join(dir, name))
			}
		}
	}
	var errs []error
	for _, c := range candidates {
		tried = append(tried, c)
		h, err := purego.Dlopen(c, purego.RTLD_NOW|purego.RTLD_GLOBAL)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		rt := &runtimeAPI{fl: fl, path: c, handle: h}
		if err := rt.resolve(); err != nil {
			// A library that loads but lacks a symbol is an error, not a
			// reason to try the next name: it is the wrong library.
			return nil, tried, fmt.Errorf("%s: %s: %w", fl.kind, c, err)
		}
		return rt, tried, nil
	}
	return nil, tried, &libraryNotFound{kind: fl.kind, tried: tried, last: lastErr(errs)}
}

func lastErr(errs []error) error {
	if len(errs) == 0 {
		return errors.New("no candidates")
	}
	return errs[len(errs)-1]
}

// resolve looks every symbol up before registering it, so a missing one is
// an error naming it instead of a panic inside purego.
func (rt *runtimeAPI) resolve() error {
	var missing []string
	for _, b := range rt.bindings() {
		var addr uintptr
		for _, name := range b.names {
			if a, err := purego.Dlsym(rt.handle, name); err == nil && a != 0 {
				addr = a
				rt.symbols = append(rt.symbols, name)
				break
			}
		}
		if addr == 0 {
			missing = append(missing, strings.Join(b.names, " or "))
			continue
		}
		purego.RegisterFunc(b.fn, addr)
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: %s", ErrMissingSymbol, strings.Join(missing, ", "))
	}
	return nil
}

// check turns a status code into nil or a *RuntimeError naming the call.
func (rt *runtimeAPI) check(call string, code int32) error {
	if code == codeSuccess {
		return nil
	}
	return &RuntimeError{
		Backend: rt.fl.kind,
		Call:    rt.fl.prefix + call,
		Code:    int(code),
		Name:    rt.getErrorName(code),
		Message: rt.getErrorString(code),
	}
}

// versionString renders a runtime or driver version number.
func (rt *runtimeAPI) versionString(v int32) string {
	if v <= 0 {
		return ""
	}
	if rt.fl.kind == "cuda" { // 1000*major + 10*minor
		return fmt.Sprintf("%d.%d", v/1000, v%1000/10)
	}
	// HIP_VERSION: major*10000000 + minor*100000 + patch
	return fmt.Sprintf("%d.%d.%d", v/10000000, v/100000%100, v%100000)
}

// cString reads a NUL-terminated string out of buf.
func cString(buf []byte) string {
	if i := strings.IndexByte(string(buf), 0); i >= 0 {
		return string(buf[:i])
	}
	return string(buf)
}
