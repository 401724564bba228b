// Package fs serves a GGUF model as a read-only FUSE filesystem (go-fuse's
// node API):
//
//	metadata/<key>          one file per metadata key (scalar "text\n", arrays one element a line)
//	metadata.json           all metadata, in file order
//	tensors/<name>/         one directory per tensor, with extended attributes
//	  data                  the tensor's bytes, served from the device copy
//	  data.npy              numpy header + bytes (f32, f16, f64, i8, i16, i32, i64 only)
//	  f32 f32.npy           the tensor converted to float32 on read (views.go)
//	  shape dtype status    text mirrors of the attributes
//	stats.json              cache and device counters
//
// The tree is immutable and built once when mounted. Reading data makes the
// tensor resident through the cache; an open data file pins it and keeps a
// window of its bytes downloaded ahead of a sequential reader (window.go);
// when the cache evicts a tensor the kernel's cached pages of it are dropped.
// Errors become errnos in one place (errno.go).
//
// The attribute names, the values they accept and the stats.json schema are
// the control protocol's (mount/ctl); package mount assembles a Root with its
// model, device and cache and mounts it.
package fs

import (
	"context"
	"fmt"
	"log"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	fusefs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/ggufs/ggufs/cache"
	"github.com/ggufs/ggufs/gguf"
	"github.com/ggufs/ggufs/mount/ctl"
)

// Config is what a Root serves.
type Config struct {
	Model *gguf.Model
	Cache *cache.Cache
	// Device names the device in user.ggufs.device and stats.json ("cuda:0").
	Device string
	// BackendStats, when set, adds the device backend's counters to stats.json.
	BackendStats func() ctl.BackendStats
	// Logger receives errors that have no better place than EIO (nil: log.Default()).
	Logger *log.Logger
	// ReadPoolBytes caps the host memory of all open data files' read
	// windows together (0: DefaultReadPoolBytes of the cache's budget).
	ReadPoolBytes int64
	// Sharing, when set, adds ipc.json and tensors/<name>/ipc (ipc.go).
	Sharing Sharing
}

// Root is the filesystem's root directory.
type Root struct {
	fusefs.Inode
	dirOps

	cfg       Config
	log       *log.Logger
	owner     fuse.Owner
	mtime     time.Time
	tensors   []*tensorEntry          // file order, valid names only
	byName    map[string]*tensorEntry // immutable after New
	meta      []metaEntry
	inval     invalidator
	windows   *readPool      // open data files' download-ahead buffers
	readAhead sync.WaitGroup // their background downloads
	loadAll   loadAllState   // user.ggufs.load on the root
	// memoryWait is how a read waits for device memory (readretry.go):
	// time.Sleep, except in tests.
	memoryWait func(time.Duration)
}

var _ = (fusefs.NodeOnAdder)((*Root)(nil))
var _ = (fusefs.NodeGetattrer)((*Root)(nil))

// tensorEntry is what the tree knows of one tensor: computed once in New and
// read without locks afterwards.
type tensorEntry struct {
	info   *gguf.TensorInfo
	entry  string // its directory under tensors/: the name, escaped (names.go)
	shape  string // ggml order, comma separated
	dtype  string
	npy    []byte       // .npy header, nil when numpy has no such type
	inodes cachedInodes // data and data.npy, for kernel cache invalidation
}

type metaEntry struct {
	name  string // the file under metadata/: the key, escaped (names.go)
	value gguf.Value
}

// New prepares the tree for cfg.Model. It does no I/O beyond a stat of the
// first shard (for the times every node reports).
func New(cfg Config) (*Root, error) {
	if cfg.Model == nil || len(cfg.Model.Shards) == 0 || cfg.Cache == nil {
		return nil, fmt.Errorf("fs: a model and a cache are required")
	}
	r := &Root{
		cfg:     cfg,
		log:     cfg.Logger,
		owner:   fuse.Owner{Uid: uint32(os.Getuid()), Gid: uint32(os.Getgid())},
		byName:  make(map[string]*tensorEntry, len(cfg.Model.Tensors)),
		windows: newReadPool(readWindowBytes, readPoolCap(cfg)),
	}
	r.memoryWait = time.Sleep
	if r.log == nil {
		r.log = log.Default()
	}
	if st, err := os.Stat(cfg.Model.Shards[0].Path); err == nil {
		r.mtime = st.ModTime()
	}
	tensorNames := make([]string, len(cfg.Model.Tensors))
	for i, t := range cfg.Model.Tensors {
		tensorNames[i] = t.Name
	}
	entries, err := entryNames("tensor name", tensorNames, EntryName)
	if err != nil {
		return nil, err
	}
	for i, t := range cfg.Model.Tensors {
		if entries[i] == "" {
			r.log.Printf("fs: tensor %d: name %q cannot be a directory entry; not shown", t.Index, t.Name)
			continue
		}
		e := &tensorEntry{info: t, entry: entries[i], shape: joinDims(t.Dims), dtype: t.Type.String()}
		e.npy, _ = npyHeader(t.Type, t.Dims, cfg.Model.Shards[t.Shard].ByteOrder) // a Model's shard indices are valid
		r.tensors = append(r.tensors, e)
		r.byName[t.Name] = e
	}
	var keys []string
	var values []gguf.Value
	for key, v := range cfg.Model.Metadata.All() {
		keys, values = append(keys, key), append(values, v)
	}
	if entries, err = entryNames("metadata key", keys, EntryName); err != nil {
		return nil, err
	}
	for i, key := range keys {
		if entries[i] == "" {
			r.log.Printf("fs: metadata key %q cannot be a file name; only in metadata.json", key)
			continue
		}
		r.meta = append(r.meta, metaEntry{name: entries[i], value: values[i]})
	}
	return r, nil
}

