package mount

import "testing"

// On the host backend, the share of the emulated device a --cache-size
// percentage gives the cache holds the whole model.
func TestHostCapacityHoldsTheModelAtTheCacheShare(t *testing.T) {
	const model = 10 << 30
	for _, frac := range []float64{0.5, 0.8, 1} {
		c := hostCapacity(CacheSize{Fraction: frac}, model)
		if budget := uint64(float64(c) * frac); budget < model {
			t.Errorf("%.0f%%: capacity %d gives the cache %d bytes, less than the %d-byte model", frac*100, c, budget, model)
		}
	}
	if c := hostCapacity(CacheSize{Bytes: 2 << 30}, model); c != 2<<30 {
		t.Errorf("--cache-size 2GiB: capacity %d", c)
	}
}
