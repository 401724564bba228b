package main

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ggufs/ggufs/synth"
)

// dequantVectors is gguf-py's dequantization vectors (gguf/testdata/dequant).
const dequantVectors = "../../gguf/testdata/dequant"

// printedValues parses --dequant's "index value" lines after its heading.
func printedValues(t *testing.T, out string) []float32 {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	var vals []float32
	for i, line := range lines[1:] {
		idx, val, ok := strings.Cut(line, " ")
		if !ok || idx != strconv.Itoa(i) {
			t.Fatalf("line %q, want %d VALUE", line, i)
		}
		v, err := strconv.ParseFloat(val, 32)
		if err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		vals = append(vals, float32(v))
	}
	return vals
}

// --dequant prints a tensor's first values exactly (each reads back as the
// same float32), --count limits them (before or after FILE), 0 means all.
func TestInspectDequantPrintsFirstValues(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(dequantVectors, "q6_k.w.a.f32"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dequantVectors, "q6_k.gguf")
	all := len(raw) / 4
	for _, c := range []struct {
		args []string
		want int
	}{
		{[]string{"inspect", "--dequant", "w.a", "--count", "5", path}, 5},
		{[]string{"inspect", path, "--dequant", "w.a", "--count", "5"}, 5},
		{[]string{"inspect", "--dequant", "w.a", "--count", "0", path}, all},
		{[]string{"inspect", "--dequant", "w.a", path}, defaultDequantCount},
	} {
		args, want := c.args, c.want
		out, code := genCLI(t, args...)
		if code != exitOK {
			t.Fatalf("%v: exit %d: %s", args, code, out)
		}
		if !strings.HasPrefix(out, "w.a: q6_K, shape [768 2]") {
			t.Errorf("%v: heading %q", args, strings.SplitN(out, "\n", 2)[0])
		}
		got := printedValues(t, out)
		if len(got) != want {
			t.Fatalf("%v: %d values, want %d", args, len(got), want)
		}
		for i, v := range got {
			if w := binary.LittleEndian.Uint32(raw[4*i:]); math.Float32bits(v) != w {
				t.Fatalf("%v: value %d = %#08x, want %#08x", args, i, math.Float32bits(v), w)
			}
		}
	}
}

func TestInspectDequantErrors(t *testing.T) {
	path := zooInDir(t, synth.Options{})
	for _, c := range []struct {
		args []string
		code int
		says string
	}{
		{[]string{"inspect", "--dequant", "no.such.tensor", path}, exitError, `no tensor "no.such.tensor"`},
		{[]string{"inspect", "--dequant", "zoo.i32", path}, exitError, "no float32 conversion"},
		{[]string{"inspect", "--dequant", "zoo.q4_0", "--count", "-1", path}, exitUsage, "--count must be 0 or more"},
	} {
		out, code := genCLI(t, c.args...)
		if code != c.code || !strings.Contains(out, c.says) {
			t.Errorf("%v: exit %d, %q; want exit %d saying %q", c.args, code, out, c.code, c.says)
		}
	}
}
