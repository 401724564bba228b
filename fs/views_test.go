package fs

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/ggufs/ggufs/gguf"
	"github.com/ggufs/ggufs/synth"
)

// vectorDir holds gguf-py's dequantization vectors (gguf/testdata/dequant).
const vectorDir = "../gguf/testdata/dequant"

type viewVectors []struct {
	File    string `json:"file"`
	Tensors []struct {
		Name    string `json:"name"`
		F32File string `json:"f32_file"`
	} `json:"tensors"`
}

// npyBody checks an f32.npy header (little-endian float32, the numpy-order
// shape) and returns what follows it.
func npyBody(t *testing.T, npy []byte, dims []uint64) []byte {
	t.Helper()
	want, _ := npyHeader(gguf.TypeF32, dims, binary.LittleEndian)
	if !bytes.HasPrefix(npy, want) || !bytes.Contains(want, []byte("'descr': '<f4'")) {
		t.Fatalf("f32.npy header %q, want %q", npy[:min(len(npy), len(want))], want)
	}
	return npy[len(want):]
}

// Every vector tensor reads through the mount, as f32 and as f32.npy, bit
// for bit as gguf-py's (and ggml's) dequantizer produced it.
func TestFloatViewsMatchVectors(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(vectorDir, "INDEX.json"))
	if err != nil {
		t.Fatal(err)
	}
	var idx viewVectors
	if err := json.Unmarshal(raw, &idx); err != nil {
		t.Fatal(err)
	}
	for _, file := range idx {
		t.Run(file.File, func(t *testing.T) {
			f := testMountFile(t, filepath.Join(vectorDir, file.File), 0, nil)
			for _, tv := range file.Tensors {
				want, err := os.ReadFile(filepath.Join(vectorDir, tv.F32File))
				if err != nil {
					t.Fatal(err)
				}
				got, err := os.ReadFile(f.tensorPath(tv.Name, "f32"))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("%s: f32 differs from %s", tv.Name, tv.F32File)
				}
				npy, err := os.ReadFile(f.tensorPath(tv.Name, "f32.npy"))
				if err != nil {
					t.Fatal(err)
				}
				if body := npyBody(t, npy, f.tensor(t, tv.Name).Dims); !bytes.Equal(body, want) {
					t.Errorf("%s: f32.npy data differs from %s", tv.Name, tv.F32File)
				}
			}
		})
	}
}

// expectedFloats is t's float32 array through the Go API, as bytes.
func expectedFloats(t *testing.T, f *fixture, ti *gguf.TensorInfo) []byte {
	t.Helper()
	vals := make([]float32, ti.Elements())
	if err := gguf.DequantizeF32(vals, f.tensorBytes(ti), ti.Type); err != nil {
		t.Fatal(err)
	}
	out := make([]byte, 4*len(vals))
	for i, v := range vals {
		binary.LittleEndian.PutUint32(out[4*i:], math.Float32bits(v))
	}
	return out
}

// Every tensor of every type that converts has f32 and f32.npy; the others
// have neither. Reads at any offset and length, big ones split across
// goroutines, give the same bytes as the whole array.
func TestFloatViewsForEveryTypeAtAnyOffset(t *testing.T) {
	f := testMount(t, synth.Options{Preset: "zoo", Seed: 3}, 0)
	for _, ti := range f.model.Tensors {
		path := f.tensorPath(ti.Name, "f32")
		if !gguf.CanDequantize(ti.Type) {
			if _, err := os.Stat(path); !errorsIs(err, os.ErrNotExist) {
				t.Errorf("%s (%s): f32: %v, want none", ti.Name, ti.Type, err)
			}
			continue
		}
		want := expectedFloats(t, f, ti)
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%s (%s): %v", ti.Name, ti.Type, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s (%s): f32 differs from DequantizeF32", ti.Name, ti.Type)
			continue
		}
		fh, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		n := int64(len(want))
		for _, r := range [][2]int64{{0, 1}, {1, 3}, {3, 9}, {5, 1021}, {n - 7, 7}, {n - 3, 64}, {n / 3, n / 2}, {n, 5}} {
			off, length := r[0], r[1]
			if off < 0 || off > n {
				continue
			}
			buf := make([]byte, length)
			m, err := fh.ReadAt(buf, off)
			end := min(off+length, n)
			if int64(m) != end-off || (err != nil && end == off+length) {
				t.Errorf("%s: read [%d,+%d): %d bytes, %v", ti.Name, off, length, m, err)
				continue
			}
			if !bytes.Equal(buf[:m], want[off:end]) {
				t.Errorf("%s (%s): read [%d,+%d) differs", ti.Name, ti.Type, off, length)
			}
		}
		fh.Close()
	}
}

