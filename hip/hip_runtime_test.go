package hip

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// requireHIP is set by CI after installing Debian's libamdhip64-5 and
// libamdhip64-dev: then the HIP tests must run, not skip.
func requireHIP(t *testing.T) bool {
	t.Helper()
	return os.Getenv("GGUFS_REQUIRE_HIP") == "1"
}

// TestHIPRuntimeLoads loads a real HIP runtime (on CI, one without a GPU):
// every symbol resolves, and auto falls back past HIP naming the reason.
func TestHIPRuntimeLoads(t *testing.T) {
	rt, tried, err := loadRuntime(&hipFlavor, "")
	if err != nil {
		if requireHIP(t) || !errors.Is(err, ErrLibraryNotFound) {
			t.Fatalf("loading libamdhip64 (tried %v): %v", tried, err)
		}
		t.Skipf("no HIP runtime here: %v", err)
	}
	if want := len(rt.bindings()); len(rt.symbols) != want {
		t.Fatalf("resolved %d symbols, want %d", len(rt.symbols), want)
	}
	var count int32
	countErr := rt.check("GetDeviceCount", rt.getDeviceCount(&count))
	if countErr == nil && count > 0 {
		t.Skipf("a HIP device is present (%d): the fallback cannot be tested here", count)
	}

	b, rep, err := Open(Options{Backend: BackendAuto})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if len(rep.Attempts) < 2 || rep.Attempts[0].Backend != BackendHIP {
		t.Fatalf("report: %+v", rep)
	}
	hipAtt := rep.Attempts[0]
	if hipAtt.Library == "" || hipAtt.Symbols != len(rt.symbols) {
		t.Errorf("HIP attempt did not record the loaded library: %+v", hipAtt)
	}
	if !errors.Is(hipAtt.Err, ErrNoDevice) {
		t.Errorf("HIP skipped for %v, want an error matching ErrNoDevice", hipAtt.Err)
	}
	var re *RuntimeError
	if !errors.As(hipAtt.Err, &re) || re.Name != "hipErrorNoDevice" || re.Call != "hipGetDeviceCount" {
		t.Errorf("HIP skipped for %v, want hipGetDeviceCount: hipErrorNoDevice", hipAtt.Err)
	}
	if !strings.Contains(hipAtt.Skipped, "hipErrorNoDevice") {
		t.Errorf("reason %q does not name hipErrorNoDevice", hipAtt.Skipped)
	}
	if b.Kind() == BackendHIP {
		t.Fatalf("auto chose HIP without a device")
	}

	// Naming HIP explicitly is an error, never a fallback.
	if b, _, err := Open(Options{Backend: BackendHIP}); err == nil || !errors.Is(err, ErrNoDevice) {
		if b != nil {
			b.Close()
		}
		t.Fatalf("Open(hip) without a device: %v, want ErrNoDevice", err)
	}
}

// TestHIPEnums checks every enum value the binding relies on against the
// headers Debian's libamdhip64-dev installs.
func TestHIPEnums(t *testing.T) {
	dir := "/usr/include/hip"
	if _, err := os.Stat(filepath.Join(dir, "hip_runtime_api.h")); err != nil {
		if requireHIP(t) {
			t.Fatalf("HIP headers missing: %v", err)
		}
		t.Skip("no HIP headers here")
	}
	h := parseHIPHeaders(t, dir)
	want := map[string]int64{
		"hipSuccess":                               codeSuccess,
		"hipErrorInvalidValue":                     codeInvalidValue,
		"hipErrorOutOfMemory":                      codeOutOfMemory,
		"hipErrorInsufficientDriver":               codeInsufficientDrv,
		"hipErrorNoDevice":                         codeNoDevice,
		"hipErrorInvalidDevice":                    codeInvalidDevice,
		"hipErrorNotReady":                         codeNotReady,
		"hipErrorHostMemoryAlreadyRegistered":      codeHostAlreadyRegist,
		"hipMemcpyHostToDevice":                    memcpyHostToDevice,
		"hipMemcpyDeviceToHost":                    memcpyDeviceToHost,
		"hipStreamNonBlocking":                     streamNonBlocking,
		"hipEventDisableTiming":                    eventDisableTiming,
		"hipEventBlockingSync":                     eventBlockingSync,
		"hipHostMallocDefault":                     hostAllocDefault,
		"hipHostRegisterDefault":                   hostRegisterDefault,
		"HIP_IPC_HANDLE_SIZE":                      ipcHandleSize,
		"hipDeviceAttributeComputeCapabilityMajor": hipAttrComputeCapabilityMajor,
		"hipDeviceAttributeComputeCapabilityMinor": hipAttrComputeCapabilityMinor,
	}
	for name, v := range want {
		got, ok := h[name]
		if !ok {
			t.Errorf("%s not found in %s", name, dir)
			continue
		}
		if got != v {
			t.Errorf("%s = %d in the headers, the binding uses %d", name, got, v)
		}
	}
	// The binding registers with hipHostRegisterDefault on HIP; where the
	// headers define a read-only flag it must be CUDA's value, as documented.
	if v, ok := h["hipHostRegisterReadOnly"]; ok && v != cudaRegisterReadOnly {
		t.Errorf("hipHostRegisterReadOnly = %d, want %d", v, cudaRegisterReadOnly)
	}
	if hipFlavor.registerReadOnly != hostRegisterDefault {
		t.Errorf("HIP registers with flags %#x, want hipHostRegisterDefault", hipFlavor.registerReadOnly)
	}
}

var (
	defineRe  = regexp.MustCompile(`(?m)^\s*#define\s+(\w+)\s+\(?\s*(0x[0-9a-fA-F]+|\d+)[uU]?\s*\)?\s*(?:$|//|/\*)`)
	commentRe = regexp.MustCompile(`(?s)/\*.*?\*/|//[^\n]*`)
	enumRe    = regexp.MustCompile(`(?s)enum\b[^{;()]*\{(.*?)\}`)
)

// parseHIPHeaders collects #define constants and enum values (implicit
// numbering included) from every header in dir.
func parseHIPHeaders(t *testing.T, dir string) map[string]int64 {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.h"))
	vals := map[string]int64{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range defineRe.FindAllStringSubmatch(string(b), -1) {
			if v, err := strconv.ParseInt(m[2], 0, 64); err == nil {
				vals[m[1]] = v
			}
		}
		src := commentRe.ReplaceAllString(string(b), "")
		for _, m := range enumRe.FindAllStringSubmatch(src, -1) {
			next := int64(0)
			for _, item := range strings.Split(m[1], ",") {
				item = strings.TrimSpace(item)
				if item == "" || strings.HasPrefix(item, "#") {
					continue
				}
				name, expr, hasValue := strings.Cut(item, "=")
				name = strings.TrimSpace(name)
				if hasValue {
					expr = strings.TrimSpace(expr)
					if v, ok := vals[expr]; ok {
						next = v
					} else if v, err := strconv.ParseInt(expr, 0, 64); err == nil {
						next = v
					} else {
						continue // an expression we do not evaluate; not one we rely on
					}
				}
				if _, seen := vals[name]; !seen {
					vals[name] = next
				}
				next++
			}
		}
	}
	return vals
}
