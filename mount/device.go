package mount

import (
	"fmt"
	"io"
	"strings"

	"github.com/ggufs/ggufs/hip"
)

// DeviceOpener opens the device a mount's cache uploads to. modelBytes is
// the model's tensor data, for sizing a device emulated in host memory.
type DeviceOpener func(modelBytes uint64) (hip.Backend, error)

// OpenBackend opens the runtime o names (hip.Open), sizing the host backend
// for the model, and says on log which runtimes were skipped and why.
func OpenBackend(o hip.Options, size CacheSize, log io.Writer, debug bool) DeviceOpener {
	return func(modelBytes uint64) (hip.Backend, error) {
		o.HostCapacity = hostCapacity(size, modelBytes)
		dev, rep, err := hip.Open(o)
		reportBackends(log, rep, debug, dev)
		return dev, err
	}
}

// hostCapacity sizes the host backend, which emulates a device in RAM: the
// cache size when given in bytes, else large enough that the share of it the
// cache may take holds the whole model with room for arena tails (memory
// is only taken as tensors load), at least the default.
func hostCapacity(size CacheSize, modelBytes uint64) uint64 {
	if size.Bytes > 0 {
		return max(size.Bytes, hip.DefaultHostCapacity)
	}
	want := modelBytes + modelBytes/8
	if size.Fraction > 0 && size.Fraction < 1 {
		want = uint64(float64(want) / size.Fraction)
	}
	return max(want, hip.DefaultHostCapacity)
}

// reportBackends says which runtimes were skipped and why: every attempt with
// debug, otherwise one line when auto fell back to host memory.
func reportBackends(w io.Writer, rep *hip.Report, debug bool, chosen hip.Backend) {
	if rep == nil {
		return
	}
	var skipped []string
	for _, a := range rep.Attempts {
		if a.Skipped == "" {
			continue
		}
		skipped = append(skipped, a.Backend+": "+a.Skipped)
		if debug {
			fmt.Fprintf(w, "ggufs: backend %s skipped: %s\n", a.Backend, a.Skipped)
		}
	}
	if !debug && chosen != nil && chosen.Kind() == hip.BackendHost && len(skipped) > 0 {
		fmt.Fprintf(w, "ggufs: no GPU runtime (%s); serving from host memory\n", strings.Join(skipped, "; "))
	}
}
