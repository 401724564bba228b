package inspect

import (
	"errors"
	"strings"
	"testing"

	"github.com/ggufs/ggufs/gguf"
)

// q6k is a gguf-py dequantization vector: tensor w.a, q6_K, shape [768 2].
const q6k = "../../gguf/testdata/dequant/q6_k.gguf"

func TestWriteDequantPrintsCountValues(t *testing.T) {
	m, err := gguf.OpenModel(q6k)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	var b strings.Builder
	if err := WriteDequant(&b, q6k, m, "w.a", 3); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "w.a: q6_K, shape [768 2]") || !strings.HasPrefix(lines[3], "2 ") {
		t.Errorf("count 3 printed:\n%s\nwant a heading and lines 0 to 2", b.String())
	}
	b.Reset()
	if err := WriteDequant(&b, q6k, m, "w.a", 0); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(b.String(), "\n"); n != 1+768*2 {
		t.Errorf("count 0 printed %d lines, want the heading and all 1536 values", n)
	}
}

func TestWriteDequantNamesWhatIsMissing(t *testing.T) {
	m, err := gguf.OpenModel(q6k)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	err = WriteDequant(&strings.Builder{}, q6k, m, "no.such", 0)
	if err == nil || !strings.HasPrefix(err.Error(), q6k+`: no tensor "no.such"`) {
		t.Errorf("unknown tensor: %v, want an error naming the file and the tensor", err)
	}
	if errors.Is(err, gguf.ErrNoDequantizer) {
		t.Errorf("an unknown tensor is not a missing dequantizer: %v", err)
	}
}
