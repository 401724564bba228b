package mount

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/ggufs/ggufs/hip"
)

// startingDevice stands for the mount's device while its runtime opens in
// the background (a GPU context takes 0.15-0.3 s), so that the tree is
// served from the moment the header is parsed. Every call that needs the
// device waits for the open, those with a context no longer than it lives;
// a failed open turns into that error on every such call, while names and
// statistics say "starting" or what went wrong without waiting. Safe for
// concurrent use.
type startingDevice struct {
	ready  chan struct{} // closed when the open has ended; dev, err, took are set before
	dev    hip.Backend   // nil when the open failed
	err    error
	took   time.Duration // how long the open took
	cancel context.CancelFunc
	// waiting counts the calls blocked on the open now (tests wait for
	// a read to be among them).
	waiting atomic.Int32
}

var (
	_ hip.Backend  = (*startingDevice)(nil)
	_ hip.Streamer = (*startingDevice)(nil)
	_ hip.Exporter = (*startingDevice)(nil)
)

// deviceStarting is the device's name until its runtime has opened.
const deviceStarting = "starting"

// startDevice opens the device in a goroutine that ends when open returns
// (Close cancels open's context and waits for it). opened, when set, is
// called from that goroutine with the outcome before any waiter sees it.
func startDevice(open DeviceOpener, modelBytes uint64, opened func(dev hip.Backend, took time.Duration, err error)) *startingDevice {
	ctx, cancel := context.WithCancel(context.Background())
	d := &startingDevice{ready: make(chan struct{}), cancel: cancel}
	go func() {
		defer close(d.ready)
		start := time.Now()
		dev, err := open(ctx, modelBytes)
		if err == nil && dev == nil {
			err = errors.New("the opener returned no device")
		}
		d.took = time.Since(start)
		if err != nil {
			if dev != nil {
				err = errors.Join(err, dev.Close())
			}
			d.err = fmt.Errorf("opening the device: %w", err)
		} else {
			d.dev = dev
		}
		if opened != nil {
			opened(d.dev, d.took, d.err)
		}
	}()
	return d
}

// Wait returns the open device once it is open, or why it is not.
func (d *startingDevice) Wait(ctx context.Context) (hip.Backend, error) {
	d.waiting.Add(1)
	defer d.waiting.Add(-1)
	select {
	case <-d.ready:
		return d.dev, d.err
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for the device to open: %w", context.Cause(ctx))
	}
}

// opened is the device if its open has ended (nil, false while starting).
func (d *startingDevice) opened() (dev hip.Backend, err error, done bool) {
	select {
	case <-d.ready:
		return d.dev, d.err, true
	default:
		return nil, nil, false
	}
}

// device waits for the open without a context: calls without one are short
// once the device is open, and Close ends any open that is pending.
func (d *startingDevice) device() (hip.Backend, error) {
	d.waiting.Add(1)
	defer d.waiting.Add(-1)
	<-d.ready
	return d.dev, d.err
}

// Kind is the runtime's kind once open, "starting" before, "" after a
// failed open.
func (d *startingDevice) Kind() string {
	dev, _, done := d.opened()
	switch {
	case !done:
		return deviceStarting
	case dev == nil:
		return ""
	}
	return dev.Kind()
}

// String names the device once open, says "starting" before and names the
// error after a failed open.
func (d *startingDevice) String() string {
	dev, err, done := d.opened()
	switch {
	case !done:
		return deviceStarting
	case dev == nil:
		return fmt.Sprintf("unavailable (%v)", err)
	}
	return dev.String()
}

// PCIBusID is the open device's bus address, "" when it has none or is not
// open.
func (d *startingDevice) PCIBusID() string {
	dev, _, _ := d.opened()
	if g, ok := dev.(interface{ PCIBusID() string }); ok {
		return g.PCIBusID()
	}
	return ""
}

func (d *startingDevice) Malloc(size uint64) (hip.DevicePtr, error) {
	dev, err := d.device()
	if err != nil {
		return 0, err
	}
	return dev.Malloc(size)
}

func (d *startingDevice) Free(p hip.DevicePtr) error {
	dev, err := d.device()
	if err != nil {
		return err
	}
	return dev.Free(p)
}

func (d *startingDevice) Upload(ctx context.Context, copies []hip.Copy) error {
	dev, err := d.Wait(ctx)
	if err != nil {
		return err
	}
	return dev.Upload(ctx, copies)
}

// UploadStream streams through the device's pipeline, or uploads one copy
// at a time on a device without one.
func (d *startingDevice) UploadStream(ctx context.Context, next func() (hip.Pending, bool)) error {
	dev, err := d.Wait(ctx)
	if err != nil {
		return err
	}
	if s, ok := dev.(hip.Streamer); ok {
		return s.UploadStream(ctx, next)
	}
	for {
		p, ok := next()
		if !ok {
			return nil
		}
		err := dev.Upload(ctx, []hip.Copy{p.Copy})
		if p.Landed != nil {
			p.Landed(err)
		}
		if err != nil {
			return err
		}
	}
}

func (d *startingDevice) Download(dst []byte, src hip.DevicePtr) error {
	dev, err := d.device()
	if err != nil {
		return err
	}
	return dev.Download(dst, src)
}

func (d *startingDevice) MemInfo() (free, total uint64, err error) {
	dev, err := d.device()
	if err != nil {
		return 0, 0, err
	}
	return dev.MemInfo()
}

func (d *startingDevice) Export(base hip.DevicePtr) (hip.Export, error) {
	dev, err := d.device()
	if err != nil {
		return hip.Export{}, err
	}
	ex, ok := dev.(hip.Exporter)
	if !ok {
		return hip.Export{}, fmt.Errorf("device %s cannot share its memory with other processes", dev)
	}
	return ex.Export(base)
}

// Stats are the open device's; zero while starting or after a failed open.
func (d *startingDevice) Stats() hip.Stats {
	if dev, _, _ := d.opened(); dev != nil {
		return dev.Stats()
	}
	return hip.Stats{}
}

// Close ends an open still pending (cancelling its context), waits for it,
// and closes the device if it opened. A failed open is not Close's error:
// the calls that needed the device reported it.
func (d *startingDevice) Close() error {
	d.cancel()
	dev, _ := d.device()
	if dev == nil {
		return nil
	}
	return dev.Close()
}
