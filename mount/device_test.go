package mount

import "testing"

// The host backend is never sized from the model: by default hip.Open gives
// it the memory available (the figure ggufs devices reports), and a size in
// bytes is taken as given.
func TestHostCapacityIsNotSizedFromTheModel(t *testing.T) {
	const model = 40 << 30
	for _, frac := range []float64{0, 0.5, 1} {
		if c := hostCapacity(CacheSize{Fraction: frac}, model); c != 0 {
			t.Errorf("%.0f%%: capacity %d, want 0 (the memory available)", frac*100, c)
		}
	}
	if c := hostCapacity(CacheSize{Bytes: 2 << 30}, model); c != 2<<30 {
		t.Errorf("--cache-size 2GiB: capacity %d", c)
	}
}
