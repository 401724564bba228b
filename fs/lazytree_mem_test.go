package fs

import (
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ggufs/ggufs/cache"
	"github.com/ggufs/ggufs/gguf"
	"github.com/ggufs/ggufs/hip"
	"github.com/ggufs/ggufs/synth"
)

// writeModel writes a model of the given metadata and one-byte i8 tensors
// (their data left as holes) to a new file and returns its path and header
// size.
func writeModel(t testing.TB, md []gguf.KV, tensors int) (string, uint64) {
	t.Helper()
	specs := make([]gguf.TensorSpec, tensors)
	for i := range specs {
		specs[i] = gguf.TensorSpec{Name: fmt.Sprintf("t%d", i), Type: gguf.TypeI8, Dims: []uint64{1}}
	}
	path := filepath.Join(t.TempDir(), "model.gguf")
	st, err := synth.WriteSparse(path, md, specs)
	if err != nil {
		t.Fatal(err)
	}
	return path, st.DataOffset
}

// manyKeysMetadata is n one-byte metadata entries.
func manyKeysMetadata(n int) []gguf.KV {
	md := make([]gguf.KV, n)
	for i := range md {
		md[i] = gguf.KV{Key: fmt.Sprintf("k%d", i), Value: gguf.NewUint8(1)}
	}
	return md
}

// heapInUse is the live heap after a collection.
func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var s runtime.MemStats
	runtime.ReadMemStats(&s)
	return s.HeapAlloc
}

