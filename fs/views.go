package fs

import (
	"context"
	"encoding/binary"
	"errors"
	"math"
	"runtime"
	"sync"
	"syscall"
	"unsafe"

	fusefs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/ggufs/ggufs/gguf"
)

// floatView is tensors/<name>/f32 (and f32.npy, which prefixes a numpy
// header): the tensor as little-endian float32, ne0 fastest, converted on
// read from the model file's mapping, never from the device. Its bytes
// depend only on the mounted file, so the kernel may keep them
// (FOPEN_KEEP_CACHE) and eviction leaves them alone.
type floatView struct {
	fusefs.Inode
	fileOps
	noXattrs
	root   *Root
	tensor *tensorEntry
	shard  *gguf.File
	header []byte // nil for f32
}

var (
	_ = (fusefs.NodeOpener)((*floatView)(nil))
	_ = (fusefs.NodeReader)((*floatView)(nil))
	_ = (fusefs.NodeGetattrer)((*floatView)(nil))
)

// addFloatViews adds f32 and f32.npy to a tensor's directory when its type
// converts to float32 and its file is little-endian (a big-endian file's
// f16 or f32 bytes would need swapping that ggml's converters do not do).
func addFloatViews(r *Root, dir *fusefs.Inode, t *tensorEntry, file func(*fusefs.Inode, string, fusefs.InodeEmbedder) *fusefs.Inode) {
	info := t.info
	if !gguf.CanDequantize(info.Type) || info.Shard < 0 || info.Shard >= len(r.cfg.Model.Shards) {
		return
	}
	shard := r.cfg.Model.Shards[info.Shard]
	if shard.BigEndian() {
		return
	}
	header, ok := npyHeader(gguf.TypeF32, info.Dims, binary.LittleEndian)
	if !ok {
		return
	}
	file(dir, "f32", &floatView{root: r, tensor: t, shard: shard})
	file(dir, "f32.npy", &floatView{root: r, tensor: t, shard: shard, header: header})
}

func (v *floatView) size() uint64 {
	return uint64(len(v.header)) + 4*v.tensor.info.Elements()
}

func (v *floatView) Getattr(ctx context.Context, fh fusefs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	v.root.fileAttr(&out.Attr, v.size(), fileMode)
	return 0
}

func (v *floatView) Open(ctx context.Context, flags uint32) (fusefs.FileHandle, uint32, syscall.Errno) {
	if flags&writeFlags != 0 {
		return nil, 0, syscall.EROFS
	}
	return nil, fuse.FOPEN_KEEP_CACHE, 0
}

func (v *floatView) Read(ctx context.Context, fh fusefs.FileHandle, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	size := v.size()
	if off < 0 || uint64(off) >= size {
		return fuse.ReadResultData(nil), 0
	}
	dest = dest[:min(uint64(len(dest)), size-uint64(off))]
	n := 0
	if off < int64(len(v.header)) {
		n = copy(dest, v.header[off:])
	}
	if n < len(dest) {
		floatOff := uint64(off) + uint64(n) - uint64(len(v.header))
		if err := readFloats(v.shard, v.tensor.info, dest[n:], floatOff); err != nil {
			return nil, toErrno(v.root.log, "read f32", v.tensor.info.Name, err)
		}
	}
	return fuse.ReadResultData(dest), 0
}

// readFloats fills p with bytes [off, off+len(p)) of t's float32 array.
// Whole elements are converted straight into p where it is aligned; an
// unaligned range goes through a buffer of the elements it touches.
func readFloats(f *gguf.File, t *gguf.TensorInfo, p []byte, off uint64) error {
	first := off / 4
	last := (off + uint64(len(p)) + 3) / 4
	aligned := off%4 == 0 && len(p)%4 == 0 && uintptr(unsafe.Pointer(unsafe.SliceData(p)))%4 == 0
	if aligned && littleEndianHost {
		return convertParallel(f, t, floatsOf(p), first)
	}
	buf := make([]float32, last-first)
	if err := convertParallel(f, t, buf, first); err != nil {
		return err
	}
	raw := make([]byte, 4*len(buf))
	for i, x := range buf {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(x))
	}
	copy(p, raw[off%4:])
	return nil
}

// parallelMinElems is the least work worth a goroutine of its own: below
// it, starting one costs more than the conversion saves.
const parallelMinElems = 1 << 15

// convertParallel converts elements [first, first+len(dst)) of t, split
// into block-aligned parts on up to GOMAXPROCS goroutines that all end
// before it returns.
func convertParallel(f *gguf.File, t *gguf.TensorInfo, dst []float32, first uint64) error {
	tr, _ := t.Type.Traits()
	workers := min(runtime.GOMAXPROCS(0), len(dst)/parallelMinElems)
	if workers <= 1 || tr.BlockSize == 0 {
		return f.DequantizeTensor(t, dst, first)
	}
	part := (uint64(len(dst))/uint64(workers) + tr.BlockSize - 1) / tr.BlockSize * tr.BlockSize
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for w := 0; w < workers; w++ {
		lo := uint64(w) * part
		if lo >= uint64(len(dst)) {
			break
		}
		hi := min(lo+part, uint64(len(dst)))
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[w] = f.DequantizeTensor(t, dst[lo:hi], first+lo)
		}()
	}
	wg.Wait()
	return errors.Join(errs...) // each already names the tensor
}

// littleEndianHost is true where a float32's memory is its little-endian
// bytes, so the array can be served as it lies in memory.
var littleEndianHost = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// floatsOf views p, 4-byte aligned and a multiple of 4 long, as float32s.
func floatsOf(p []byte) []float32 {
	return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(p))), len(p)/4)
}
