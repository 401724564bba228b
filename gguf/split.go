package gguf

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"regexp"
	"strconv"
)

// Split-model keys, as llama.cpp's gguf-split writes them (split.no is
// 0-based; the file names count from 1).
const (
	KeySplitNo           = "split.no"
	KeySplitCount        = "split.count"
	KeySplitTensorsCount = "split.tensors.count"
)

// maxShards is the most shards a name can number (five digits).
const maxShards = 99999

// shardName matches PREFIX-00001-of-00005.gguf.
var shardName = regexp.MustCompile(`^(.*)-([0-9]{5})-of-([0-9]{5})\.gguf$`)

// ShardPath returns the path of shard no (0-based) of count for prefix, as
// llama.cpp names them: PREFIX-%05d-of-%05d.gguf.
func ShardPath(prefix string, no, count int) string {
	return fmt.Sprintf("%s-%05d-of-%05d.gguf", prefix, no+1, count)
}

// SplitInfo is what a file says about its place in a split model.
type SplitInfo struct {
	No, Count    int // 0-based shard number, number of shards (1 if not split)
	TensorsCount int // tensors in the whole model (-1 if not stated)
}

// Split reads the split keys. A file without them is shard 0 of 1.
func (f *File) Split() (SplitInfo, error) {
	s := SplitInfo{Count: 1, TensorsCount: -1}
	md := f.Metadata
	get := func(key string, dst *int, max uint64) error {
		if _, ok := md.Get(key); !ok {
			return nil
		}
		v, _ := md.Get(key)
		x, err := md.Uint(key)
		if err != nil {
			// The error names the key already: say only what is wrong.
			return &FormatError{Path: f.Path, Offset: -1, Key: key, TensorIndex: -1,
				Err: detail(ErrSplit, "is %s, not a non-negative integer", v.describeValue())}
		}
		if x > max {
			return &FormatError{Path: f.Path, Offset: -1, Key: key, TensorIndex: -1, Err: detail(ErrSplit, "%d exceeds %d", x, max)}
		}
		*dst = int(x)
		return nil
	}
	if err := get(KeySplitNo, &s.No, maxShards-1); err != nil {
		return s, err
	}
	if err := get(KeySplitCount, &s.Count, maxShards); err != nil {
		return s, err
	}
	if err := get(KeySplitTensorsCount, &s.TensorsCount, maxTensors*maxShards); err != nil {
		return s, err
	}
	if s.Count == 0 {
		s.Count = 1
	}
	if s.No >= s.Count {
		return s, &FormatError{Path: f.Path, Offset: -1, Key: KeySplitNo, TensorIndex: -1,
			Err: detail(ErrSplit, "shard %d of %d", s.No, s.Count)}
	}
	return s, nil
}

// Model is a whole model: one file, or every shard of a split model, seen as
// one tensor set. Metadata is the first shard's. Immutable and safe for
// concurrent use.
type Model struct {
	Shards   []*File
	Metadata *Metadata
	Tensors  []*TensorInfo // shard order, then file order

	byName nameIndex // Tensors by name
}

// OpenModel opens path; when it is one shard of a split model
// (NAME-00001-of-00005.gguf with split.count > 1) it opens every sibling
// and checks that they agree: the same split.count, each shard present once
// with its own split.no, split.tensors.count equal to the tensors found,
// and no tensor name in two shards.
func OpenModel(path string) (*Model, error) { return OpenModelWith(path, Options{}) }

// OpenModelWith is OpenModel with options, which apply to every shard.
func OpenModelWith(path string, o Options) (*Model, error) {
	first, err := OpenWith(path, o)
	if err != nil {
		return nil, err
	}
	info, err := first.Split()
	if err != nil {
		first.Close()
		return nil, err
	}
	m := &Model{Shards: []*File{first}}
	if info.Count > 1 {
		if err := m.openSiblings(path, info, o); err != nil {
			m.Close()
			return nil, err
		}
	}
	if err := m.index(info); err != nil {
		m.Close()
		return nil, err
	}
	return m, nil
}

