package mount

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/ggufs/ggufs/hip"
	"github.com/ggufs/ggufs/share"
)

// ShareOptions configure the socket through which other processes map the
// mount's device memory (package share, docs/sharing.md).
type ShareOptions struct {
	// Off serves no socket and no ipc files.
	Off bool
	// Socket is the socket's path ("": share.DefaultSocketPath).
	Socket string
}

// startSharing listens on the sharing socket for the mount's cache. Only
// tensors that can be uploaded are offered.
func (m *Mount) startSharing(o Options) (*share.Server, error) {
	path := o.Share.Socket
	if path == "" {
		var err error
		if path, err = share.DefaultSocketPath(m.Dir, o.AllowOther); err != nil {
			return nil, err
		}
		if err := share.PrepareSocketDir(path, o.AllowOther); err != nil {
			return nil, err
		}
	}
	var tensors []share.TensorInfo
	for _, t := range m.Model.Tensors {
		if t.Uploadable() == nil {
			tensors = append(tensors, share.TensorInfo{Name: t.Name, Dtype: t.Type.String(), Shape: t.Dims})
		}
	}
	exporter, _ := m.Device.(hip.Exporter) // nil: holds are refused, saying why
	srv, err := share.Listen(share.Config{
		Cache:      m.Cache,
		Exporter:   exporter,
		DeviceOf:   func() share.Device { return deviceOf(m.Device) },
		Tensors:    tensors,
		SocketPath: path,
		Owner:      os.Getuid(),
		AllowOther: o.AllowOther,
		Logger:     m.logger(),
	})
	if err != nil {
		return nil, fmt.Errorf("sharing socket: %w", err)
	}
	return srv, nil
}

// deviceOf describes the backend's device for consumers.
func deviceOf(dev hip.Backend) share.Device {
	d := share.Device{Kind: dev.Kind(), Name: dev.String()}
	if g, ok := dev.(interface{ PCIBusID() string }); ok {
		d.PCIBusID = g.PCIBusID()
	}
	if _, idx, ok := strings.Cut(d.Name, ":"); ok {
		d.Index, _ = strconv.Atoi(idx)
	}
	return d
}
