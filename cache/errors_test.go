package cache

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/ggufs/ggufs/gguf"
	"github.com/ggufs/ggufs/hip"
)

// failingDevice is a host backend whose calls fail with the errors set.
type failingDevice struct {
	*hip.Host
	malloc, upload, download, free error
}

func (d *failingDevice) Free(p hip.DevicePtr) error {
	if d.free != nil {
		return d.free
	}
	return d.Host.Free(p)
}

func (d *failingDevice) Malloc(size uint64) (hip.DevicePtr, error) {
	if d.malloc != nil {
		return 0, d.malloc
	}
	return d.Host.Malloc(size)
}

func (d *failingDevice) Upload(ctx context.Context, copies []hip.Copy) error {
	if d.upload != nil {
		return d.upload
	}
	return d.Host.Upload(ctx, copies)
}

func (d *failingDevice) Download(dst []byte, src hip.DevicePtr) error {
	if d.download != nil {
		return d.download
	}
	return d.Host.Download(dst, src)
}

// runtimeErr is what a GPU runtime returns for a call that failed.
func runtimeErr(code int, name string) error {
	return &hip.RuntimeError{Backend: "cuda", Call: "cudaMemcpyAsync", Code: code, Name: name}
}

// TestDeviceErrorsAreTheCachesOwn: what the device returns reaches the caller
// as ErrNoSpace, ErrDevice or ErrSourceFault, with the device's own error
// still in the chain, and Status says the same.
func TestDeviceErrorsAreTheCachesOwn(t *testing.T) {
	oom := runtimeErr(2, "cudaErrorMemoryAllocation")
	illegal := runtimeErr(700, "cudaErrorIllegalAddress")
	for _, tc := range []struct {
		name   string
		dev    failingDevice
		source error // returned by the tensor's Source
		want   error
		orig   error
		not    []error
	}{
		{name: "upload runtime error", dev: failingDevice{upload: illegal}, want: ErrDevice, orig: illegal, not: []error{ErrNoSpace, ErrSourceFault}},
		{name: "upload source fault", dev: failingDevice{upload: fmt.Errorf("copy: %w", hip.ErrSourceFault)}, want: ErrSourceFault, orig: hip.ErrSourceFault, not: []error{ErrDevice, ErrNoSpace}},
		{name: "upload out of memory", dev: failingDevice{upload: oom}, want: ErrNoSpace, orig: hip.ErrOutOfMemory, not: []error{ErrDevice}},
		{name: "malloc runtime error", dev: failingDevice{malloc: illegal}, want: ErrDevice, orig: illegal, not: []error{ErrNoSpace}},
		{name: "malloc out of memory", dev: failingDevice{malloc: oom}, want: ErrNoSpace, orig: hip.ErrOutOfMemory, not: []error{ErrDevice}},
		{name: "file truncated", source: fmt.Errorf("tensor: %w", gguf.ErrTruncated), want: ErrSourceFault, orig: gguf.ErrTruncated, not: []error{ErrDevice}},
		{name: "file changed", source: fmt.Errorf("shard: %w", gguf.ErrChanged), want: ErrSourceFault, orig: gguf.ErrChanged, not: []error{ErrDevice}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newTestModel(41, 5000)
			if tc.source != nil {
				m.tensors[0].Source = failingSource(tc.source)
			}
			dev := tc.dev
			dev.Host = newHost(t, 1<<20)
			c := newTestCache(t, &dev, m, Options{Budget: 1 << 20})
			_, err := c.Get(context.Background(), m.name(0))
			check := func(what string, err error) {
				t.Helper()
				if !errors.Is(err, tc.want) || !errors.Is(err, tc.orig) {
					t.Fatalf("%s = %v; want %v wrapping %v", what, err, tc.want, tc.orig)
				}
				for _, no := range tc.not {
					if errors.Is(err, no) {
						t.Fatalf("%s = %v; also matches %v", what, err, no)
					}
				}
			}
			check("Get", err)
			check("Status.LastErr", c.Status(m.name(0)).LastErr)
		})
	}
}

func TestDownloadErrorIsErrDevice(t *testing.T) {
	m := newTestModel(42, 5000)
	dev := &failingDevice{Host: newHost(t, 1<<20)}
	c := newTestCache(t, dev, m, Options{Budget: 1 << 20})
	h, err := c.Get(context.Background(), m.name(0))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Release()
	dev.download = runtimeErr(700, "cudaErrorIllegalAddress")
	_, err = h.ReadAt(make([]byte, 10), 0)
	if !errors.Is(err, ErrDevice) || !errors.Is(err, dev.download) {
		t.Fatalf("ReadAt with a failing download = %v; want ErrDevice wrapping the device's error", err)
	}
}

func TestCancellationIsNotADeviceError(t *testing.T) {
	for _, err := range []error{context.Canceled, context.DeadlineExceeded, ErrClosed} {
		got := fromDevice(fmt.Errorf("upload: %w", err))
		if errors.Is(got, ErrDevice) || errors.Is(got, ErrNoSpace) || errors.Is(got, ErrSourceFault) || !errors.Is(got, err) {
			t.Errorf("fromDevice(%v) = %v; want it unchanged", err, got)
		}
	}
}

// Marking an error with the cache's kind adds nothing to its message: it
// names the tensor once and says the device's reason.
func TestDeviceErrorMessageSaysItOnce(t *testing.T) {
	m := newTestModel(43, 5000)
	dev := &failingDevice{Host: newHost(t, 1<<20), upload: runtimeErr(700, "cudaErrorIllegalAddress")}
	c := newTestCache(t, dev, m, Options{Budget: 1 << 20})
	_, err := c.Get(context.Background(), m.name(0))
	want := `cache: tensor "blk.0.weight": uploading to host: cuda: runtime call failed (cudaMemcpyAsync: cudaErrorIllegalAddress)`
	if err == nil || err.Error() != want {
		t.Fatalf("Get = %v; want %q", err, want)
	}
}
