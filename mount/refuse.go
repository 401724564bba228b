package mount

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/ggufs/ggufs/gguf"
	"github.com/ggufs/ggufs/internal/units"
)

// Why a mount is refused before it is made; test with errors.Is.
var (
	// ErrNotEmpty: the mountpoint holds files the mount would hide.
	ErrNotEmpty = errors.New("not empty")
	// ErrBudgetTooSmall: the cache could never hold the largest tensor.
	ErrBudgetTooSmall = errors.New("cache size smaller than the largest tensor")
)

// checkEmpty refuses a mountpoint with entries: a mount would hide them
// until unmounted, which surprises more than it helps (NonEmpty allows it).
func checkEmpty(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("mountpoint: %w", err)
	}
	defer d.Close()
	names, err := d.Readdirnames(3)
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("mountpoint %s: %w", dir, err)
	}
	if len(names) == 0 {
		return nil
	}
	list := strings.Join(names, ", ")
	if len(names) == 3 {
		list += ", …"
	}
	return fmt.Errorf("mountpoint %s is %w (it holds %s): the mount would hide that; mount with --nonempty to do it anyway", dir, ErrNotEmpty, list)
}

// checkBudget refuses a cache that could never hold the largest tensor the
// tree serves: every read of it would fail. It names the tensor and the size
// needed.
func checkBudget(budget uint64, tensors []*gguf.TensorInfo) error {
	var largest *gguf.TensorInfo
	for _, t := range tensors {
		if t.Uploadable() == nil && (largest == nil || t.Size > largest.Size) {
			largest = t
		}
	}
	if largest == nil || largest.Size <= budget {
		return nil
	}
	return fmt.Errorf("%w: the cache may take %s (%d bytes) but tensor %q needs %s (%d bytes): give --cache-size %d or more",
		ErrBudgetTooSmall, units.Text(budget), budget, largest.Name, units.Text(largest.Size), largest.Size, largest.Size)
}
