package bench

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ggufs/ggufs/hip"
)

// UploadOptions are bench upload's settings.
type UploadOptions struct {
	Backend hip.Options
	Size    uint64 // bytes per timed run
	SizeSet bool   // Size was asked for (with Sizes alone the file need only hold the largest)
	Reps    int
	File    string // upload from this file instead of a temporary one
	Dir     string // folder for the temporary file
	// Sizes, when set, runs the correctness check on these sizes instead
	// of timing.
	Sizes    []uint64
	Variants []Variant
	JSON     bool
}

// Upload times host-to-device upload paths from a file mapping against a
// pinned-memory copy, writing the results to w.
func Upload(w io.Writer, o UploadOptions) error {
	opts, size, sizes, variants := o.Backend, o.Size, o.Sizes, o.Variants
	if len(variants) == 0 {
		var err error
		if variants, err = ParseVariants(nil); err != nil {
			return err
		}
	}
	need := size
	if len(sizes) > 0 && !o.SizeSet {
		need = 0 // sizes alone: the file need only hold the largest size
	}
	for _, s := range sizes {
		need = max(need, s)
	}
	if opts.HostCapacity == 0 {
		opts.HostCapacity = 2*need + 256<<20
	}
	b := &uploadBench{opts: opts, size: size, reps: o.Reps, w: w}

	be, rep, err := hip.Open(opts)
	if err != nil {
		return fmt.Errorf("bench upload: %w", err)
	}
	defer be.Close()
	fmt.Fprintf(b.w, "backend %s", rep.Chosen)
	for _, a := range rep.Attempts {
		if a.Skipped == "" && len(a.Devices) > opts.Device {
			d := a.Devices[opts.Device]
			fmt.Fprintf(b.w, " (%s, runtime %s, pci %s)", d.Name, orDash(a.RuntimeVersion), orDash(d.PCIBusID))
		}
	}
	fmt.Fprintln(b.w)

	cleanup, err := b.prepareFile(o.File, o.Dir, need+uploadSlack)
	if err != nil {
		return fmt.Errorf("bench upload: %w", err)
	}
	defer cleanup()

	if len(sizes) > 0 {
		return b.verifySizes(be, sizes, variants)
	}
	rows, err := b.timeAll(be, variants)
	if err != nil {
		return fmt.Errorf("bench upload: %w", err)
	}
	if o.JSON {
		enc := json.NewEncoder(b.w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rows); err != nil {
			return err
		}
	} else {
		printUploadRows(b.w, rows)
	}
	for _, r := range rows {
		if r.Error != "" || (r.Path != "pinned" && !r.Verified) {
			return fmt.Errorf("bench upload: path %s failed: %s", r.Path, orDash(r.Error))
		}
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// uploadSlack is file space beyond --size, so each path uploads from its own
// odd offset and a stale device copy from the previous path cannot pass the
// byte comparison.
const uploadSlack = 1 << 20

// uploadRow is one measured path.
type uploadRow struct {
	Path      string            `json:"path"`
	Config    string            `json:"config"`
	Bytes     uint64            `json:"bytes"`
	FirstGBps float64           `json:"first_gbps"`
	BestGBps  float64           `json:"best_gbps"`
	Ratio     float64           `json:"ratio_to_pinned"`
	PathBytes map[string]uint64 `json:"path_bytes,omitempty"`
	// Milliseconds per timed run spent (summed over threads) pinning,
	// unpinning and filling staging buffers.
	RegisterMs   float64 `json:"register_ms,omitempty"`
	UnregisterMs float64 `json:"unregister_ms,omitempty"`
	FillMs       float64 `json:"fill_ms,omitempty"`
	Verified     bool    `json:"verified"`
	Error        string  `json:"error,omitempty"`
}

type uploadBench struct {
	opts    hip.Options
	size    uint64
	reps    int
	file    string
	fileLen uint64
	w       io.Writer
}

// prepareFile creates (or checks) the source file and reads it once so the
// page cache holds it.
func (b *uploadBench) prepareFile(path, dir string, need uint64) (func(), error) {
	cleanup := func() {}
	if path == "" {
		f, err := os.CreateTemp(dir, "ggufs-bench-upload-*.bin")
		if err != nil {
			return cleanup, err
		}
		path = f.Name()
		cleanup = func() { os.Remove(path) }
		err = writeRandom(f, need)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			cleanup()
			return func() {}, fmt.Errorf("writing %s: %w", path, err)
		}
	}
	fi, err := os.Stat(path)
	if err != nil {
		return cleanup, err
	}
	if uint64(fi.Size()) < need {
		cleanup()
		return func() {}, fmt.Errorf("%s has %d bytes, the run needs %d", path, fi.Size(), need)
	}
	b.file, b.fileLen = path, uint64(fi.Size())
	start := time.Now()
	if err := warmFile(path); err != nil {
		cleanup()
		return func() {}, err
	}
	fmt.Fprintf(b.w, "file %s: %s, page cache warmed in %v\n", path, gib(b.fileLen), time.Since(start).Round(time.Millisecond))
	return cleanup, nil
}

// writeRandom writes n pseudo-random bytes, generated in parallel.
func writeRandom(f *os.File, n uint64) error {
	const block = 16 << 20
	workers := runtime.NumCPU()
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			buf := make([]byte, block)
			for off := uint64(w) * block; off < n; off += uint64(workers) * block {
				r := rand.New(rand.NewPCG(off, 0x6767))
				for i := 0; i+8 <= len(buf); i += 8 {
					binary.LittleEndian.PutUint64(buf[i:], r.Uint64())
				}
				m := min(uint64(block), n-off)
				if _, err := f.WriteAt(buf[:m], int64(off)); err != nil {
					errs <- err
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	return <-errs
}

func warmFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.CopyBuffer(io.Discard, f, make([]byte, 16<<20))
	return err
}

// mapFile maps the whole source file read-only.
func (b *uploadBench) mapFile() ([]byte, func(), error) {
	f, err := os.Open(b.file)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	m, err := syscall.Mmap(int(f.Fd()), 0, int(b.fileLen), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, nil, fmt.Errorf("mmap %s: %w", b.file, err)
	}
	return m, func() { _ = syscall.Munmap(m) }, nil
}

// timeAll measures the pinned baseline, then each variant.
func (b *uploadBench) timeAll(be hip.Backend, variants []Variant) ([]uploadRow, error) {
	dev, err := be.Malloc(b.size)
	if err != nil {
		return nil, err
	}
	defer be.Free(dev)
	pinned, err := b.timePinned(be, dev)
	if err != nil {
		return nil, err
	}
	rows := []uploadRow{pinned}
	if be.Kind() == hip.BackendHost {
		variants = []Variant{{path: hip.PathHost, label: "memory copy"}}
	}
	for i, v := range variants {
		row := b.timeVariant(be, v, dev, uint64(i+1)*4099%uploadSlack)
		if pinned.BestGBps > 0 {
			row.Ratio = row.BestGBps / pinned.BestGBps
		}
		rows = append(rows, row)
	}
	small := b.timeSmall(be, dev)
	if pinned.BestGBps > 0 {
		small.Ratio = small.BestGBps / pinned.BestGBps
	}
	return append(rows, small), nil
}

// timeSmall times one upload of many small entries laid out as tensors are
// in a GGUF file (4 to 256 KiB, 32-byte aligned), by the backend's default
// path: the per-call cost that packing into staging buffers amortises.
func (b *uploadBench) timeSmall(be hip.Backend, dev hip.DevicePtr) uploadRow {
	total := min(b.size, 256<<20)
	r := rand.New(rand.NewPCG(9, 9))
	type entry struct{ off, n uint64 }
	var entries []entry
	var off uint64
	for {
		n := 4<<10 + r.Uint64N(252<<10)
		if off+n > total {
			break
		}
		entries = append(entries, entry{off, n})
		off = (off + n + 31) &^ 31
	}
	row := uploadRow{Path: "small", Bytes: off,
		Config: fmt.Sprintf("%d entries of 4-256 KiB, one call", len(entries))}
	if len(entries) == 0 {
		row.Error = "--size too small for the small-entry run"
		return row
	}
	var moved uint64
	for _, e := range entries {
		moved += e.n
	}
	row.Bytes = moved
	before := be.Stats()
	for rep := 0; rep < b.reps; rep++ {
		m, unmap, err := b.mapFile()
		if err != nil {
			row.Error = err.Error()
			return row
		}
		copies := make([]hip.Copy, len(entries))
		for i, e := range entries {
			copies[i] = hip.Copy{Dst: dev + hip.DevicePtr(e.off), Src: hip.Memory(m[e.off : e.off+e.n])}
		}
		start := time.Now()
		err = be.Upload(context.Background(), copies)
		d := time.Since(start)
		if err == nil {
			row.note(rep, moved, d)
			if rep == b.reps-1 {
				row.Verified, err = compareEntries(be, copies)
			}
		}
		unmap()
		if err != nil {
			row.Error = err.Error()
			return row
		}
	}
	row.PathBytes = diffPaths(be.Stats().PathBytes, before.PathBytes)
	return row
}

func compareEntries(be hip.Backend, copies []hip.Copy) (bool, error) {
	for i, c := range copies {
		if _, err := compareDevice(be, c.Dst, c.Src.Bytes()); err != nil {
			return false, fmt.Errorf("entry %d: %w", i, err)
		}
	}
	return true, nil
}

// timePinned times one direct copy from a pinned buffer holding the file's bytes.
func (b *uploadBench) timePinned(be hip.Backend, dev hip.DevicePtr) (uploadRow, error) {
	row := uploadRow{Path: "pinned", Config: "one copy from a pinned host buffer", Bytes: b.size, Ratio: 1}
	p, ok := be.(hip.Pinner)
	if !ok {
		return row, fmt.Errorf("backend %s cannot allocate pinned memory", be)
	}
	buf, err := p.AllocPinned(b.size)
	if err != nil {
		return row, err
	}
	defer p.FreePinned(buf)
	m, unmap, err := b.mapFile()
	if err != nil {
		return row, err
	}
	copy(buf, m[:b.size])
	unmap()
	for r := 0; r < b.reps; r++ {
		start := time.Now()
		if err := p.CopyDirect(dev, buf); err != nil {
			return row, err
		}
		row.note(r, b.size, time.Since(start))
	}
	return row, nil
}

func (r *uploadRow) note(rep int, n uint64, d time.Duration) {
	gbps := float64(n) / d.Seconds() / 1e9
	if rep == 0 {
		r.FirstGBps = gbps
	}
	r.BestGBps = max(r.BestGBps, gbps)
}

// variantBackend opens a second handle on base's device configured as v
// asks (base itself for the host backend's single path) and returns it with
// the function that closes it.
func (b *uploadBench) variantBackend(base hip.Backend, v Variant) (hip.Backend, func(), error) {
	if v.path == hip.PathHost {
		return base, func() {}, nil
	}
	o := b.opts
	o.Upload = v.cfg
	o.Backend = base.Kind()
	opened, _, err := hip.Open(o)
	if err != nil {
		return nil, nil, err
	}
	return opened, func() { opened.Close() }, nil
}

// timeVariant uploads from a fresh mapping reps times with the variant's
// configuration, then downloads and compares.
func (b *uploadBench) timeVariant(base hip.Backend, v Variant, dev hip.DevicePtr, shift uint64) uploadRow {
	row := uploadRow{Path: v.path, Config: v.label, Bytes: b.size}
	be, closeVariant, err := b.variantBackend(base, v)
	if err != nil {
		row.Error = err.Error()
		return row
	}
	defer closeVariant()
	if be != base {
		// The variant's backend is a second handle on the same device: give
		// it its own allocation.
		d, err := be.Malloc(b.size)
		if err != nil {
			row.Error = err.Error()
			return row
		}
		defer be.Free(d)
		dev = d
	}
	// Warm up: the first upload creates the backend's streams and pinned
	// buffers, which a mount pays once, not per tensor.
	if m, unmap, err := b.mapFile(); err == nil {
		_ = be.Upload(context.Background(), []hip.Copy{{Dst: dev, Src: hip.Memory(m[:min(b.size, 1<<20)])}})
		unmap()
	}
	// The variants fill staging buffers by pread from the file (as the
	// cache does) unless pread=0 asks for copies from the mapping.
	srcFile, err := os.Open(b.file)
	if err != nil {
		row.Error = err.Error()
		return row
	}
	defer srcFile.Close()
	statsBefore := be.Stats()
	before := statsBefore.PathBytes
	for r := 0; r < b.reps; r++ {
		m, unmap, err := b.mapFile()
		if err != nil {
			row.Error = err.Error()
			return row
		}
		source, err := hip.FileRange(srcFile, int64(shift), m[shift:shift+b.size])
		if err != nil {
			unmap()
			row.Error = err.Error()
			return row
		}
		if v.freshDst {
			// Into device memory no upload has touched yet, as a first
			// load of a model is.
			d, err := be.Malloc(b.size)
			if err != nil {
				unmap()
				row.Error = err.Error()
				return row
			}
			defer be.Free(d)
			dev = d
		}
		start := time.Now()
		err = be.Upload(context.Background(), []hip.Copy{{Dst: dev, Src: source}})
		d := time.Since(start)
		if err != nil {
			unmap()
			row.Error = err.Error()
			return row
		}
		row.note(r, b.size, d)
		if r < b.reps-1 {
			unmap()
			continue
		}
		row.Verified, err = compareDevice(be, dev, source.Bytes())
		unmap()
		if err != nil {
			row.Error = err.Error()
		}
	}
	after := be.Stats()
	row.PathBytes = diffPaths(after.PathBytes, before)
	perRun := func(after, before int64) float64 { return float64(after-before) / 1e6 / float64(b.reps) }
	row.RegisterMs = perRun(after.RegisterNanos, statsBefore.RegisterNanos)
	row.UnregisterMs = perRun(after.UnregisterNanos, statsBefore.UnregisterNanos)
	row.FillMs = perRun(after.FillNanos, statsBefore.FillNanos)
	return row
}

// compareDevice downloads len(want) bytes from dev and compares.
func compareDevice(be hip.Backend, dev hip.DevicePtr, want []byte) (bool, error) {
	got := make([]byte, len(want))
	if err := be.Download(got, dev); err != nil {
		return false, err
	}
	if !bytes.Equal(got, want) {
		for i := range got {
			if got[i] != want[i] {
				return false, fmt.Errorf("byte %d of %d differs: device %#x, file %#x", i, len(want), got[i], want[i])
			}
		}
	}
	return true, nil
}

func diffPaths(after, before map[string]uint64) map[string]uint64 {
	d := map[string]uint64{}
	for k, v := range after {
		if v > before[k] {
			d[k] = v - before[k]
		}
	}
	return d
}

func printUploadRows(w io.Writer, rows []uploadRow) {
	fmt.Fprintf(w, "%-9s %-44s %9s %9s %6s  %s\n", "path", "config", "first", "best", "ratio", "bytes by path / check")
	for _, r := range rows {
		check := ""
		var keys []string
		for k := range r.PathBytes {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			check += fmt.Sprintf("%s=%.0f%% ", k, 100*float64(r.PathBytes[k])/float64(max(1, r.PathBytes[k], sumPaths(r.PathBytes))))
		}
		if r.RegisterMs+r.UnregisterMs+r.FillMs > 0 {
			check += fmt.Sprintf("(thread-ms/run: register %.0f unregister %.0f fill %.0f) ", r.RegisterMs, r.UnregisterMs, r.FillMs)
		}
		switch {
		case r.Error != "":
			check += "ERROR: " + r.Error
		case r.Verified:
			check += "verified"
		}
		fmt.Fprintf(w, "%-9s %-44s %6.1f GB/s %6.1f GB/s %5.2f  %s\n", r.Path, r.Config, r.FirstGBps, r.BestGBps, r.Ratio, check)
	}
}

func sumPaths(m map[string]uint64) uint64 {
	var s uint64
	for _, v := range m {
		s += v
	}
	return s
}

// Variant is one upload configuration to time.
type Variant struct {
	path  string
	label string
	cfg   hip.UploadConfig
	// freshDst uploads each timed run into a new device allocation.
	freshDst bool
}

// ParseVariants reads --variant values: path[:key=value...] (the flag
// itself splits on commas).
func ParseVariants(specs []string) ([]Variant, error) {
	if len(specs) == 0 {
		specs = []string{hip.PathStaged, hip.PathRegister, hip.PathHybrid, hip.PathPlain}
	}
	var out []Variant
	for _, spec := range specs {
		parts := strings.Split(spec, ":")
		v := Variant{path: parts[0], cfg: hip.UploadConfig{Path: parts[0]}}
		switch v.path {
		case hip.PathRegister, hip.PathStaged, hip.PathHybrid, hip.PathPlain, hip.PathAuto:
		default:
			return nil, fmt.Errorf("variant %q: path must be auto, staged, register, hybrid or plain", spec)
		}
		for _, kv := range parts[1:] {
			k, val, ok := strings.Cut(kv, "=")
			n, err := ParseBytes(val)
			if !ok || err != nil {
				return nil, fmt.Errorf("variant %q: %q is not key=number", spec, kv)
			}
			switch k {
			case "chunk":
				v.cfg.ChunkBytes = n
			case "inflight":
				v.cfg.InFlight = int(n)
			case "workers":
				v.cfg.Workers = int(n)
			case "buffers":
				v.cfg.StagingBuffers = int(n)
			case "staging":
				v.cfg.StagingBytes = n
			case "small":
				v.cfg.SmallBytes = n
			case "populate":
				v.cfg.NoPopulate = n == 0
			case "pinners":
				v.cfg.RegisterWorkers = int(n)
			case "pread":
				v.cfg.NoPread = n == 0
			case "fresh":
				v.freshDst = n != 0
			default:
				return nil, fmt.Errorf("variant %q: unknown key %q", spec, k)
			}
		}
		v.label = strings.Join(parts[1:], " ")
		if v.label == "" {
			v.label = "defaults"
		}
		out = append(out, v)
	}
	return out, nil
}

// ParseBytes reads "4GiB", "512MiB", "1KiB", "4097" or sums like "1MiB+3".
func ParseBytes(s string) (uint64, error) {
	var total uint64
	for _, term := range strings.Split(strings.TrimSpace(s), "+") {
		term = strings.TrimSpace(term)
		mult := uint64(1)
		for _, u := range []struct {
			suffix string
			mult   uint64
		}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}} {
			if strings.HasSuffix(term, u.suffix) {
				term, mult = strings.TrimSuffix(term, u.suffix), u.mult
				break
			}
		}
		n, err := strconv.ParseUint(term, 10, 64)
		if err != nil {
			return 0, err
		}
		if n > (1<<63)/mult {
			return 0, fmt.Errorf("%q is too large", s)
		}
		total += n * mult
	}
	return total, nil
}