// countEntries lists dir in batches, holding no more than a batch of names,
// and returns how many entries it has.
func countEntries(t testing.TB, dir string) int {
	t.Helper()
	d, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	n := 0
	for {
		names, err := d.Readdirnames(1024)
		n += len(names)
		if err == io.EOF {
			return n
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// footprint is the live heap a mount holds at each step, from before the
// model is opened.
type footprint struct {
	modelAndCache uint64 // the parsed model and the cache's record of it
	mounted       uint64 // and the tree and FUSE server, mounted
	listed        uint64 // and after one directory was listed in full
	entries       int    // that directory's entries

	// For make stress: the process's resident set when mounted and
	// listed, and how long mounting and `ls` took.
	rssMounted, rssListed uint64
	mountTook, listTook   time.Duration
}

// residentBytes is the process's VmRSS.
func residentBytes(t testing.TB) uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmRSS in /proc/self/status")
	return 0
}

// mountFootprint opens, caches and mounts the model at path as mount.Open
// does (host backend) and lists dir under the mount.
func mountFootprint(t *testing.T, path, dir string, ls func(dir string)) footprint {
	t.Helper()
	if _, err := os.Stat("/dev/fuse"); err != nil {
		requireFuse(t, err)
	}
	var fp footprint
	before := heapInUse()
	start := time.Now()
	held := func() uint64 { return heapInUse() - before }
	model, err := gguf.OpenModel(path)
	if err != nil {
		t.Fatal(err)
	}
	defer model.Close()
	dev := hip.NewHost(hip.HostOptions{Capacity: 1 << 30})
	defer dev.Close()
	c, err := cache.New(dev, cache.TensorsFromModel(model), cache.Options{Budget: 256 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fp.modelAndCache = held()
	root, err := New(Config{Model: model, Cache: c, Device: dev.String(), Logger: log.New(testWriter{t}, "", 0)})
	if err != nil {
		t.Fatal(err)
	}
	mnt := t.TempDir()
	server, err := Mount(mnt, root, MountOptions{})
	if err != nil {
		requireFuse(t, err)
	}
	defer root.Wait()
	defer func() {
		if err := server.Unmount(); err != nil {
			t.Errorf("unmount: %v", err)
		}
	}()
	fp.mountTook = time.Since(start)
	fp.mounted = held()
	fp.rssMounted = residentBytes(t)
	start = time.Now()
	fp.entries = countEntries(t, filepath.Join(mnt, dir))
	if ls != nil {
		ls(filepath.Join(mnt, dir))
	}
	fp.listTook = time.Since(start)
	fp.listed = held()
	fp.rssListed = residentBytes(t)
	return fp
}

// fuseSlack is what go-fuse's request buffers may add between two mounts
// of one run: it starts a reader (with a buffer of a request's size) per
// concurrent request, more when the machine is busy.
const fuseSlack = 4 << 20

// treeBound is how much heap the tree and its FUSE server may hold per
// header byte beyond a one-tensor mount's: nothing per tensor or key until
// looked up (lazytree.go), so a small fraction.
const treeBound = 0.5

// listingBound is how much heap a full listing may leave behind per header
// byte: nothing per entry (the listing streams), so a small fraction.
const listingBound = 0.25

// mountBound is how much heap a whole mount may hold per header byte beyond
// a one-tensor mount's. For one-byte tensors, the worst case: the parsed
// header, under 4x (gguf/limits.go), and the cache's record of each tensor,
// about 6x (cache.New); the tree adds almost nothing (treeBound).
const mountBound = 16

// A mount of a header of many tiny tensors, or many keys, holds memory in
// proportion to the header by a small constant, measured against a
// one-tensor mount in the same run (go-fuse's buffers allowed for): the tree adds almost nothing to the
// parsed model and the cache, and listing tensors/ or metadata/ in full
// leaves almost nothing behind.
func TestManyEntriesMountInProportion(t *testing.T) {
	const n = 1 << 16
	tinyPath, _ := writeModel(t, nil, 1)
	tiny := mountFootprint(t, tinyPath, "tensors", nil)
	tinyTree := float64(tiny.mounted) - float64(tiny.modelAndCache)
	for _, c := range []struct {
		name    string
		md      []gguf.KV
		tensors int
		dir     string
	}{
		{"2^16 one-byte tensors", nil, n, "tensors"},
		{"2^16 one-byte metadata keys", manyKeysMetadata(n), 1, "metadata"},
	} {
		path, header := writeModel(t, c.md, c.tensors)
		fp := mountFootprint(t, path, c.dir, nil)
		if fp.entries < n {
			t.Errorf("%s: %s/ lists %d entries, want at least %d", c.name, c.dir, fp.entries, n)
		}
		h := float64(header)
		whole := (float64(fp.mounted) - float64(tiny.mounted)) / h
		tree := (float64(fp.mounted) - float64(fp.modelAndCache) - tinyTree) / h
		left := (float64(fp.listed) - float64(fp.mounted)) / h
		slack := fuseSlack / h // go-fuse's buffers, per header byte
		t.Logf("%s: header %d bytes; beyond a one-tensor mount the mount holds %.2fx the header, its tree %.2fx; listing %s/ left %.2fx",
			c.name, header, whole, tree, c.dir, left)
		if whole > mountBound+slack {
			t.Errorf("%s: the mount holds %.2fx the header; bound %dx", c.name, whole, mountBound)
		}
		if tree > treeBound+slack {
			t.Errorf("%s: the tree holds %.2fx the header; bound %.2fx", c.name, tree, treeBound)
		}
		if left > listingBound+slack {
			t.Errorf("%s: listing %s/ left %.2fx the header allocated; bound %.2fx", c.name, c.dir, left, listingBound)
		}
	}
}

// TestManyEntriesFullSize mounts 2^20 one-byte tensors and 2^20 keys (the
// limits' worst cases) and reports mount time and memory, and `ls` of
// tensors/ or metadata/, against a plain header of the same size mounted in
// the same run. Seconds and gigabytes: only with GGUFS_STRESS=1 (make
// stress); BENCHMARKS.md has the figures.
func TestManyEntriesFullSize(t *testing.T) {
	if os.Getenv("GGUFS_STRESS") != "1" {
		t.Skip("full-size mounts run with GGUFS_STRESS=1 (make stress)")
	}
	const n = 1 << 20
	ls := func(dir string) {
		if out, err := exec.Command("ls", dir).Output(); err != nil || len(out) == 0 {
			t.Fatalf("ls %s: %v", dir, err)
		}
	}
	for _, c := range []struct {
		name    string
		md      []gguf.KV
		tensors int
		dir     string
	}{
		{"2^20 one-byte tensors", nil, n, "tensors"},
		{"2^20 one-byte metadata keys", manyKeysMetadata(n), 1, "metadata"},
	} {
		path, header := writeModel(t, c.md, c.tensors)
		// The baseline: one key of a string the header's size.
		plainPath, _ := writeModel(t, []gguf.KV{{Key: "k", Value: gguf.NewString(strings.Repeat("x", int(header)))}}, 1)
		plain := mountFootprint(t, plainPath, "metadata", ls)
		fp := mountFootprint(t, path, c.dir, ls)
		mib := func(b uint64) float64 { return float64(b) / (1 << 20) }
		t.Logf("%s: header %.1f MiB; mount %v (%.2fx a plain header's %v), heap %.0f MiB (%.2fx the header), RSS %.0f MiB (plain %.0f MiB); "+
			"ls %s/ %v (%d entries), heap %.0f MiB, RSS %.0f MiB (plain %.0f MiB)",
			c.name, mib(header), fp.mountTook.Round(time.Millisecond), float64(fp.mountTook)/float64(plain.mountTook), plain.mountTook.Round(time.Millisecond),
			mib(fp.mounted), float64(fp.mounted)/float64(header), mib(fp.rssMounted), mib(plain.rssMounted),
			c.dir, fp.listTook.Round(time.Millisecond), fp.entries, mib(fp.listed), mib(fp.rssListed), mib(plain.rssListed))
	}
}
