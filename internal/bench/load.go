package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/ggufs/ggufs/cache"
	"github.com/ggufs/ggufs/gguf"
	"github.com/ggufs/ggufs/hip"
	"github.com/ggufs/ggufs/internal/units"
)

// LoadOptions are bench load's settings.
type LoadOptions struct {
	File    string // the model
	Backend hip.Options
	Cache   cache.Options
	Reps    int // timed loads, each from a fresh mapping into a fresh cache
	Verify  int // tensors downloaded and compared after each load
	JSON    bool
}

// Load times the cache's LoadAll of a model against one pinned copy and one
// Upload call of every tensor, writing the results to w.
func Load(ctx context.Context, w io.Writer, o LoadOptions) error {
	b := &LoadReport{File: o.File, opts: o.Cache, reps: o.Reps, check: o.Verify}
	hipOpts := o.Backend
	m, err := gguf.OpenModel(b.File)
	if err != nil {
		return fmt.Errorf("bench load: %w", err)
	}
	var paths []string
	for _, t := range m.Tensors {
		if t.Uploadable() == nil {
			b.names = append(b.names, t.Name)
			b.sizes = append(b.sizes, t.Size)
			b.Bytes += t.Size
		}
	}
	for _, s := range m.Shards {
		paths = append(paths, s.Path)
	}
	m.Close()
	b.Tensors = len(b.names)
	if b.Bytes == 0 {
		return fmt.Errorf("bench load: %s has no tensor data to load", b.File)
	}

	// The host backend emulates device memory in RAM, taken only as it is
	// written: room for the cache (the model and its arenas' unused tails),
	// beside the baselines' buffers.
	hipOpts.HostCapacity = max(b.opts.Budget, b.Bytes+b.Bytes/4) + max(b.Bytes+b.Bytes/4, pinnedBaselineMax)
	be, rep, err := hip.Open(hipOpts)
	if err != nil {
		return fmt.Errorf("bench load: %w", err)
	}
	defer be.Close()
	b.Backend = rep.Chosen

	start := time.Now()
	for _, p := range paths {
		if err := warmFile(p); err != nil {
			return fmt.Errorf("bench load: warming the page cache: %w", err)
		}
	}
	b.WarmSecs = time.Since(start).Seconds()

	if err := b.timePinned(be); err != nil {
		return fmt.Errorf("bench load: pinned baseline: %w", err)
	}
	// The first Upload creates the backend's streams and staging buffers;
	// do it untimed so neither measure below pays for it.
	if _, err := b.timeUpload(ctx, be); err != nil {
		return fmt.Errorf("bench load: warming the upload path: %w", err)
	}
	// Interleave the two measures, so drift (clocks, other load) hits both.
	for range b.reps {
		rate, err := b.timeUpload(ctx, be)
		if err != nil {
			return fmt.Errorf("bench load: one Upload of every tensor: %w", err)
		}
		b.UploadGBps = max(b.UploadGBps, rate)
		run, err := b.timeLoad(ctx, be)
		if err != nil {
			return fmt.Errorf("bench load: %w", err)
		}
		b.Loads = append(b.Loads, run)
	}
	b.summarize()
	if o.JSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(b)
	}
	b.print(w)
	return nil
}

// pinnedBaselineMax bounds the pinned host buffer of the baseline copy: big
// enough for a steady rate (tens of milliseconds at PCIe 5 speed), small
// enough not to lock much RAM.
const pinnedBaselineMax = 2 << 30

// LoadReport is one run's results (and its settings).
type LoadReport struct {
	File       string  `json:"file"`
	Backend    string  `json:"backend"`
	Tensors    int     `json:"tensors"`
	Bytes      uint64  `json:"bytes"`
	WarmSecs   float64 `json:"page_cache_warm_seconds"`
	PinnedSize uint64  `json:"pinned_bytes"`
	PinnedGBps float64 `json:"pinned_gbps"` // 0: the backend has no pinned copy
	// UploadGBps is the best rate of one Upload call of all the tensors
	// into one allocation: the hip layer's own rate, which LoadAll can at
	// best match.
	UploadGBps float64   `json:"upload_gbps"`
	Loads      []LoadRun `json:"loads"`
	FirstGBps  float64   `json:"first_gbps"`
	BestGBps   float64   `json:"best_gbps"`
	FirstRatio float64   `json:"first_ratio_to_pinned,omitempty"`
	BestRatio  float64   `json:"best_ratio_to_pinned,omitempty"`
	// BestToUpload is LoadAll's best rate over UploadGBps.
	BestToUpload float64 `json:"best_ratio_to_upload,omitempty"`

	opts  cache.Options
	names []string // uploadable tensors, file order
	sizes []uint64 // their sizes
	reps  int
	check int
}

