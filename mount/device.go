package mount

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/ggufs/ggufs/hip"
)

// DeviceOpener opens the device a mount's cache uploads to. modelBytes is
// the model's tensor data, for sizing a device emulated in host memory. It
// runs in the background while the mount serves; ctx ends when the mount
// closes first (an opener that cannot stop midway may ignore it).
type DeviceOpener func(ctx context.Context, modelBytes uint64) (hip.Backend, error)

// OpenBackend opens the runtime o names (hip.Open), sizing the host backend
// for the model, and says on log which runtimes were skipped and why.
func OpenBackend(o hip.Options, size CacheSize, log io.Writer, debug bool) DeviceOpener {
	return func(_ context.Context, modelBytes uint64) (hip.Backend, error) {
		o.HostCapacity = hostCapacity(size, modelBytes)
		dev, rep, err := hip.Open(o)
		reportBackends(log, rep, debug, dev)
		return dev, err
	}
}

// hostCapacity sizes the host backend, which emulates a device in RAM: the
// cache size when given in bytes, else 0, which hip.Open turns into the memory
// actually available (MemAvailable, cgroup limits), the figure `ggufs devices`
// reports; a --cache-size percentage is a share of that. A model larger than
// it is served with eviction, never promised memory the machine lacks.
func hostCapacity(size CacheSize, modelBytes uint64) uint64 {
	return size.Bytes
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
		why := a.Skipped
		if !strings.HasPrefix(why, a.Backend+":") {
			why = a.Backend + ": " + why // the error does not name its backend
		}
		skipped = append(skipped, why)
		if debug {
			fmt.Fprintf(w, "ggufs: backend %s skipped: %s\n", a.Backend, a.Skipped)
		}
	}
	if !debug && chosen != nil && chosen.Kind() == hip.BackendHost && len(skipped) > 0 {
		fmt.Fprintf(w, "ggufs: no GPU runtime (%s); serving from host memory\n", strings.Join(skipped, "; "))
	}
}