func joinDims(dims []uint64) string {
	parts := make([]string, len(dims))
	for i, d := range dims {
		parts[i] = strconv.FormatUint(d, 10)
	}
	return strings.Join(parts, ",")
}

// OnAdd builds the whole tree: every node is persistent, so lookups and
// listings are answered from memory.
func (r *Root) OnAdd(ctx context.Context) {
	dir := func(parent *fusefs.Inode, name string, node fusefs.InodeEmbedder) *fusefs.Inode {
		ch := parent.NewPersistentInode(ctx, node, fusefs.StableAttr{Mode: syscall.S_IFDIR})
		parent.AddChild(name, ch, false)
		return ch
	}
	file := func(parent *fusefs.Inode, name string, node fusefs.InodeEmbedder) *fusefs.Inode {
		ch := parent.NewPersistentInode(ctx, node, fusefs.StableAttr{Mode: syscall.S_IFREG})
		parent.AddChild(name, ch, false)
		return ch
	}

	meta := dir(&r.Inode, "metadata", &plainDir{root: r})
	for _, m := range r.meta {
		file(meta, m.name, newTextFile(r, "metadata/"+m.name, m.value.WriteText))
	}
	file(&r.Inode, "metadata.json", newTextFile(r, "metadata.json", r.writeMetadataJSON))
	file(&r.Inode, "stats.json", &liveFile{root: r, render: r.statsJSON})
	r.addModelIPC(file) // ipc.json (ipc.go)

	tensors := dir(&r.Inode, "tensors", &plainDir{root: r})
	for _, t := range r.tensors {
		x := tensorXattrs{root: r, tensor: t}
		td := dir(tensors, t.entry, &tensorDir{plainDir: plainDir{root: r}, tensorXattrs: x})
		t.inodes.data.Store(file(td, "data", &dataFile{tensorXattrs: x}))
		if t.npy != nil {
			t.inodes.npy.Store(file(td, "data.npy", &dataFile{tensorXattrs: x, header: t.npy}))
		}
		file(td, "shape", newTextFile(r, "shape", constText(t.shape+"\n")))
		file(td, "dtype", newTextFile(r, "dtype", constText(t.dtype+"\n")))
		file(td, "status", &liveFile{root: r, render: func() []byte { return []byte(r.status(t) + "\n") }})
		r.addTensorIPC(td, t, file)   // ipc (ipc.go)
		addFloatViews(r, td, t, file) // f32, f32.npy (views.go)
	}
}

func (r *Root) Getattr(ctx context.Context, f fusefs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	r.dirAttr(&out.Attr)
	return 0
}

// status is the text of user.ggufs.status and the status file. A tensor
// that can never be uploaded says why from the start.
func (r *Root) status(t *tensorEntry) string {
	s := r.cfg.Cache.Status(t.info.Name)
	if s.State == cache.Unloaded {
		if err := t.info.Uploadable(); err != nil {
			return "error: " + err.Error()
		}
	}
	return s.String()
}

// shardPath names the file holding t's data; where that path now holds
// another file (or the file was rewritten), it says so rather than naming
// a file whose bytes are not the mounted ones.
func (r *Root) shardPath(t *tensorEntry) string {
	f := r.cfg.Model.Shards[t.info.Shard]
	if !f.PathHoldsFile() {
		return f.Path + " (changed since mounted: no longer the mounted file)"
	}
	return f.Path
}

// dirAttr fills a directory's attributes: read and search for all (the
// kernel keeps other users out unless mounted with allow_other).
func (r *Root) dirAttr(a *fuse.Attr) {
	r.fileAttr(a, 0, 0o555)
	a.Nlink = 2
}

// fileAttr fills the attributes every node shares: owner and times.
func (r *Root) fileAttr(a *fuse.Attr, size uint64, mode uint32) {
	a.Mode = mode
	a.Size = size
	a.Nlink = 1
	a.Owner = r.owner
	a.SetTimes(&r.mtime, &r.mtime, &r.mtime)
}
