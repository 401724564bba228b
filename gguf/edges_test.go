package gguf

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// Each limit checked at its edge: one byte, one level or one tensor on either
// side, so a check off by one fails here.

func TestOverlapByOneByte(t *testing.T) {
	i8 := func(name string, n, off uint64) tspec {
		return tspec{name: name, dims: []uint64{n}, typ: TypeI8, offset: off}
	}
	// b starts at 32: a of 32 bytes touches it, a of 33 overlaps its first byte.
	mustParse(t, tensorFile([]tspec{i8("a", 32, 0), i8("b", 32, 32)}, 64))
	_, err := parseBytes(tensorFile([]tspec{i8("a", 33, 0), i8("b", 32, 32)}, 64))
	if fe := wantFormatError(t, err, ErrOverlap); fe.Tensor != "a" {
		t.Errorf("overlap of one byte reported on %q", fe.Tensor)
	}
}

func TestZeroDimUnknownType(t *testing.T) {
	for _, dims := range [][]uint64{{0}, {4, 0}} {
		_, err := parseBytes(tensorFile([]tspec{{name: "u", dims: dims, typ: Type(99)}}, 64))
		if fe := wantFormatError(t, err, ErrDims); fe.Tensor != "u" {
			t.Errorf("dims %v: tensor %q", dims, fe.Tensor)
		}
	}
	mustParse(t, tensorFile([]tspec{{name: "u", dims: []uint64{4, 1}, typ: Type(99)}}, 64))
}

// nestedArrays is a file with one key holding arrays nested levels deep (1:
// a plain array of uint8).
func nestedArrays(levels int) []byte {
	e := le(0, 1)
	e.str("k")
	e.u32(uint32(ValueArray))
	for i := 0; i < levels-1; i++ {
		e.u32(uint32(ValueArray))
		e.count(1)
	}
	e.u32(uint32(ValueUint8))
	e.count(0)
	return e.b
}

func TestNestingAtTheLimit(t *testing.T) {
	mustParse(t, nestedArrays(maxArrayDepth))
	_, err := parseBytes(nestedArrays(maxArrayDepth + 1))
	if fe := wantFormatError(t, err, ErrNesting); fe.Key != "k" {
		t.Errorf("key %q", fe.Key)
	}
}

func TestSplitTensorCountBothWays(t *testing.T) {
	total := 0
	for _, ns := range threeShards {
		total += len(ns)
	}
	for _, declared := range []int{total - 1, total + 1} {
		paths := writeShards(t, t.TempDir(), threeShards, func(i int, kvs []KV) []KV {
			for j := range kvs {
				if kvs[j].Key == KeySplitTensorsCount {
					kvs[j].Value = NewInt32(int32(declared))
				}
			}
			return kvs
		})
		_, err := OpenModel(paths[0])
		if fe := wantFormatError(t, err, ErrSplit); fe.Key != KeySplitTensorsCount {
			t.Errorf("declared %d of %d: key %q", declared, total, fe.Key)
		}
	}
	paths := writeShards(t, t.TempDir(), threeShards, nil)
	m, err := OpenModel(paths[0])
	if err != nil {
		t.Fatalf("declared %d of %d: %v", total, total, err)
	}
	m.Close()
}

// A file cut by one byte below the last tensor's end is truncated; one that
// still reaches it exactly is not.
func TestShrunkByOneByte(t *testing.T) {
	ts := sequential(32, tspec{name: "a", dims: []uint64{8}, typ: TypeF32}, tspec{name: "b", dims: []uint64{8}, typ: TypeF32})
	b := tfile{tensors: ts}.bytes()
	path := filepath.Join(t.TempDir(), "m.gguf")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	last := f.Tensors[1]
	end := last.FileOffset + last.Size
	if end != uint64(len(b)) {
		t.Fatalf("the last tensor ends at %d, the file at %d: the test needs them equal", end, len(b))
	}
	if _, err := f.TensorBytes(last); err != nil {
		t.Fatalf("TensorBytes of the tensor that ends the file: %v", err)
	}
	if err := os.Truncate(path, int64(end-1)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.TensorBytes(last); !errors.Is(err, ErrTruncated) {
		t.Fatalf("TensorBytes after cutting one byte = %v; want ErrTruncated", err)
	}
}
