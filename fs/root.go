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
// The tree never changes while mounted; tensors/ and metadata/ make their
// nodes when looked up and let the kernel forget them (lazytree.go), so a
// mount's memory follows what is in use, not the header. Reading data makes the
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
	// DeviceName, when set, replaces Device and is asked at each read: the
	// device may still be opening when the tree is first served.
	DeviceName func() string
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

	cfg        Config
	log        *log.Logger
	owner      fuse.Owner
	mtime      time.Time
	tensors    []*gguf.TensorInfo // shown under tensors/, model order; immutable after New
	shardStart []int              // each shard's first position in cfg.Model.Tensors
	inval      invalidator
	windows    *readPool      // open data files' download-ahead buffers
	readAhead  sync.WaitGroup // their background downloads
	loadAll    loadAllState   // user.ggufs.load on the root
	// memoryWait is how a read waits for device memory (readretry.go):
	// time.Sleep, except in tests.
	memoryWait func(time.Duration)
}

var _ = (fusefs.NodeOnAdder)((*Root)(nil))
var _ = (fusefs.NodeGetattrer)((*Root)(nil))

// tensorEntry is what the tree knows of one tensor: made when its directory
// is looked up (lookupTensor) and read without locks afterwards.
type tensorEntry struct {
	info  *gguf.TensorInfo
	entry string // its directory under tensors/: the name, escaped (names.go)
	shape string // ggml order, comma separated
	dtype string
	npy   []byte // .npy header, nil when numpy has no such type
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
		windows: newReadPool(readWindowBytes, readPoolCap(cfg)),
	}
	r.memoryWait = time.Sleep
	if r.log == nil {
		r.log = log.Default()
	}
	if st, err := os.Stat(cfg.Model.Shards[0].Path); err == nil {
		r.mtime = st.ModTime()
	}
	r.inval.files = r.pageCachedFiles
	// Names are unique in a Model and EntryName is reversible, so entries
	// are unique too; only names too long for an entry are left out.
	hidden := 0
	for _, t := range cfg.Model.Tensors {
		if !validName(EntryName(t.Name)) {
			r.log.Printf("fs: tensor %d: name %q... (%d bytes) cannot be a directory entry; not shown", t.Index, t.Name[:logNameLen], len(t.Name))
			hidden++
		}
	}
	r.tensors = cfg.Model.Tensors
	if hidden > 0 {
		r.tensors = make([]*gguf.TensorInfo, 0, len(cfg.Model.Tensors)-hidden)
		for _, t := range cfg.Model.Tensors {
			if validName(EntryName(t.Name)) {
				r.tensors = append(r.tensors, t)
			}
		}
	}
	r.shardStart = make([]int, len(cfg.Model.Shards))
	for i, pos := 0, 0; i < len(cfg.Model.Shards); i++ {
		r.shardStart[i] = pos
		pos += len(cfg.Model.Shards[i].Tensors)
	}
	for key := range cfg.Model.Metadata.All() {
		if !validName(EntryName(key)) {
			r.log.Printf("fs: metadata key %q... (%d bytes) cannot be a file name; only in metadata.json", key[:logNameLen], len(key))
		}
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

// OnAdd makes the top of the tree; tensors/ and metadata/ make their
// entries when looked up (lazytree.go).
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

	dir(&r.Inode, "metadata", &metaDir{plainDir{root: r}})
	file(&r.Inode, "metadata.json", newTextFile(r, "metadata.json", r.writeMetadataJSON))
	file(&r.Inode, "stats.json", &liveFile{root: r, render: r.statsJSON})
	r.addModelIPC(file) // ipc.json (ipc.go)
	dir(&r.Inode, "tensors", &tensorsDir{plainDir{root: r}})
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
