package hip

import (
	"os"
	"path/filepath"
)

// flavor is what differs between the HIP and the CUDA runtime: the symbol
// prefix, a few names, the libraries to look for and the enum values that are
// not shared (TestHIPEnums checks HIP's against its headers).
type flavor struct {
	kind   string // "hip" or "cuda"
	prefix string // "hip" or "cuda"
	libs   []string
	dirs   func() []string // extra folders to look in, after the loader's own search

	hostAllocSym string // pinned host allocation
	freeHostSym  string
	// registerReadOnly is the host-register flag that pins read-only memory
	// (a PROT_READ file mapping); 0 where the runtime has none.
	registerReadOnly uint32
	// attrCCMajor and attrCCMinor are the compute capability attributes.
	attrCCMajor, attrCCMinor int32
}

// Enum values HIP and CUDA share (checked against HIP's headers by TestHIPEnums).
const (
	memcpyHostToDevice   = 1
	memcpyDeviceToHost   = 2
	streamNonBlocking    = 0x1
	eventDisableTiming   = 0x2
	hostAllocDefault     = 0x0
	hostRegisterDefault  = 0x0
	cudaRegisterReadOnly = 0x8 // cudaHostRegisterReadOnly (CUDA 11.1+)
	ipcHandleSize        = 64  // HIP_IPC_HANDLE_SIZE, CUDA_IPC_HANDLE_SIZE
)

// HIP attribute numbers (ROCm 5 onward; TestHIPEnums checks them).
const (
	hipAttrComputeCapabilityMajor = 23
	hipAttrComputeCapabilityMinor = 61
)

// CUDA attribute numbers (cudaDeviceAttr, stable since CUDA 5).
const (
	cudaAttrComputeCapabilityMajor = 75
	cudaAttrComputeCapabilityMinor = 76
)

var hipFlavor = flavor{
	kind:   "hip",
	prefix: "hip",
	libs:   []string{"libamdhip64.so.7", "libamdhip64.so.6", "libamdhip64.so.5", "libamdhip64.so"},
	dirs: func() []string {
		return existing(append([]string{os.Getenv("ROCM_PATH") + "/lib", "/opt/rocm/lib"},
			glob("/opt/rocm-*/lib")...))
	},
	hostAllocSym: "hipHostMalloc",
	freeHostSym:  "hipHostFree",
	// ROCm 5 gives 0x8 another meaning (hipExtHostRegisterCoarseGrained) and
	// ROCm 6 documents hipHostRegisterReadOnly as ignored on AMD: register
	// with the default flags there.
	registerReadOnly: hostRegisterDefault,
	attrCCMajor:      hipAttrComputeCapabilityMajor,
	attrCCMinor:      hipAttrComputeCapabilityMinor,
}

var cudaFlavor = flavor{
	kind:             "cuda",
	prefix:           "cuda",
	libs:             []string{"libcudart.so.13", "libcudart.so.12", "libcudart.so"},
	dirs:             cudaDirs,
	hostAllocSym:     "cudaHostAlloc",
	freeHostSym:      "cudaFreeHost",
	registerReadOnly: cudaRegisterReadOnly,
	attrCCMajor:      cudaAttrComputeCapabilityMajor,
	attrCCMinor:      cudaAttrComputeCapabilityMinor,
}

// cudaDirs lists where CUDA installs and NVIDIA's Python wheels put libcudart.
func cudaDirs() []string {
	var dirs []string
	for _, env := range []string{"CUDA_HOME", "CUDA_PATH"} {
		if v := os.Getenv(env); v != "" {
			dirs = append(dirs, filepath.Join(v, "lib64"), filepath.Join(v, "lib"))
		}
	}
	dirs = append(dirs, "/usr/local/cuda/lib64", "/usr/local/cuda/targets/x86_64-linux/lib",
		"/usr/local/cuda/targets/sbsa-linux/lib")
	dirs = append(dirs, glob("/usr/local/cuda-*/lib64")...)
	// NVIDIA's wheels: nvidia/cuda_runtime/lib (CUDA 12) and nvidia/cu13/lib (CUDA 13).
	var sitePackages []string
	if v := os.Getenv("VIRTUAL_ENV"); v != "" {
		sitePackages = append(sitePackages, glob(v+"/lib/python3*/site-packages")...)
	}
	for _, pat := range []string{
		"/usr/lib/python3*/site-packages", "/usr/lib/python3/dist-packages",
		"/usr/local/lib/python3*/site-packages", "/usr/local/lib/python3*/dist-packages",
		"/opt/*/lib/python3*/site-packages", "/opt/*/.venv/lib/python3*/site-packages",
		"/opt/conda/lib/python3*/site-packages",
	} {
		sitePackages = append(sitePackages, glob(pat)...)
	}
	if home, err := os.UserHomeDir(); err == nil {
		sitePackages = append(sitePackages, glob(home+"/.local/lib/python3*/site-packages")...)
	}
	for _, sp := range sitePackages {
		for _, sub := range []string{"nvidia/cu13/lib", "nvidia/cuda_runtime/lib", "nvidia/cu12/lib"} {
			dirs = append(dirs, filepath.Join(sp, sub))
		}
	}
	return existing(dirs)
}

func glob(pattern string) []string {
	m, _ := filepath.Glob(pattern) // only ErrBadPattern, impossible for our constants
	return m
}

func existing(dirs []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, d := range dirs {
		if d == "" || seen[d] {
			continue
		}
		seen[d] = true
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			out = append(out, d)
		}
	}
	return out
}
