package e2e

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/ggufs/ggufs/gguf"
	"github.com/ggufs/ggufs/synth"
)

// npyTypes are the ggml types with a numpy equivalent, by numpy code.
var npyTypes = map[gguf.Type]string{
	gguf.TypeF32: "f4", gguf.TypeF16: "f2", gguf.TypeF64: "f8",
	gguf.TypeI8: "i1", gguf.TypeI16: "i2", gguf.TypeI32: "i4", gguf.TypeI64: "i8",
	gguf.TypeBF16: "u2", // numpy has no bfloat16: its bits (docs/views.md)
}

// Every tensor of every ggml type reads back as the file's bytes, in both
// byte orders; data.npy exists exactly for numpy's types and carries the same
// bytes after a header naming the type, byte order and reversed shape.
func TestEveryDtypeReadsBack(t *testing.T) {
	for _, order := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		t.Run(order.String(), func(t *testing.T) {
			mdl := genModel(t, synth.Options{Preset: "zoo", Seed: 21, ByteOrder: order})
			m := startMount(t, mdl.path)
			types := map[gguf.Type]bool{}
			for _, ti := range mdl.tensors {
				dir := tensorDir(m.dir, ti.Name)
				got, err := os.ReadFile(filepath.Join(dir, "data"))
				if ti.Uploadable() != nil {
					if !errors.Is(err, syscall.EIO) {
						t.Errorf("%s (type %s without a layout): %v, want EIO", ti.Name, ti.Type, err)
					}
					continue
				}
				types[ti.Type] = true
				if err != nil || !bytes.Equal(got, mdl.data(ti)) {
					t.Errorf("%s (%s): data differs from the file (%v)", ti.Name, ti.Type, err)
				}
				npy, err := os.ReadFile(filepath.Join(dir, "data.npy"))
				code, ok := npyTypes[ti.Type]
				if !ok {
					if !errors.Is(err, os.ErrNotExist) {
						t.Errorf("%s (%s): data.npy: %v, want none", ti.Name, ti.Type, err)
					}
					continue
				}
				checkNpy(t, ti, npy, code, order, mdl.data(ti))
			}
			for _, tr := range gguf.Types() {
				if !types[tr.Type] {
					t.Errorf("type %s was not read", tr.Name)
				}
			}
			// Loading everything leaves out the tensor no device can hold.
			if _, stderr, code := run(t, bin, "load", m.dir); code != 0 || !strings.Contains(stderr, "skipping 1 tensors") {
				t.Errorf("ggufs load of the zoo: exit %d, %q", code, stderr)
			}
		})
	}
}

func checkNpy(t *testing.T, ti *gguf.TensorInfo, npy []byte, code string, order binary.ByteOrder, want []byte) {
	t.Helper()
	if len(npy) < 10 || !bytes.HasPrefix(npy, []byte("\x93NUMPY\x01\x00")) {
		t.Errorf("%s: data.npy has no npy 1.0 header", ti.Name)
		return
	}
	hlen := 10 + int(binary.LittleEndian.Uint16(npy[8:10]))
	if hlen%64 != 0 || hlen > len(npy) || !bytes.Equal(npy[hlen:], want) {
		t.Errorf("%s: data.npy header length %d, or bytes after it differ", ti.Name, hlen)
		return
	}
	endian := "<"
	if code == "i1" {
		endian = "|"
	} else if order == binary.BigEndian {
		endian = ">"
	}
	shape := make([]string, 0, len(ti.Dims))
	for i := len(ti.Dims) - 1; i >= 0; i-- {
		shape = append(shape, dims(ti.Dims[i : i+1])[0])
	}
	tuple := strings.Join(shape, ", ")
	if len(shape) == 1 {
		tuple += ","
	}
	dict := string(npy[10:hlen])
	for _, part := range []string{"'descr': '" + endian + code + "'", "'fortran_order': False", "'shape': (" + tuple + ")"} {
		if !strings.Contains(dict, part) {
			t.Errorf("%s: npy header %q lacks %s", ti.Name, dict, part)
		}
	}
}
