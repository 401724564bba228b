package main

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"slices"

	"github.com/ggufs/ggufs/gguf"
)

// inspectSchemaVersion is bumped on any incompatible change to the JSON
// form (docs/inspect-json.md); adding fields is compatible.
const inspectSchemaVersion = 1

// inspectReport is everything inspect shows. The text form renders it; the
// JSON form is it, field for field (docs/inspect-json.md).
type inspectReport struct {
	SchemaVersion int    `json:"schema_version"`
	Path          string `json:"path"`
	// The header facts of the file named (the first shard of a split model).
	Version    uint32 `json:"version"`
	ByteOrder  string `json:"byte_order"`
	Alignment  uint64 `json:"alignment"`
	DataOffset uint64 `json:"data_offset"`
	FileSize   int64  `json:"file_size"`

	Shards   []inspectShard  `json:"shards"`
	Metadata []inspectKV     `json:"metadata"`
	Tensors  []inspectTensor `json:"tensors"`
	Totals   []inspectTotal  `json:"totals"`
	Total    inspectSum      `json:"total"`
	// UnknownTensors counts tensors whose type has no known layout.
	UnknownTensors int `json:"unknown_tensors"`
}

type inspectShard struct {
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

// inspectKV is one metadata entry. For an array, ElemType and Len are set
// and Value is a JSON array (of inspectArray objects for arrays of arrays).
type inspectKV struct {
	Key       string          `json:"key"`
	Type      string          `json:"type"`
	ElemType  string          `json:"elem_type,omitempty"`
	Len       *int            `json:"len,omitempty"`
	Value     json.RawMessage `json:"value"`
	Truncated bool            `json:"truncated,omitempty"`

	value gguf.Value // for the text form
}

// inspectArray is an array nested in an array.
type inspectArray struct {
	ElemType  string          `json:"elem_type"`
	Len       int             `json:"len"`
	Value     json.RawMessage `json:"value"`
	Truncated bool            `json:"truncated,omitempty"`
}

type inspectTensor struct {
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

// inspectTotal sums the tensors of one type.
type inspectTotal struct {
	Type   string `json:"type"`
	TypeID uint32 `json:"type_id"`
	inspectSum
}

type inspectSum struct {
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

// newInspectReport describes m. With values, each metadata entry carries its
// JSON value (the text report prints summaries only, and encoding a 128k-token
// vocabulary would be most of its run time); maxArray > 0 cuts arrays in those
// values to their first maxArray elements (marking them truncated).
func newInspectReport(path string, m *gguf.Model, values bool, maxArray int) (*inspectReport, error) {
	first := m.Shards[0]
	r := &inspectReport{
		SchemaVersion: inspectSchemaVersion,
		Path:          path,
		Version:       first.Version,
		ByteOrder:     byteOrderName(first.ByteOrder),
		Alignment:     first.Alignment,
		DataOffset:    first.DataOffset,
		FileSize:      first.Size,
		Shards:        []inspectShard{},
		Metadata:      []inspectKV{},
		Tensors:       make([]inspectTensor, 0, len(m.Tensors)),
		Totals:        []inspectTotal{},
	}
	for i, f := range m.Shards {
		r.Shards = append(r.Shards, inspectShard{
			Index: i, Path: f.Path, Version: f.Version, ByteOrder: byteOrderName(f.ByteOrder),
			Alignment: f.Alignment, DataOffset: f.DataOffset, FileSize: f.Size,
			MetadataKeys: f.Metadata.Len(), Tensors: len(f.Tensors),
		})
	}
	for key, v := range m.Metadata.All() {
		kv, err := inspectEntry(key, v, values, maxArray)
		if err != nil {
			return nil, err
		}
		r.Metadata = append(r.Metadata, kv)
	}
	totals := map[gguf.Type]*inspectTotal{}
	for _, t := range m.Tensors {
		it := inspectTensor{
			Index: t.Index, Shard: t.Shard, Name: t.Name, Type: t.Type.String(), TypeID: uint32(t.Type),
			Known: t.Type.Known(), Dims: append([]uint64{}, t.Dims...), Elements: t.Elements(),
			Offset: t.Offset, FileOffset: t.FileOffset, NBytes: t.Size, SizeFromLayout: t.SizeFromLayout,
		}
		r.Tensors = append(r.Tensors, it)
		if !it.Known {
			r.UnknownTensors++
		}
		tot := totals[t.Type]
		if tot == nil {
			tot = &inspectTotal{Type: it.Type, TypeID: it.TypeID}
			totals[t.Type] = tot
		}
		for _, x := range []*inspectSum{&tot.inspectSum, &r.Total} {
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
	slices.SortFunc(r.Totals, func(a, b inspectTotal) int {
		if a.NBytes != b.NBytes {
			if a.NBytes > b.NBytes {
				return -1
			}
			return 1
		}
		return int(a.TypeID) - int(b.TypeID)
	})
	return r, nil
}

func inspectEntry(key string, v gguf.Value, values bool, maxArray int) (inspectKV, error) {
	kv := inspectKV{Key: key, Type: v.Type().String(), value: v}
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
	raw, truncated, err := inspectArrayJSON(v, maxArray)
	kv.Value, kv.Truncated = raw, truncated
	return kv, err
}

// inspectArrayJSON encodes an array's elements: as gguf.Value's JSON for
// scalars and strings, as inspectArray objects for nested arrays.
func inspectArrayJSON(v gguf.Value, maxArray int) (json.RawMessage, bool, error) {
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
			inner, t, err := inspectArrayJSON(e, maxArray)
			if err != nil {
				return nil, false, err
			}
			raw, err = json.Marshal(inspectArray{ElemType: e.ElemType().String(), Len: e.Len(), Value: inner, Truncated: t})
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
