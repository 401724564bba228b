package bench

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"

	"github.com/ggufs/ggufs/gguf"
	"github.com/ggufs/ggufs/hip"
	"github.com/ggufs/ggufs/internal/units"
	"github.com/ggufs/ggufs/mount"
)

// fuseBenchLatencyBytes is the tensor whose first-read latency is measured.
const fuseBenchLatencyBytes = 100_000_000

// fuseBenchReadSize is each read's size: dd bs=1M.
const fuseBenchReadSize = 1 << 20

// fuseBenchRow is one measured read.
type fuseBenchRow struct {
	name     string
	seconds  float64
	bytes    uint64
	baseline string // the row this one is compared with, if any
}

func (r fuseBenchRow) gbps() float64 { return float64(r.bytes) / r.seconds / 1e9 }

// ErrStopped: a signal asked the benchmark to stop.
var ErrStopped = errors.New("stopped")

// Fuse runs the benchmark in work, a folder of its own, until done or
// stop is set.
func Fuse(w io.Writer, work string, size uint64, opts hip.Options, stop *atomic.Bool) error {

	modelPath := filepath.Join(work, "bench.gguf")
	if err := writeFuseBenchModel(modelPath, size); err != nil {
		return err
	}
	fmt.Fprintf(w, "bench fuse: %s tensor, 1 MiB reads, %d CPUs\n", units.Text(size), runtime.NumCPU())

	// Both servers are mounted at once and their reads alternate, so that
	// load from elsewhere on the machine hits both alike.
	bareDir := filepath.Join(work, "bare")
	bare, err := mountBareData(bareDir, size)
	if err != nil {
		return fmt.Errorf("bare go-fuse server: %w", err)
	}
	defer bare.Unmount()
	// The cache takes 90% of the free device memory by default: leave room.
	opts.HostCapacity = (size+fuseBenchLatencyBytes)/4*5 + 64<<20
	mnt, err := mountBenchModel(filepath.Join(work, "mnt"), modelPath, opts)
	if err != nil {
		return err
	}
	defer mnt.Close()

	rows, err := benchReads(stop, []fuseBenchTarget{
		{label: "bare go-fuse", path: filepath.Join(bareDir, "data")},
		{label: "ggufs data", path: filepath.Join(mnt.Dir, "tensors", "bench.data", "data"), compare: "bare go-fuse"},
	})
	if err != nil {
		return err
	}
	direct, err := benchGGUFFile(modelPath)
	if err != nil {
		return err
	}
	rows = append(rows, direct)
	printFuseBenchRows(w, rows)
	latency, err := firstReadLatency(filepath.Join(mnt.Dir, "tensors", "bench.100mb", "data"))
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "first read of a 100 MB tensor on %s: %.1f ms to the first 1 MiB (the whole tensor uploads), %.2f GB/s\n",
		mnt.Device, latency.Seconds()*1e3, fuseBenchLatencyBytes/latency.Seconds()/1e9)

	fmt.Fprintf(w, "mount time, median of 5: in this process (open, parse header, build tree, mount) and\n")
	fmt.Fprintf(w, "the whole command (ggufs mount --backend host, from exec to its line):\n")
	for _, p := range []struct {
		preset string
		sparse bool
	}{{"tiny", false}, {"llama-7b", true}, {"llama-70b", true}} {
		if stop.Load() {
			return ErrStopped
		}
		mt, err := benchMountTime(work, p.preset, p.sparse)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "  %-10s %4d tensors %12s  %7.1f ms  %7.1f ms\n", p.preset, mt.tensors, units.Text(mt.fileBytes),
			mt.inProcess.Seconds()*1e3, mt.command.Seconds()*1e3)
	}
	return nil
}

// writeFuseBenchModel writes bench.data (size bytes) and bench.100mb, filled
// with a repeated random block (content does not matter to a read's speed,
// but zeros could be special-cased somewhere).
func writeFuseBenchModel(path string, size uint64) error {
	md := []gguf.KV{{Key: "general.architecture", Value: gguf.NewString("bench")}}
	specs := []gguf.TensorSpec{
		{Name: "bench.data", Type: gguf.TypeF32, Dims: []uint64{size / 4}},
		{Name: "bench.100mb", Type: gguf.TypeF32, Dims: []uint64{fuseBenchLatencyBytes / 4}},
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	wr, err := gguf.NewWriter(f, md, specs, gguf.WriterOptions{})
	if err != nil {
		return err
	}
	block := make([]byte, 4<<20)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range block {
		block[i] = byte(rng.Uint32())
	}
	for _, t := range wr.Tensors() {
		if err := wr.WriteTensor(t.Name, io.LimitReader(&repeatReader{block: block}, int64(t.Size))); err != nil {
			return err
		}
	}
	if err := wr.Close(); err != nil {
		return err
	}
	return f.Close()
}

// repeatReader repeats block forever.
type repeatReader struct {
	block []byte
	off   int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c := copy(p[n:], r.block[r.off:])
		n += c
		r.off = (r.off + c) % len(r.block)
	}
	return n, nil
}

