// Package inspect describes a GGUF model for people and programs: header,
// metadata, tensor table and totals, as `ggufs inspect` prints them (text)
// and as docs/inspect-json.md specifies them (JSON).
package inspect

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"slices"

	"github.com/ggufs/ggufs/gguf"
)

// SchemaVersion is bumped on any incompatible change to the JSON
// form (docs/inspect-json.md); adding fields is compatible.
const SchemaVersion = 1

// Report is everything inspect shows. The text form renders it; the
// JSON form is it, field for field (docs/inspect-json.md).
type Report struct {
	SchemaVersion int    `json:"schema_version"`
	Path          string `json:"path"`
	// The header facts of the file named (the first shard of a split model).
	Version    uint32 `json:"version"`
	ByteOrder  string `json:"byte_order"`
	Alignment  uint64 `json:"alignment"`
	DataOffset uint64 `json:"data_offset"`
	FileSize   int64  `json:"file_size"`

	Shards   []Shard  `json:"shards"`
	Metadata []KV     `json:"metadata"`
	Tensors  []Tensor `json:"tensors"`
	Totals   []Total  `json:"totals"`
	Total    Sum      `json:"total"`
	// UnknownTensors counts tensors whose type has no known layout.
	UnknownTensors int `json:"unknown_tensors"`
}

type Shard struct {
	Index        int    `json:"index"`
	Path         string `json:"path"`
	Version      uint32 `json:"version"`
	ByteOrder    string `json:"byte_order"`
	Alignment    uint64 `json:"alignment"`
	DataOffset   uint64 `json:"data_offset"`
	FileSize     int64  `json:"file_size"`
	MetadataKeys int    `json:"metadata_keys"`
	Tensors      int    `json:"tensors"`
}

// KV is one metadata entry. For an array, ElemType and Len are set
// and Value is a JSON array (of Array objects for arrays of arrays).
type KV struct {
	Key       string          `json:"key"`
	Type      string          `json:"type"`
	ElemType  string          `json:"elem_type,omitempty"`
	Len       *int            `json:"len,omitempty"`
	Value     json.RawMessage `json:"value"`
	Truncated bool            `json:"truncated,omitempty"`

	value gguf.Value // for the text form
}

// Array is an array nested in an array.
type Array struct {
	ElemType  string          `json:"elem_type"`
	Len       int             `json:"len"`
	Value     json.RawMessage `json:"value"`
	Truncated bool            `json:"truncated,omitempty"`
}

type Tensor struct {
	Index          int      `json:"index"` // in its file's tensor table
	Shard          int      `json:"shard"`
	Name           string   `json:"name"`
	Type           string   `json:"type"`
	TypeID         uint32   `json:"type_id"`
	Known          bool     `json:"known"`
	Dims           []uint64 `json:"dims"`
	Elements       uint64   `json:"elements"`
	Offset         uint64   `json:"offset"`
	FileOffset     uint64   `json:"file_offset"`
	NBytes         uint64   `json:"nbytes"`
	SizeFromLayout bool     `json:"size_from_layout"`
}

// Total sums the tensors of one type.
type Total struct {
	Type   string `json:"type"`
	TypeID uint32 `json:"type_id"`
	Sum
}

type Sum struct {
	Tensors  int    `json:"tensors"`
	Elements uint64 `json:"elements"`
	NBytes   uint64 `json:"nbytes"`
}

func byteOrderName(o binary.ByteOrder) string {
	if o == binary.BigEndian {
		return "big"
	}
	return "little"
}

// New describes m. With values, each metadata entry carries its
// JSON value (the text report prints summaries only, and encoding a 128k-token
// vocabulary would be most of its run time); maxArray > 0 cuts arrays in those
// values to their first maxArray elements (marking them truncated).
func New(path string, m *gguf.Model, values bool, maxArray int) (*Report, error) {
	r := newHeader(path, m)
	for key, v := range m.Metadata.All() {
		kv, err := entry(key, v, values, maxArray)
		if err != nil {
			return nil, err
		}
		r.Metadata = append(r.Metadata, kv)
	}
	r.Tensors = make([]Tensor, 0, len(m.Tensors))
	for _, t := range m.Tensors {
		row := tensorOf(t)
		row.Dims = append([]uint64{}, t.Dims...) // the report's own
		r.Tensors = append(r.Tensors, row)
	}
	r.sumTensors(m)
	return r, nil
}

