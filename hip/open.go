package hip

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/ebitengine/purego"
)

// Backend names Options.Backend accepts.
const (
	BackendAuto = "auto"
	BackendHIP  = "hip"
	BackendCUDA = "cuda"
	BackendHost = "host"
)

// Options chooses and configures a backend.
type Options struct {
	// Backend is "auto" (or empty: HIP, then CUDA, then host), "hip", "cuda"
	// or "host". A runtime named explicitly that cannot be used is an error.
	Backend string
	// Device is the device index within the runtime.
	Device int
	// RuntimeLib loads the runtime from this path instead of searching.
	RuntimeLib string
	// HostCapacity is the host backend's capacity (0: the memory available,
	// AvailableHostMemory).
	HostCapacity uint64
	// Upload tunes the GPU upload path (zero: the measured defaults).
	Upload UploadConfig
}

// Report says which backend Open chose and why the others were not used.
type Report struct {
	Chosen   string    `json:"chosen"` // e.g. "cuda:0"
	Attempts []Attempt `json:"attempts"`
}

// Attempt is one backend Open tried.
type Attempt struct {
	Backend        string       `json:"backend"`
	Library        string       `json:"library,omitempty"` // the library loaded
	Tried          []string     `json:"tried,omitempty"`   // names and paths tried
	Symbols        int          `json:"symbols,omitempty"` // symbols resolved
	RuntimeVersion string       `json:"runtime_version,omitempty"`
	DriverVersion  string       `json:"driver_version,omitempty"`
	Devices        []DeviceInfo `json:"devices,omitempty"`
	UploadPath     string       `json:"upload_path,omitempty"`
	// Skipped says why this backend was not chosen; empty for the chosen one.
	Skipped string `json:"skipped,omitempty"`
	// Err is the error behind Skipped, for errors.Is.
	Err error `json:"-"`
}

// Open opens the backend opts names. The Report is never nil, also on error.
func Open(opts Options) (Backend, *Report, error) {
	rep := &Report{}
	name := opts.Backend
	if name == "" {
		name = BackendAuto
	}
	var order []*flavor
	switch name {
	case BackendAuto:
		order = []*flavor{&hipFlavor, &cudaFlavor}
		if opts.RuntimeLib != "" {
			fl, err := flavorOfLibrary(opts.RuntimeLib)
			if err != nil {
				return nil, rep, err
			}
			order = []*flavor{fl}
		}
	case BackendHIP:
		order = []*flavor{&hipFlavor}
	case BackendCUDA:
		order = []*flavor{&cudaFlavor}
	case BackendHost:
	default:
		return nil, rep, fmt.Errorf("hip: unknown backend %q (want auto, hip, cuda or host)", name)
	}
	for _, fl := range order {
		g, att, err := openGPU(fl, opts)
		rep.Attempts = append(rep.Attempts, att)
		if err == nil {
			rep.Chosen = g.String()
			g.prepare()
			return g, rep, nil
		}
		if name != BackendAuto {
			return nil, rep, err
		}
	}
	if opts.Device != 0 {
		err := fmt.Errorf("host: device %d does not exist (the host backend has one device, 0): %w", opts.Device, ErrNoDevice)
		rep.Attempts = append(rep.Attempts, Attempt{Backend: BackendHost, Skipped: err.Error(), Err: err})
		return nil, rep, err
	}
	capacity, from := opts.HostCapacity, "host memory"
	if capacity == 0 {
		m := AvailableHostMemory()
		capacity, from = m.Bytes, "host memory, "+m.From
	}
	h := NewHost(HostOptions{Capacity: capacity})
	rep.Attempts = append(rep.Attempts, Attempt{Backend: BackendHost, UploadPath: PathHost,
		Devices: []DeviceInfo{{Name: from, TotalBytes: h.Capacity(), FreeBytes: h.Capacity()}}})
	rep.Chosen = h.String()
	return h, rep, nil
}

// openGPU loads fl's runtime and opens device opts.Device, recording in the
// attempt everything learnt on the way and why it failed.
func openGPU(fl *flavor, opts Options) (*GPU, Attempt, error) {
	att := Attempt{Backend: fl.kind}
	fail := func(err error) (*GPU, Attempt, error) {
		att.Err = err
		att.Skipped = err.Error()
		return nil, att, err
	}
	cfg, err := opts.Upload.withDefaults(fl.kind)
	if err != nil {
		return fail(err)
	}
	rt, tried, err := loadRuntime(fl, opts.RuntimeLib)
	att.Tried = tried
	if err != nil {
		return fail(err)
	}
	att.Library = rt.path
	att.Symbols = len(rt.symbols)
	var v int32
	if rt.runtimeGetVersion(&v) == codeSuccess {
		att.RuntimeVersion = rt.versionString(v)
	}
	if rt.driverGetVersion(&v) == codeSuccess {
		att.DriverVersion = rt.versionString(v)
	}
	var count int32
	if err := rt.check("GetDeviceCount", rt.getDeviceCount(&count)); err != nil {
		return fail(err)
	}
	if count == 0 {
		return fail(fmt.Errorf("%s: the runtime sees no GPU (%sGetDeviceCount: 0 devices): %w", fl.kind, fl.prefix, ErrNoDevice))
	}
	if opts.Device < 0 || opts.Device >= int(count) {
		return fail(fmt.Errorf("%s: device %d does not exist (%d devices): %w", fl.kind, opts.Device, count, ErrNoDevice))
	}
	g := &GPU{rt: rt, dev: int32(opts.Device), cfg: cfg}
	att.UploadPath = cfg.Path
	for d := int32(0); d < count; d++ {
		info, err := g.infoOf(d)
		if err != nil {
			return fail(fmt.Errorf("%s:%d: %w", fl.kind, d, err))
		}
		att.Devices = append(att.Devices, info)
	}
	g.info = att.Devices[opts.Device]
	return g, att, nil
}

// infoOf makes device d current on a pinned thread and describes it.
func (g *GPU) infoOf(d int32) (DeviceInfo, error) {
	other := &GPU{rt: g.rt, dev: d}
	unbind, err := other.bind()
	defer unbind()
	if err != nil {
		return DeviceInfo{}, err
	}
	return g.rt.deviceInfo(d)
}

// flavorOfLibrary decides whether path is a HIP or a CUDA runtime, by name
// or else by the symbols it exports.
func flavorOfLibrary(path string) (*flavor, error) {
	base := filepath.Base(path)
	switch {
	case strings.Contains(base, "amdhip"):
		return &hipFlavor, nil
	case strings.Contains(base, "cudart"):
		return &cudaFlavor, nil
	}
	h, err := purego.Dlopen(path, purego.RTLD_NOW|purego.RTLD_GLOBAL)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrLibraryNotFound, path, err)
	}
	for _, fl := range []*flavor{&hipFlavor, &cudaFlavor} {
		if _, err := purego.Dlsym(h, fl.prefix+"Malloc"); err == nil {
			return fl, nil
		}
	}
	return nil, fmt.Errorf("hip: %s exports neither hipMalloc nor cudaMalloc: %w", path, ErrMissingSymbol)
}