// verifySizes uploads many sizes from odd file offsets to odd device
// offsets, and one batch of many small entries, by every path; downloads
// and compares every byte.
func (b *uploadBench) verifySizes(base hip.Backend, sizes []uint64, variants []Variant) error {
	m, unmap, err := b.mapFile()
	if err != nil {
		return err
	}
	defer unmap()
	if base.Kind() == hip.BackendHost {
		variants = []Variant{{path: hip.PathHost, label: "memory copy"}}
	}
	failed := 0
	for _, v := range variants {
		be, closeVariant, err := b.variantBackend(base, v)
		if err != nil {
			return err
		}
		defer closeVariant()
		for i, n := range sizes {
			srcOff := (uint64(i)*7919 + 13) % (b.fileLen - n + 1)
			dstOff := uint64(i*3 + 1)
			start := time.Now()
			err := verifyOne(be, m[srcOff:srcOff+n], dstOff)
			status := "ok"
			if err != nil {
				status, failed = "FAIL: "+err.Error(), failed+1
			}
			fmt.Fprintf(b.w, "verify %-8s %12d bytes  file+%-6d dev+%-3d %8v  %s\n", v.path, n, srcOff, dstOff, time.Since(start).Round(time.Microsecond), status)
		}
		entries, total, err := verifyBatch(be, m)
		status := "ok"
		if err != nil {
			status, failed = "FAIL: "+err.Error(), failed+1
		}
		fmt.Fprintf(b.w, "verify %-8s batch of %d entries, %d bytes  %s  paths %v\n", v.path, entries, total, status, be.Stats().PathBytes)
	}
	if failed > 0 {
		return fmt.Errorf("bench upload: %d checks failed", failed)
	}
	fmt.Fprintln(b.w, "verify: all checks passed")
	return nil
}

