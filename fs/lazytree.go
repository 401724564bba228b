package fs

import (
	"context"
	"syscall"

	fusefs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/ggufs/ggufs/gguf"
)

// tensors/ and metadata/ make their nodes when the kernel looks them up and
// let it forget them again: a header of 2^20 tensors would otherwise cost
// about ten inodes a tensor before the first request (gigabytes for a 43 MB
// file). Lookups go through the model's sorted name indexes (O(log n)),
// listings are produced entry by entry from the model, and every node gets an
// inode number derived from its position, so a node forgotten and looked up
// again is the same file to find(1) and du(1).

// Inode numbers of the on-demand nodes: metadata files from metaInoBase by
// key position, tensor directories and their files from tensorInoBase,
// tensorInoSlots numbers a tensor (0 its directory, then its files in
// tensorFiles order). go-fuse numbers the nodes made in OnAdd from 1<<63.
const (
	metaInoBase    = 1 << 60
	tensorInoBase  = 1 << 61
	tensorInoSlots = 16
)

// tensorIno is the inode number of slot of the tensor at position pos of the
// model's tensor list.
func tensorIno(pos int, slot int) uint64 {
	return tensorInoBase + uint64(pos)*tensorInoSlots + uint64(slot)
}

// tensorPos is t's position in cfg.Model.Tensors (shard order, then file
// order).
func (r *Root) tensorPos(t *gguf.TensorInfo) int { return r.shardStart[t.Shard] + t.Index }

// decodeEntry returns the name an entry shows, or false when no name is
// shown under that entry: not EntryName's encoding of anything (so "%41"
// does not alias "A") or too long to be an entry.
func decodeEntry(entry string) (string, bool) {
	name, err := OriginalName(entry)
	if err != nil || EntryName(name) != entry || !validName(entry) {
		return "", false
	}
	return name, true
}

// lookupTensor returns the entry of the tensor named name when the tree
// shows it. Entries are made per call (shape, dtype and .npy header are a
// few short strings): nothing is kept for tensors nobody looks at.
func (r *Root) lookupTensor(name string) (*tensorEntry, bool) {
	t, ok := r.cfg.Model.Tensor(name)
	if !ok {
		return nil, false
	}
	entry := EntryName(name)
	if !validName(entry) {
		return nil, false
	}
	return r.newTensorEntry(t, entry), true
}

func (r *Root) newTensorEntry(t *gguf.TensorInfo, entry string) *tensorEntry {
	e := &tensorEntry{info: t, entry: entry, shape: joinDims(t.Dims), dtype: t.Type.String()}
	e.npy, _ = npyHeader(t.Type, t.Dims, r.cfg.Model.Shards[t.Shard].ByteOrder) // a Model's shard indices are valid
	return e
}

// newChild makes node the child inode that answers a lookup, with the
// attributes the node reports (live files their own short timeout).
func newChild(ctx context.Context, parent *fusefs.Inode, node fusefs.InodeEmbedder, attr fusefs.StableAttr, out *fuse.EntryOut) (*fusefs.Inode, syscall.Errno) {
	ch := parent.NewInode(ctx, node, attr)
	if g, ok := node.(fusefs.NodeGetattrer); ok {
		var a fuse.AttrOut
		if errno := g.Getattr(ctx, nil, &a); errno != 0 {
			return nil, errno
		}
		out.Attr = a.Attr
		if t := a.Timeout(); t > 0 {
			out.SetAttrTimeout(t)
		}
	}
	return ch, 0
}

// entryStream is a DirStream that asks next for each entry in turn, so a
// listing never holds more than the entry being sent.
type entryStream struct {
	n    int // positions 0..n-1
	at   int
	next func(i int) (fuse.DirEntry, bool) // false: position i is not shown
	have *fuse.DirEntry                    // the next entry, found by HasNext
}

func (s *entryStream) HasNext() bool {
	for s.have == nil && s.at < s.n {
		e, ok := s.next(s.at)
		s.at++
		if ok {
			s.have = &e
		}
	}
	return s.have != nil
}

func (s *entryStream) Next() (fuse.DirEntry, syscall.Errno) {
	if !s.HasNext() {
		return fuse.DirEntry{}, syscall.ENOENT
	}
	e := *s.have
	s.have = nil
	return e, 0
}

func (s *entryStream) Close() {}

// tensorsDir is tensors/: one directory per shown tensor, made on lookup.
type tensorsDir struct {
	plainDir
}

var (
	_ = (fusefs.NodeLookuper)((*tensorsDir)(nil))
	_ = (fusefs.NodeReaddirer)((*tensorsDir)(nil))
)

func (d *tensorsDir) Lookup(ctx context.Context, entry string, out *fuse.EntryOut) (*fusefs.Inode, syscall.Errno) {
	name, ok := decodeEntry(entry)
	if !ok {
		return nil, syscall.ENOENT
	}
	t, ok := d.plainDir.root.lookupTensor(name)
	if !ok {
		return nil, syscall.ENOENT
	}
	x := tensorXattrs{root: d.plainDir.root, tensor: t}
	node := &tensorDir{plainDir: plainDir{root: d.root}, tensorXattrs: x}
	attr := fusefs.StableAttr{Mode: syscall.S_IFDIR, Ino: tensorIno(d.plainDir.root.tensorPos(t.info), 0)}
	return newChild(ctx, &d.Inode, node, attr, out)
}

