package hip

import (
	"errors"
	"strings"
	"testing"
)

// A driver older than the runtime leaves no usable device: Open's callers
// treat it like no GPU at all (fall back, or say so), for HIP and CUDA alike.
func TestInsufficientDriverIsNoDevice(t *testing.T) {
	for _, e := range []*RuntimeError{
		{Backend: "hip", Call: "hipGetDeviceCount", Code: codeInsufficientDrv, Name: "hipErrorInsufficientDriver"},
		{Backend: "cuda", Call: "cudaGetDeviceCount", Code: codeInsufficientDrv, Name: "cudaErrorInsufficientDriver"},
	} {
		err := error(e)
		if !errors.Is(err, ErrNoDevice) {
			t.Errorf("%v: Is(ErrNoDevice) must hold", err)
		}
		if errors.Is(err, ErrOutOfMemory) || errors.Is(err, ErrInvalidValue) {
			t.Errorf("%v: matches a sentinel of another code", err)
		}
		if !strings.Contains(err.Error(), "driver is older than this runtime") || !strings.HasPrefix(err.Error(), e.Backend+": ") {
			t.Errorf("Error() = %q; want the backend and the driver named", err)
		}
	}
	if codeInsufficientDrv != 35 {
		t.Errorf("insufficient driver is code %d in both runtimes' headers, not 35", codeInsufficientDrv)
	}
}

// Codes next to the no-device ones are not no device.
func TestOtherCodesAreNotNoDevice(t *testing.T) {
	for _, code := range []int{codeInvalidDevice, codeNotReady, 34, 36, 99, 700} {
		if err := error(&RuntimeError{Backend: "cuda", Call: "cudaFree", Code: code}); errors.Is(err, ErrNoDevice) {
			t.Errorf("code %d matches ErrNoDevice", code)
		}
	}
}
