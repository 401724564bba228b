package inspect

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/ggufs/ggufs/gguf"
	"github.com/ggufs/ggufs/synth"
)

// encodeReport is the JSON form as New's report encodes: the reference
// WriteJSON must match byte for byte.
func encodeReport(t *testing.T, path string, m *gguf.Model, maxArray int) []byte {
	t.Helper()
	r, err := New(path, m, true, maxArray)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func mustArray(t *testing.T, elem gguf.ValueType, vals ...gguf.Value) gguf.Value {
	t.Helper()
	v, err := gguf.NewArray(elem, vals)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// oddModel writes a model whose metadata has what the JSON form treats
// specially: arrays of arrays (to three levels, empty ones included),
// strings HTML and JSON escape, empty arrays, and a tensor.
func oddModel(t *testing.T) string {
	t.Helper()
	strs, err := gguf.NewStringArray([]string{"<a>&b", "line\u2028sep\u2029", "\"q\"\\", "", "é\x01"})
	if err != nil {
		t.Fatal(err)
	}
	empty := mustArray(t, gguf.ValueUint8)
	nested := mustArray(t, gguf.ValueArray, strs, empty, gguf.NewInt32Array([]int32{-1, 2, 3}))
	deep := mustArray(t, gguf.ValueArray, nested, mustArray(t, gguf.ValueArray), nested)
	md := []gguf.KV{
		{Key: "html<&>key", Value: gguf.NewString("<b>&amp;\u2028")},
		{Key: "strings", Value: strs},
		{Key: "empty", Value: empty},
		{Key: "nested", Value: nested},
		{Key: "deep", Value: deep},
		{Key: "floats", Value: gguf.NewFloat32Array([]float32{0.5, -1e-7, 3e38})},
		{Key: "bool", Value: gguf.NewBool(true)},
	}
	path := filepath.Join(t.TempDir(), "odd.gguf")
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	w, err := gguf.NewWriter(out, md, []gguf.TensorSpec{{Name: "t<0>", Type: gguf.TypeF32, Dims: []uint64{2, 3}}}, gguf.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.SkipTensor("t<0>"); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// WriteJSON writes, as it goes, the very bytes the report's encoder makes,
// whole arrays or cut, nested or not.
func TestWriteJSONMatchesTheEncodedReport(t *testing.T) {
	zoo := filepath.Join(t.TempDir(), "zoo.gguf")
	if _, err := synth.GenerateFile(zoo, synth.Options{Preset: "zoo"}); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{zoo, oddModel(t)} {
		m, err := gguf.OpenModel(path)
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		for _, maxArray := range []int{0, 1, 2, 3, 1000} {
			want := encodeReport(t, path, m, maxArray)
			var got bytes.Buffer
			if err := WriteJSON(&got, path, m, maxArray); err != nil {
				t.Fatalf("%s, max %d: %v", path, maxArray, err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("%s, max %d: WriteJSON differs from the encoded report at byte %d:\n got %q\nwant %q",
					filepath.Base(path), maxArray, firstDiff(got.Bytes(), want), around(got.Bytes(), want), around(want, got.Bytes()))
			}
		}
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func around(a, b []byte) []byte {
	i := firstDiff(a, b)
	return a[max(0, i-80):min(len(a), i+80)]
}

// The indenter, fed any split of a compact JSON text, writes what
// json.Indent does.
func FuzzIndenter(f *testing.F) {
	for _, s := range []string{`{}`, `[]`, `{"a":[1,{"b":[]},{}],"c":"x,:{}[]\"\\"}`, `[[[]],[{}],"\u2028"]`, `"s"`, `1`, `{"k":{"j":null}}`} {
		f.Add([]byte(s), uint8(3))
	}
	f.Fuzz(func(t *testing.T, doc []byte, split uint8) {
		var compact bytes.Buffer
		if err := json.Compact(&compact, doc); err != nil {
			return // only valid JSON is ever written to it
		}
		var want bytes.Buffer
		if err := json.Indent(&want, compact.Bytes(), "", "  "); err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		d := newIndenter(&got, "", "  ")
		b := compact.Bytes()
		step := int(split)%7 + 1
		for len(b) > 0 {
			n := min(step, len(b))
			d.Write(b[:n])
			b = b[n:]
		}
		if err := d.Flush(); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Errorf("indenting %q:\n got %q\nwant %q", compact.Bytes(), got.Bytes(), want.Bytes())
		}
	})
}

// The escaper, fed any split, escapes as json.Marshal compacts a RawMessage.
func FuzzHTMLEscaper(f *testing.F) {
	for _, s := range []string{`"<a>&b"`, "\"\u2028\u2029\"", "\"\xe2\x80\"", "\"\xe2\xe2\x80\xa8\"", `"plain"`} {
		f.Add([]byte(s), uint8(1))
	}
	f.Fuzz(func(t *testing.T, doc []byte, split uint8) {
		if !json.Valid(doc) {
			return
		}
		want, err := json.Marshal(json.RawMessage(doc))
		if err != nil {
			t.Fatal(err)
		}
		var compact bytes.Buffer
		json.Compact(&compact, doc)
		var got bytes.Buffer
		h := &htmlEscaper{w: &got}
		b := compact.Bytes()
		step := int(split)%5 + 1
		for len(b) > 0 {
			n := min(step, len(b))
			h.Write(b[:n])
			b = b[n:]
		}
		if err := h.flush(); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want) {
			t.Errorf("escaping %q:\n got %q\nwant %q", compact.Bytes(), got.Bytes(), want)
		}
	})
}
