package hip

import "fmt"

var _ Exporter = (*GPU)(nil)

// Export describes the allocation that starts at base as a legacy IPC handle
// (cudaIpcGetMemHandle / hipIpcGetMemHandle), which another process opens
// with cudaIpcOpenMemHandle / hipIpcOpenMemHandle. Only an allocation's
// start is accepted: HIP opens every handle at its allocation's base, so a
// handle of an inner address would give another process the wrong bytes.
func (g *GPU) Export(base DevicePtr) (Export, error) {
	g.mu.Lock()
	size, ok := g.table.sizes[base]
	closed := g.closed
	g.mu.Unlock()
	if closed {
		return Export{}, ErrClosed
	}
	if !ok {
		return Export{}, fmt.Errorf("%s: export of %#x: not the start of an allocation: %w", g, uintptr(base), ErrInvalidPointer)
	}
	h, err := g.IPCHandle(base)
	if err != nil {
		return Export{}, fmt.Errorf("%w: %w", err, ErrNotExportable)
	}
	mech := MechanismCUDAIPC
	if g.Kind() == "hip" {
		mech = MechanismHIPIPC
	}
	return Export{Mechanism: mech, Handle: h[:], Size: size}, nil
}

// PCIBusID is the device's PCI bus id ("0000:17:00.0"), by which a consumer
// with another device numbering finds it.
func (g *GPU) PCIBusID() string { return g.info.PCIBusID }