// Reading the views never uploads the tensor, and evicting a tensor that
// was read leaves its views' bytes as they were.
func TestFloatViewsIgnoreTheDevice(t *testing.T) {
	f := testMount(t, synth.Options{Preset: "tiny", Seed: 5}, 0)
	var ti *gguf.TensorInfo
	for _, x := range f.model.Tensors {
		if gguf.CanDequantize(x.Type) && x.Type != gguf.TypeF32 {
			ti = x
			break
		}
	}
	if ti == nil {
		t.Fatal("the model has no convertible tensor")
	}
	want := expectedFloats(t, f, ti)
	got, err := os.ReadFile(f.tensorPath(ti.Name, "f32"))
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("f32: %v, equal %v", err, bytes.Equal(got, want))
	}
	if f.cache.IsResident(ti.Name) {
		t.Fatalf("reading f32 of %s made it resident", ti.Name)
	}
	if _, err := f.cache.ReadAt(context.Background(), ti.Name, make([]byte, 1), 0); err != nil {
		t.Fatal(err)
	}
	if !f.cache.IsResident(ti.Name) {
		t.Fatalf("%s not resident after a read of its data", ti.Name)
	}
	if err := f.cache.Evict(ti.Name); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(f.tensorPath(ti.Name, "f32")); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("f32 after eviction: %v, equal %v", err, bytes.Equal(got, want))
	}
}

// A model file truncated under the mount makes reads of a view EIO (the
// mapping would fault with SIGBUS), never a crash.
func TestFloatViewOfTruncatedFileIsEIO(t *testing.T) {
	f := testMount(t, synth.Options{Preset: "tiny", Seed: 9}, 0)
	last := f.model.Tensors[0]
	for _, x := range f.model.Tensors {
		if gguf.CanDequantize(x.Type) && x.FileOffset > last.FileOffset {
			last = x
		}
	}
	if err := os.Truncate(f.path, int64(last.FileOffset)); err != nil {
		t.Fatal(err)
	}
	_, err := os.ReadFile(f.tensorPath(last.Name, "f32"))
	if !errorsIs(err, syscall.EIO) {
		t.Fatalf("read f32 of %s after truncation: %v, want EIO", last.Name, err)
	}
}

// Reads large enough to be split across goroutines (1 MiB, as the kernel
// sends) give the same bytes as converting the whole tensor, at block-aligned
// and unaligned offsets alike, for every part count the split can make.
func TestLargeFloatReadsSplitAcrossGoroutines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.gguf")
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	const elems = 1 << 20
	w, err := gguf.NewWriter(out, nil, []gguf.TensorSpec{{Name: "w", Type: gguf.TypeQ4_K, Dims: []uint64{4096, elems / 4096}}}, gguf.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	data := make([]byte, w.Tensors()[0].Size)
	for i := range data {
		data[i] = byte(i*7 + i/251)
	}
	if err := w.WriteTensorBytes("w", data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	out.Close()
	f, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ti := f.Tensors[0]
	whole := make([]float32, elems)
	if err := gguf.DequantizeF32(whole, data, gguf.TypeQ4_K); err != nil {
		t.Fatal(err)
	}
	want := make([]byte, 4*elems)
	for i, v := range whole {
		binary.LittleEndian.PutUint32(want[4*i:], math.Float32bits(v))
	}
	for _, r := range [][2]int{{0, 1 << 20}, {4 * 256 * 3, 1 << 20}, {4*1000 + 2, 1<<20 - 3}, {4*elems - (1 << 20), 1 << 20}, {12, 4 * parallelMinElems * 5}} {
		off, n := r[0], r[1]
		p := make([]byte, n)
		if err := readFloats(f, ti, p, uint64(off)); err != nil {
			t.Fatalf("read [%d,+%d): %v", off, n, err)
		}
		if !bytes.Equal(p, want[off:off+n]) {
			t.Fatalf("read [%d,+%d) differs from the whole conversion", off, n)
		}
	}
}