// timeRead reads path sequentially to its end, 1 MiB at a time.
func timeRead(path string, flags int, stop *atomic.Bool) (time.Duration, uint64, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|flags, 0)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	buf := alignedBuffer(fuseBenchReadSize)
	var n uint64
	start := time.Now()
	for {
		if stop.Load() {
			return 0, n, ErrStopped
		}
		m, err := f.Read(buf)
		n += uint64(m)
		if err == io.EOF || (err == nil && m == 0) {
			break
		}
		if err != nil {
			return 0, n, err
		}
	}
	return time.Since(start), n, nil
}

// alignedBuffer is page-aligned, as O_DIRECT reads want.
func alignedBuffer(n int) []byte {
	b, err := unix.Mmap(-1, 0, n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
	if err != nil {
		return make([]byte, n)
	}
	return b
}

// fuseBenchRepeats is how often the repeatable reads run; the fastest
// counts (this machine may be shared, and noise only ever slows a run).
const fuseBenchRepeats = 3

// fuseBenchTarget is a file whose reads are timed.
type fuseBenchTarget struct {
	label, path string
	compare     string // label of the target its rows are compared with
}

// fuseReadKinds are the reads timed for each target: the first (once: it
// fills the kernel page cache), re-reads served from the page cache, and
// O_DIRECT reads, each of which the server answers.
var fuseReadKinds = []struct {
	name    string
	flags   int
	repeats int
}{{"first read", 0, 1}, {"re-read (page cache)", 0, fuseBenchRepeats}, {"O_DIRECT", unix.O_DIRECT, fuseBenchRepeats}}

// benchReads times every kind of read of every target, alternating between
// targets, and keeps each one's fastest run.
func benchReads(stop *atomic.Bool, targets []fuseBenchTarget) ([]fuseBenchRow, error) {
	var rows []fuseBenchRow
	for _, k := range fuseReadKinds {
		best := make([]fuseBenchRow, len(targets))
		for range k.repeats {
			for i, t := range targets {
				d, n, err := timeRead(t.path, k.flags, stop)
				if err != nil {
					return nil, fmt.Errorf("%s, %s: %w", t.label, k.name, err)
				}
				if best[i].seconds == 0 || d.Seconds() < best[i].seconds {
					best[i] = fuseBenchRow{name: t.label + ", " + k.name, seconds: d.Seconds(), bytes: n}
					if t.compare != "" {
						best[i].baseline = t.compare + ", " + k.name
					}
				}
			}
		}
		rows = append(rows, best...)
	}
	return rows, nil
}

// mountBareData mounts a bare server of size bytes of random data as dir/data.
func mountBareData(dir string, size uint64) (*fuse.Server, error) {
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, err
	}
	data := make([]byte, size)
	block := make([]byte, 4<<20)
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range block {
		block[i] = byte(rng.Uint32())
	}
	for off := 0; off < len(data); off += len(block) {
		copy(data[off:], block)
	}
	return mountBare(dir, data)
}

// benchGGUFFile reads the big tensor's bytes from the model file itself,
// once to warm the page cache, then timed.
func benchGGUFFile(path string) (fuseBenchRow, error) {
	m, err := gguf.OpenModel(path)
	if err != nil {
		return fuseBenchRow{}, err
	}
	t := m.Tensors[0]
	m.Close()
	f, err := os.Open(path)
	if err != nil {
		return fuseBenchRow{}, err
	}
	defer f.Close()
	buf := alignedBuffer(fuseBenchReadSize)
	read := func() (time.Duration, error) {
		start := time.Now()
		for off := t.FileOffset; off < t.FileOffset+t.Size; off += fuseBenchReadSize {
			n := min(uint64(len(buf)), t.FileOffset+t.Size-off)
			if _, err := f.ReadAt(buf[:n], int64(off)); err != nil {
				return 0, err
			}
		}
		return time.Since(start), nil
	}
	if _, err := read(); err != nil {
		return fuseBenchRow{}, err
	}
	d, err := read()
	return fuseBenchRow{name: "GGUF file read directly (page cache)", seconds: d.Seconds(), bytes: t.Size, baseline: "bare go-fuse, re-read (page cache)"}, err
}

// mountBenchModel mounts modelPath on dir as ggufs mount does.
func mountBenchModel(dir, modelPath string, opts hip.Options) (*mount.Mount, error) {
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, err
	}
	return mount.Open(modelPath, dir, mount.Options{Backend: opts, Log: io.Discard})
}

// firstReadLatency is the time from opening a tensor that is not resident
// to having its first 1 MiB: the whole tensor uploads first.
func firstReadLatency(path string) (time.Duration, error) {
	buf := make([]byte, fuseBenchReadSize)
	start := time.Now()
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	if _, err := io.ReadFull(f, buf); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

func printFuseBenchRows(w io.Writer, rows []fuseBenchRow) {
	byName := map[string]fuseBenchRow{}
	for _, r := range rows {
		byName[r.name] = r
	}
	fmt.Fprintf(w, "  %-44s %8s %8s  %s\n", "sequential read", "GB/s", "ms", "vs bare go-fuse")
	for _, r := range rows {
		ratio := ""
		if b, ok := byName[r.baseline]; ok {
			ratio = fmt.Sprintf("%.2f", r.gbps()/b.gbps())
		}
		fmt.Fprintf(w, "  %-44s %8.2f %8.1f  %s\n", r.name, r.gbps(), r.seconds*1e3, ratio)
	}
}
