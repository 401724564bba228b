package mount

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ggufs/ggufs/cache"
	"github.com/ggufs/ggufs/hip"
	"github.com/ggufs/ggufs/mount/ctl"
	"github.com/ggufs/ggufs/synth"
)

// gatedOpener opens a host device once its gate is opened; entered is
// closed when the open has begun, returned when it has ended.
type gatedOpener struct {
	gate, entered, returned chan struct{}
}

func newGatedOpener() *gatedOpener {
	return &gatedOpener{gate: make(chan struct{}), entered: make(chan struct{}), returned: make(chan struct{})}
}

func (g *gatedOpener) open(ctx context.Context, _ uint64) (hip.Backend, error) {
	defer close(g.returned)
	close(g.entered)
	select {
	case <-g.gate:
		return hip.NewHost(hip.HostOptions{Capacity: 1 << 30}), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// modelBytes is tensor name's bytes as the model file holds them.
func modelBytes(t *testing.T, m *Mount, name string) []byte {
	t.Helper()
	for _, ct := range cache.TensorsFromModel(m.Model) {
		if ct.Name == name {
			src, err := ct.Source()
			if err != nil {
				t.Fatal(err)
			}
			return bytes.Clone(src.Bytes())
		}
	}
	t.Fatalf("no tensor %q", name)
	return nil
}

// While the device is still opening the tree serves its listing, xattrs
// and metadata, and names the device "starting"; a data read waits for the
// device and then returns the tensor's bytes.
func TestMountServesWhileTheDeviceOpens(t *testing.T) {
	g := newGatedOpener()
	var log lockedBuffer
	m := testOpen(t, synth.Options{Preset: "tiny", Seed: 3}, Options{OpenDevice: g.open, Log: &log})
	<-g.entered
	name := m.Model.Tensors[0].Name

	entries, err := os.ReadDir(filepath.Join(m.Dir, ctl.TensorsDir))
	if err != nil || len(entries) != len(m.Model.Tensors) {
		t.Fatalf("listing while the device opens: %d entries, %v; want %d", len(entries), err, len(m.Model.Tensors))
	}
	c, err := ctl.Dial(m.Dir)
	if err != nil {
		t.Fatal(err)
	}
	ts, err := c.Tensor(name)
	if err != nil || ts.Device != deviceStarting || ts.Status != "unloaded" {
		t.Errorf("xattrs while the device opens: %+v, %v; want device starting, unloaded", ts, err)
	}
	if s, err := c.Stats(); err != nil || s.Device != deviceStarting {
		t.Errorf("stats.json device %q, %v; want starting", s.Device, err)
	}
	if b, err := os.ReadFile(filepath.Join(m.Dir, "metadata.json")); err != nil || len(b) == 0 {
		t.Errorf("metadata.json while the device opens: %d bytes, %v", len(b), err)
	}
	if !strings.Contains(m.Summary(), "device starting") {
		t.Errorf("summary %q does not say the device is starting", m.Summary())
	}

	type result struct {
		b   []byte
		err error
	}
	read := make(chan result, 1)
	go func() { // ends when the read does, after the gate opens
		b, err := os.ReadFile(filepath.Join(m.Dir, ctl.TensorsDir, name, "data"))
		read <- result{b, err}
	}()
	for m.starting.waiting.Load() == 0 { // the read reaches the device
		select {
		case r := <-read:
			t.Fatalf("data read ended before the device opened: %d bytes, %v", len(r.b), r.err)
		case <-time.After(time.Millisecond):
		}
	}
	close(g.gate)
	r := <-read
	if r.err != nil || !bytes.Equal(r.b, modelBytes(t, m, name)) {
		t.Fatalf("data read after the device opened: %d bytes, %v; want the tensor's %d bytes", len(r.b), r.err, m.Model.Tensors[0].Size)
	}
	if s, err := c.Stats(); err != nil || s.Device != "host" {
		t.Errorf("stats.json device %q, %v after the open; want host", s.Device, err)
	}
	if !strings.Contains(log.String(), "device host open") {
		t.Errorf("log %q does not say which device opened", log.String())
	}
}

// String is everything written so far.
func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// A device that fails to open fails data reads with EIO and names its
// error in user.ggufs.device and stats.json; the rest of the tree serves
// and the mount unmounts cleanly.
func TestDeviceThatFailsToOpen(t *testing.T) {
	const why = "cuda: libcudart.so.12: cannot open shared object file"
	var log lockedBuffer
	m := testOpen(t, synth.Options{Preset: "tiny", Seed: 4}, Options{Log: &log,
		OpenDevice: func(context.Context, uint64) (hip.Backend, error) { return nil, errors.New(why) }})
	if _, err := m.DeviceReady(context.Background()); err == nil || !strings.Contains(err.Error(), why) {
		t.Fatalf("DeviceReady: %v, want the open's error", err)
	}
	name := m.Model.Tensors[0].Name
	if _, err := os.ReadFile(filepath.Join(m.Dir, ctl.TensorsDir, name, "data")); !errors.Is(err, syscall.EIO) {
		t.Errorf("data read: %v, want EIO", err)
	}
	c, err := ctl.Dial(m.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if ts, err := c.Tensor(name); err != nil || !strings.Contains(ts.Device, why) {
		t.Errorf("user.ggufs.device = %q, %v; want it to name %q", ts.Device, err, why)
	}
	if s, err := c.Stats(); err != nil || !strings.Contains(s.Device, why) {
		t.Errorf("stats.json device = %q, %v; want it to name %q", s.Device, err, why)
	}
	if !strings.Contains(log.String(), why) {
		t.Errorf("log %q does not name the open's error", log.String())
	}
	if err := m.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if _, ok, _ := Find(m.Dir); ok {
		t.Errorf("%s still mounted after Close", m.Dir)
	}
}

// Close while the device is still opening cancels the open, waits for it
// and unmounts.
func TestCloseWhileTheDeviceOpens(t *testing.T) {
	g := newGatedOpener()
	m := testOpen(t, synth.Options{Preset: "tiny"}, Options{OpenDevice: g.open})
	<-g.entered
	if err := m.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	select {
	case <-g.returned:
	default:
		t.Error("the device open goes on after Close")
	}
	if _, ok, _ := Find(m.Dir); ok {
		t.Errorf("%s still mounted after Close", m.Dir)
	}
}