// openSiblings opens every shard of the model path belongs to, in order.
func (m *Model) openSiblings(path string, info SplitInfo, o Options) error {
	given := m.Shards[0]
	match := shardName.FindStringSubmatch(filepath.Base(path))
	if match == nil {
		return &FormatError{Path: path, Offset: -1, Key: KeySplitCount, TensorIndex: -1,
			Err: detail(ErrSplit, "shard %d of %d, but the name does not end in -NNNNN-of-NNNNN.gguf, so the other shards cannot be found", info.No, info.Count)}
	}
	nameNo, _ := strconv.Atoi(match[2])
	nameCount, _ := strconv.Atoi(match[3])
	if nameCount != info.Count || nameNo != info.No+1 {
		return &FormatError{Path: path, Offset: -1, Key: KeySplitNo, TensorIndex: -1,
			Err: detail(ErrSplit, "file says shard %d of %d but is named %s-of-%s", info.No+1, info.Count, match[2], match[3])}
	}
	prefix := filepath.Join(filepath.Dir(path), match[1])
	m.Shards = make([]*File, info.Count)
	m.Shards[info.No] = given
	for i := range m.Shards {
		if i == info.No {
			continue
		}
		p := ShardPath(prefix, i, info.Count)
		f, err := OpenWith(p, o)
		if err != nil {
			return err // names the shard's path
		}
		m.Shards[i] = f
		si, err := f.Split()
		if err != nil {
			return err
		}
		if si.Count != info.Count || si.No != i || si.TensorsCount != info.TensorsCount {
			return &FormatError{Path: p, Offset: -1, Key: KeySplitNo, TensorIndex: -1,
				Err: detail(ErrSplit, "says shard %d of %d with %d tensors; expected shard %d of %d with %d",
					si.No+1, si.Count, si.TensorsCount, i+1, info.Count, info.TensorsCount)}
		}
	}
	return nil
}

// index builds the tensor set and checks it.
func (m *Model) index(info SplitInfo) error {
	m.Metadata = m.Shards[0].Metadata
	n := 0
	for _, f := range m.Shards {
		n += len(f.Tensors)
	}
	if n > math.MaxInt32 { // the name index holds int32 positions
		return &FormatError{Path: m.Shards[0].Path, Offset: -1, TensorIndex: -1,
			Err: detail(ErrTooLarge, "the shards hold %d tensors, more than %d", n, math.MaxInt32)}
	}
	m.Tensors = make([]*TensorInfo, 0, n)
	for si, f := range m.Shards {
		for _, t := range f.Tensors {
			if t.Shard != si {
				return &FormatError{Path: f.Path, Offset: -1, Tensor: t.Name, TensorIndex: t.Index,
					Err: detail(ErrSplit, "tensor says shard %d, file is shard %d", t.Shard, si)}
			}
			m.Tensors = append(m.Tensors, t)
		}
	}
	name := func(i int) string { return m.Tensors[i].Name }
	m.byName = newNameIndex(len(m.Tensors), name)
	if first, second, dup := m.byName.duplicate(name); dup {
		prev, t := m.Tensors[first], m.Tensors[second]
		f := m.Shards[t.Shard]
		return &FormatError{Path: f.Path, Offset: -1, Tensor: t.Name, TensorIndex: t.Index,
			Err: detail(ErrDuplicate, "tensor name also in shard %d (%s)", prev.Shard+1, m.Shards[prev.Shard].Path)}
	}
	if info.Count > 1 && info.TensorsCount >= 0 && info.TensorsCount != n {
		return &FormatError{Path: m.Shards[0].Path, Offset: -1, Key: KeySplitTensorsCount, TensorIndex: -1,
			Err: detail(ErrSplit, "%s is %d but the shards hold %d tensors", KeySplitTensorsCount, info.TensorsCount, n)}
	}
	return nil
}

// Tensor looks a tensor up by name across all shards.
func (m *Model) Tensor(name string) (*TensorInfo, bool) {
	i, ok := m.byName.find(name, func(i int) string { return m.Tensors[i].Name })
	if !ok {
		return nil, false
	}
	return m.Tensors[i], true
}

// TensorBytes returns t's bytes from its shard, as File.TensorBytes.
func (m *Model) TensorBytes(t *TensorInfo) ([]byte, error) {
	if t.Shard < 0 || t.Shard >= len(m.Shards) {
		return nil, fmt.Errorf("gguf: tensor %q: shard %d of %d", t.Name, t.Shard, len(m.Shards))
	}
	return m.Shards[t.Shard].TensorBytes(t)
}

// Close closes every shard.
func (m *Model) Close() error {
	var errs []error
	for _, f := range m.Shards {
		if f != nil {
			errs = append(errs, f.Close())
		}
	}
	return errors.Join(errs...)
}
