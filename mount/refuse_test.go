package mount

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ggufs/ggufs/gguf"
)

func TestCheckEmpty(t *testing.T) {
	dir := t.TempDir()
	if err := checkEmpty(dir); err != nil {
		t.Fatalf("empty directory: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	err := checkEmpty(dir)
	if !errors.Is(err, ErrNotEmpty) || !strings.Contains(err.Error(), "notes.txt") || !strings.Contains(err.Error(), "--nonempty") {
		t.Errorf("non-empty directory: %v, want ErrNotEmpty naming notes.txt and --nonempty", err)
	}
}

func TestCheckBudget(t *testing.T) {
	tensors := []*gguf.TensorInfo{
		{Name: "small", Type: gguf.TypeF32, Dims: []uint64{4}, Size: 16},
		{Name: "big", Type: gguf.TypeF32, Dims: []uint64{1024}, Size: 4096},
	}
	if err := checkBudget(4096, tensors); err != nil {
		t.Errorf("budget = largest tensor: %v", err)
	}
	err := checkBudget(4095, tensors)
	if !errors.Is(err, ErrBudgetTooSmall) || !strings.Contains(err.Error(), `"big"`) || !strings.Contains(err.Error(), "--cache-size 4096") {
		t.Errorf("budget below the largest tensor: %v, want ErrBudgetTooSmall naming big and 4096", err)
	}
	if err := checkBudget(1, nil); err != nil {
		t.Errorf("no tensors: %v", err)
	}
}