// LoadRun is one timed LoadAll.
type LoadRun struct {
	Seconds         float64           `json:"seconds"`
	GBps            float64           `json:"gbps"`
	Allocations     int64             `json:"device_allocations"`
	DeviceBytes     uint64            `json:"device_bytes"`
	PathBytes       map[string]uint64 `json:"path_bytes,omitempty"`
	VerifiedTensors int               `json:"verified_tensors"`
	VerifiedBytes   uint64            `json:"verified_bytes"`
	Cache           cache.Stats       `json:"cache"`
}

// timePinned times one direct copy from a pinned host buffer holding the
// model's first bytes: the rate no upload path can beat.
func (b *LoadReport) timePinned(be hip.Backend) error {
	p, ok := be.(hip.Pinner)
	if !ok {
		return nil // reported as "n/a"
	}
	n := min(b.Bytes, pinnedBaselineMax)
	buf, err := p.AllocPinned(n)
	if err != nil {
		return err
	}
	defer p.FreePinned(buf)
	if err := b.fillFromModel(buf); err != nil {
		return err
	}
	dst, err := be.Malloc(n)
	if err != nil {
		return err
	}
	defer be.Free(dst)
	// One warm-up copy, then the best of reps (at least 3: it is short).
	for i := range max(b.reps, 3) + 1 {
		start := time.Now()
		if err := p.CopyDirect(dst, buf); err != nil {
			return err
		}
		if i > 0 {
			b.PinnedGBps = max(b.PinnedGBps, gbps(n, time.Since(start)))
		}
	}
	b.PinnedSize = n
	return nil
}

// fillFromModel copies the model's tensor bytes, in file order, into buf.
func (b *LoadReport) fillFromModel(buf []byte) error {
	m, err := gguf.OpenModel(b.File)
	if err != nil {
		return err
	}
	defer m.Close()
	at := 0
	for _, name := range b.names {
		t, _ := m.Tensor(name)
		src, err := m.TensorBytes(t)
		if err != nil {
			return err
		}
		at += copy(buf[at:], src)
		if at == len(buf) {
			break
		}
	}
	return nil
}

// timeUpload opens the model afresh and times one Upload call copying every
// tensor into one device allocation, without the cache.
func (b *LoadReport) timeUpload(ctx context.Context, be hip.Backend) (float64, error) {
	m, err := gguf.OpenModel(b.File)
	if err != nil {
		return 0, err
	}
	defer m.Close()
	copies := make([]hip.Copy, 0, len(b.names))
	var at uint64
	for _, name := range b.names {
		t, _ := m.Tensor(name)
		src, err := cache.SourceOf(m, t) // as the cache hands them over
		if err != nil {
			return 0, err
		}
		copies = append(copies, hip.Copy{Dst: hip.DevicePtr(at), Src: src})
		at = (at + uint64(src.Len()) + 255) &^ 255 // as the cache aligns its blocks
	}
	dst, err := be.Malloc(at)
	if err != nil {
		return 0, err
	}
	defer be.Free(dst)
	for i := range copies {
		copies[i].Dst += dst
	}
	start := time.Now()
	if err := be.Upload(ctx, copies); err != nil {
		return 0, err
	}
	return gbps(b.Bytes, time.Since(start)), nil
}

// timeLoad opens the model afresh, makes a new cache on be and times LoadAll
// of every tensor, then checks a sample by download.
func (b *LoadReport) timeLoad(ctx context.Context, be hip.Backend) (LoadRun, error) {
	var run LoadRun
	m, err := gguf.OpenModel(b.File)
	if err != nil {
		return run, err
	}
	defer m.Close()
	c, err := cache.New(be, cache.TensorsFromModel(m), b.opts)
	if err != nil {
		return run, err
	}
	defer c.Close()
	if c.Budget() < b.Bytes {
		return run, fmt.Errorf("the cache budget (%d bytes) is smaller than the model (%d bytes): use --cache-size", c.Budget(), b.Bytes)
	}
	before := be.Stats().PathBytes
	start := time.Now()
	if err := c.LoadAll(ctx, b.names, nil); err != nil {
		return run, err
	}
	took := time.Since(start)
	run.Seconds = took.Seconds()
	run.GBps = gbps(b.Bytes, took)
	run.PathBytes = diffPaths(be.Stats().PathBytes, before)
	run.Cache = c.Stats()
	run.Allocations = run.Cache.DeviceAllocationsTotal
	run.DeviceBytes = run.Cache.DeviceBytes
	run.VerifiedTensors, run.VerifiedBytes, err = b.verify(ctx, c, m)
	return run, err
}