// verifyOne uploads src to dstOff bytes into a fresh allocation, then checks
// a download of the whole range and of an odd sub-range.
func verifyOne(be hip.Backend, src []byte, dstOff uint64) error {
	n := uint64(len(src))
	dev, err := be.Malloc(n + dstOff + 64)
	if err != nil {
		return err
	}
	defer be.Free(dev)
	dst := dev + hip.DevicePtr(dstOff)
	if err := be.Upload(context.Background(), []hip.Copy{{Dst: dst, Src: hip.Memory(src)}}); err != nil {
		return err
	}
	if _, err := compareDevice(be, dst, src); err != nil {
		return err
	}
	if n > 2 {
		lo, hi := n/3|1, n-n/5
		if _, err := compareDevice(be, dst+hip.DevicePtr(lo), src[lo:hi]); err != nil {
			return fmt.Errorf("sub-range [%d, %d): %w", lo, hi, err)
		}
	}

	return nil

}

// verifyBatch uploads many small entries of random sizes in one call, some
// contiguous on the device and some not, and checks each.
func verifyBatch(be hip.Backend, m []byte) (int, uint64, error) {
	r := rand.New(rand.NewPCG(42, 1))
	const entries = 2000
	var copies []hip.Copy
	var devLen uint64
	limit := min(uint64(len(m)), 256<<20)
	for i := 0; i < entries; i++ {
		n := 1 + r.Uint64N(64<<10)
		if i%10 == 0 {
			n = 1 + r.Uint64N(64)
		}
		off := r.Uint64N(limit - n)
		gap := uint64(0)
		if i%3 == 0 {
			gap = r.Uint64N(100)
		}
		copies = append(copies, hip.Copy{Dst: hip.DevicePtr(devLen + gap), Src: hip.Memory(m[off : off+n])})
		devLen += gap + n
	}
	dev, err := be.Malloc(devLen)
	if err != nil {
		return entries, devLen, err
	}
	defer be.Free(dev)
	for i := range copies {
		copies[i].Dst += dev
	}
	if err := be.Upload(context.Background(), copies); err != nil {
		return entries, devLen, err
	}
	for i, c := range copies {
		if _, err := compareDevice(be, c.Dst, c.Src.Bytes()); err != nil {
			return entries, devLen, fmt.Errorf("entry %d (%d bytes): %w", i, c.Src.Len(), err)
		}
	}
	return entries, devLen, nil
}

func gib(n uint64) string { return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30)) }