func (d *tensorsDir) Readdir(ctx context.Context) (fusefs.DirStream, syscall.Errno) {
	r := d.root
	return &entryStream{n: len(r.tensors), next: func(i int) (fuse.DirEntry, bool) {
		t := r.tensors[i] // shown tensors only
		return fuse.DirEntry{Name: EntryName(t.Name), Mode: syscall.S_IFDIR, Ino: tensorIno(r.tensorPos(t), 0)}, true
	}}, 0
}

// tensorFile is one file of a tensor's directory.
type tensorFile struct {
	name string
	node fusefs.InodeEmbedder
}

// tensorFiles lists the files of t's directory, in a fixed order per tensor
// (their inode slots): data, data.npy, shape, dtype, status, then ipc and
// the float views where the tensor has them.
func (r *Root) tensorFiles(t *tensorEntry) []tensorFile {
	files := make([]tensorFile, 0, 9)
	add := func(_ *fusefs.Inode, name string, node fusefs.InodeEmbedder) *fusefs.Inode {
		files = append(files, tensorFile{name: name, node: node})
		return nil
	}
	x := tensorXattrs{root: r, tensor: t}
	add(nil, "data", &dataFile{tensorXattrs: x})
	if t.npy != nil {
		add(nil, "data.npy", &dataFile{tensorXattrs: x, header: t.npy})
	}
	add(nil, "shape", newTextFile(r, "shape", constText(t.shape+"\n")))
	add(nil, "dtype", newTextFile(r, "dtype", constText(t.dtype+"\n")))
	add(nil, "status", &liveFile{root: r, render: func() []byte { return []byte(r.status(t) + "\n") }})
	r.addTensorIPC(nil, t, add)   // ipc (ipc.go)
	addFloatViews(r, nil, t, add) // f32, f32.npy (views.go)
	return files
}

var (
	_ = (fusefs.NodeLookuper)((*tensorDir)(nil))
	_ = (fusefs.NodeReaddirer)((*tensorDir)(nil))
)

func (d *tensorDir) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fusefs.Inode, syscall.Errno) {
	pos := d.plainDir.root.tensorPos(d.tensor.info)
	for i, f := range d.plainDir.root.tensorFiles(d.tensor) {
		if f.name == name {
			return newChild(ctx, &d.plainDir.Inode, f.node, fusefs.StableAttr{Mode: syscall.S_IFREG, Ino: tensorIno(pos, i+1)}, out)
		}
	}
	return nil, syscall.ENOENT
}

func (d *tensorDir) Readdir(ctx context.Context) (fusefs.DirStream, syscall.Errno) {
	pos := d.plainDir.root.tensorPos(d.tensor.info)
	files := d.plainDir.root.tensorFiles(d.tensor)
	entries := make([]fuse.DirEntry, len(files))
	for i, f := range files {
		entries[i] = fuse.DirEntry{Name: f.name, Mode: syscall.S_IFREG, Ino: tensorIno(pos, i+1)}
	}
	return fusefs.NewListDirStream(entries), 0
}

// pageCachedFiles returns the inodes of the tensor shown as entry whose
// pages the kernel may cache (data, data.npy) and that the kernel still
// knows: one it never looked up or has forgotten caches nothing.
func (r *Root) pageCachedFiles(entry string) []*fusefs.Inode {
	tensors := r.GetChild("tensors")
	if tensors == nil {
		return nil
	}
	dir := tensors.GetChild(entry)
	if dir == nil {
		return nil
	}
	var files []*fusefs.Inode
	for _, name := range []string{"data", "data.npy"} {
		if f := dir.GetChild(name); f != nil {
			files = append(files, f)
		}
	}
	return files
}

// metaDir is metadata/: one file per shown key, made on lookup.
type metaDir struct {
	plainDir
}

var (
	_ = (fusefs.NodeLookuper)((*metaDir)(nil))
	_ = (fusefs.NodeReaddirer)((*metaDir)(nil))
)

func (d *metaDir) Lookup(ctx context.Context, entry string, out *fuse.EntryOut) (*fusefs.Inode, syscall.Errno) {
	key, ok := decodeEntry(entry)
	if !ok {
		return nil, syscall.ENOENT
	}
	md := d.plainDir.root.cfg.Model.Metadata
	i, ok := md.Index(key)
	if !ok {
		return nil, syscall.ENOENT
	}
	node := newTextFile(d.plainDir.root, "metadata/"+entry, md.At(i).Value.WriteText)
	return newChild(ctx, &d.Inode, node, fusefs.StableAttr{Mode: syscall.S_IFREG, Ino: metaInoBase + uint64(i)}, out)
}

func (d *metaDir) Readdir(ctx context.Context) (fusefs.DirStream, syscall.Errno) {
	md := d.plainDir.root.cfg.Model.Metadata
	return &entryStream{n: md.Len(), next: func(i int) (fuse.DirEntry, bool) {
		entry := EntryName(md.At(i).Key)
		if !validName(entry) {
			return fuse.DirEntry{}, false
		}
		return fuse.DirEntry{Name: entry, Mode: syscall.S_IFREG, Ino: metaInoBase + uint64(i)}, true
	}}, 0
}

// logNameLen is how much of a name too long for an entry the log quotes
// (with its length): enough to recognise it, not a 64 KiB line.
const logNameLen = 64