// verify downloads a sample of tensors (the largest, the first, the last,
// and others spread through the file) and compares them with the file.
func (b *LoadReport) verify(ctx context.Context, c *cache.Cache, m *gguf.Model) (int, uint64, error) {
	if b.check == 0 {
		return 0, 0, nil
	}
	largest := 0
	for i, n := range b.sizes {
		if n > b.sizes[largest] {
			largest = i
		}
	}
	picks := map[int]bool{0: true, len(b.names) - 1: true, largest: true}
	for i := range b.check {
		picks[i*len(b.names)/b.check] = true
	}
	idx := make([]int, 0, len(picks))
	for i := range picks {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	var n int
	var bytesChecked uint64
	for _, i := range idx {
		t, _ := m.Tensor(b.names[i])
		want, err := m.TensorBytes(t)
		if err != nil {
			return n, bytesChecked, err
		}
		got := make([]byte, len(want))
		if _, err := c.ReadAt(ctx, t.Name, got, 0); err != nil && err != io.EOF {
			return n, bytesChecked, fmt.Errorf("downloading %s: %w", t.Name, err)
		}
		if !bytes.Equal(got, want) {
			return n, bytesChecked, fmt.Errorf("tensor %s: device bytes differ from the file", t.Name)
		}
		n++
		bytesChecked += t.Size
	}
	return n, bytesChecked, nil
}

func (b *LoadReport) summarize() {
	for i, r := range b.Loads {
		if i == 0 {
			b.FirstGBps = r.GBps
		}
		b.BestGBps = max(b.BestGBps, r.GBps)
	}
	if b.PinnedGBps > 0 {
		b.FirstRatio = b.FirstGBps / b.PinnedGBps
		b.BestRatio = b.BestGBps / b.PinnedGBps
	}
	if b.UploadGBps > 0 {
		b.BestToUpload = b.BestGBps / b.UploadGBps
	}
}

func (b *LoadReport) print(w io.Writer) {
	fmt.Fprintf(w, "backend %s\n", b.Backend)
	fmt.Fprintf(w, "model %s: %d tensors, %s; page cache warmed in %.2f s\n", b.File, b.Tensors, units.Text(b.Bytes), b.WarmSecs)
	if b.PinnedGBps > 0 {
		fmt.Fprintf(w, "pinned memcpy   %10s  %6.2f GB/s  (baseline)\n", units.Text(b.PinnedSize), b.PinnedGBps)
	} else {
		fmt.Fprintf(w, "pinned memcpy   n/a: backend %s has no pinned copy\n", b.Backend)
	}
	fmt.Fprintf(w, "one Upload call %10s  %6.2f GB/s  (every tensor into one allocation, no cache; best of %d)\n", units.Text(b.Bytes), b.UploadGBps, b.reps)
	for i, r := range b.Loads {
		ratio := "-"
		if b.PinnedGBps > 0 {
			ratio = fmt.Sprintf("%.2f", r.GBps/b.PinnedGBps)
		}
		fmt.Fprintf(w, "LoadAll rep %d   %10s  %6.2f GB/s  ratio %s  %d device allocations (%s)  verified %d tensors (%s)\n",
			i+1, units.Text(b.Bytes), r.GBps, ratio, r.Allocations, units.Text(r.DeviceBytes), r.VerifiedTensors, units.Text(r.VerifiedBytes))
		if r.Cache.Evictions > 0 {
			fmt.Fprintf(w, "  warning: %d tensors were evicted during the load: the budget is too small for this model\n", r.Cache.Evictions)
		}
	}
	if b.PinnedGBps > 0 {
		fmt.Fprintf(w, "LoadAll first %.2f GB/s (%.2f of pinned), best %.2f GB/s (%.2f of pinned, %.2f of one Upload call)\n",
			b.FirstGBps, b.FirstRatio, b.BestGBps, b.BestRatio, b.BestToUpload)
	}
	if len(b.Loads) > 0 && len(b.Loads[0].PathBytes) > 0 {
		fmt.Fprintf(w, "upload paths (rep 1): %v\n", b.Loads[0].PathBytes)
	}
}

func gbps(n uint64, d time.Duration) float64 { return float64(n) / d.Seconds() / 1e9 }