// newHeader is a report of m without metadata, tensors or totals.
func newHeader(path string, m *gguf.Model) *Report {
	first := m.Shards[0]
	r := &Report{
		SchemaVersion: SchemaVersion,
		Path:          path,
		Version:       first.Version,
		ByteOrder:     byteOrderName(first.ByteOrder),
		Alignment:     first.Alignment,
		DataOffset:    first.DataOffset,
		FileSize:      first.Size,
		Shards:        []Shard{},
		Metadata:      []KV{},
		Tensors:       []Tensor{},
		Totals:        []Total{},
	}
	for i, f := range m.Shards {
		r.Shards = append(r.Shards, Shard{
			Index: i, Path: f.Path, Version: f.Version, ByteOrder: byteOrderName(f.ByteOrder),
			Alignment: f.Alignment, DataOffset: f.DataOffset, FileSize: f.Size,
			MetadataKeys: f.Metadata.Len(), Tensors: len(f.Tensors),
		})
	}
	return r
}

// tensorOf is t's row of the tensor table; its Dims are t's.
func tensorOf(t *gguf.TensorInfo) Tensor {
	return Tensor{
		Index: t.Index, Shard: t.Shard, Name: t.Name, Type: t.Type.String(), TypeID: uint32(t.Type),
		Known: t.Type.Known(), Dims: t.Dims, Elements: t.Elements(),
		Offset: t.Offset, FileOffset: t.FileOffset, NBytes: t.Size, SizeFromLayout: t.SizeFromLayout,
	}
}

// sumTensors fills the totals by type, the grand total and the count of
// tensors of unknown types.
func (r *Report) sumTensors(m *gguf.Model) {
	totals := map[gguf.Type]*Total{}
	for _, t := range m.Tensors {
		it := Tensor{Type: t.Type.String(), TypeID: uint32(t.Type), Known: t.Type.Known(), Elements: t.Elements(), NBytes: t.Size}
		if !it.Known {
			r.UnknownTensors++
		}
		tot := totals[t.Type]
		if tot == nil {
			tot = &Total{Type: it.Type, TypeID: it.TypeID}
			totals[t.Type] = tot
		}
		for _, x := range []*Sum{&tot.Sum, &r.Total} {
			x.Tensors++
			// Each count fits int64; their sum over tensors of unknown
			// types need not: saturate rather than wrap.
			x.Elements = saturatingAdd(x.Elements, it.Elements)
			x.NBytes = saturatingAdd(x.NBytes, it.NBytes)
		}
	}
	for _, tot := range totals {
		r.Totals = append(r.Totals, *tot)
	}
	// Largest share of the bytes first, as a reader of totals wants.
	slices.SortFunc(r.Totals, func(a, b Total) int {
		if a.NBytes != b.NBytes {
			if a.NBytes > b.NBytes {
				return -1
			}
			return 1
		}
		return int(a.TypeID) - int(b.TypeID)
	})
}

func entry(key string, v gguf.Value, values bool, maxArray int) (KV, error) {
	kv := KV{Key: key, Type: v.Type().String(), value: v}
	if v.Type() == gguf.ValueArray {
		n := v.Len()
		kv.ElemType, kv.Len = v.ElemType().String(), &n
	}
	if !values {
		return kv, nil
	}
	if v.Type() != gguf.ValueArray {
		raw, err := v.MarshalJSON()
		kv.Value = raw
		return kv, err
	}
	raw, truncated, err := arrayJSON(v, maxArray)
	kv.Value, kv.Truncated = raw, truncated
	return kv, err
}

// arrayJSON encodes an array's elements: as gguf.Value's JSON for
// scalars and strings, as Array objects for nested arrays.
func arrayJSON(v gguf.Value, maxArray int) (json.RawMessage, bool, error) {
	n := v.Len()
	truncated := maxArray > 0 && n > maxArray
	if truncated {
		n = maxArray
	}
	if v.ElemType() != gguf.ValueArray && !truncated {
		raw, err := v.MarshalJSON()
		return raw, false, err
	}
	out := []byte{'['}
	for i := 0; i < n; i++ {
		if i > 0 {
			out = append(out, ',')
		}
		e, err := v.Index(i)
		if err != nil {
			return nil, false, err
		}
		var raw []byte
		if e.Type() == gguf.ValueArray {
			inner, t, err := arrayJSON(e, maxArray)
			if err != nil {
				return nil, false, err
			}
			raw, err = json.Marshal(Array{ElemType: e.ElemType().String(), Len: e.Len(), Value: inner, Truncated: t})
			if err != nil {
				return nil, false, err
			}
		} else if raw, err = e.MarshalJSON(); err != nil {
			return nil, false, err
		}
		out = append(out, raw...)
	}
	return append(out, ']'), truncated, nil
}

// saturatingAdd is a+b, or the largest uint64 where that overflows.
func saturatingAdd(a, b uint64) uint64 {
	if sum := a + b; sum >= a {
		return sum
	}
	return math.MaxUint64
}
