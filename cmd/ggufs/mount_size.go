package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/ggufs/ggufs/internal/units"
	"github.com/ggufs/ggufs/mount"
)

// parseCacheSize reads --cache-size: "8GiB", or "80%" of the device's free memory.
func parseCacheSize(s string) (mount.CacheSize, error) {
	if p, ok := strings.CutSuffix(strings.TrimSpace(s), "%"); ok {
		x, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || !(x > 0 && x <= 100) {
			return mount.CacheSize{}, fmt.Errorf("--cache-size %q: a percentage must be in (0, 100]", s)
		}
		return mount.CacheSize{Fraction: x / 100}, nil
	}
	n, err := units.Parse(s)
	if err != nil {
		return mount.CacheSize{}, fmt.Errorf("--cache-size: %w", err)
	}
	if n == 0 {
		return mount.CacheSize{}, fmt.Errorf("--cache-size %q: must be more than 0", s)
	}
	return mount.CacheSize{Bytes: n}, nil
}

// parseReadPool reads --read-pool: a size such as "256MiB" ("": the default).
func parseReadPool(s string) (int64, error) {
	if strings.TrimSpace(s) == "" {
		return 0, nil
	}
	n, err := units.Parse(s)
	if err != nil {
		return 0, fmt.Errorf("--read-pool: %w", err)
	}
	if n == 0 || n > math.MaxInt64 {
		return 0, fmt.Errorf("--read-pool %q: must be more than 0 and less than 8EiB", s)
	}
	return int64(n), nil
}
