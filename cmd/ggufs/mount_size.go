package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/ggufs/ggufs/mount"
)

// byteUnits are the suffixes parseBytes accepts (case-insensitive): binary
// with or without the "i", decimal when spelled KB, MB, GB, TB.
var byteUnits = []struct {
	suffix string
	scale  float64
}{
	{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"tib", 1 << 40},
	{"kb", 1e3}, {"mb", 1e6}, {"gb", 1e9}, {"tb", 1e12},
	{"k", 1 << 10}, {"m", 1 << 20}, {"g", 1 << 30}, {"t", 1 << 40},
	{"b", 1},
}

// parseBytes reads a size such as "8GiB", "512M", "1.5GB" or "4096".
func parseBytes(s string) (uint64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	scale := 1.0
	for _, u := range byteUnits {
		if strings.HasSuffix(t, u.suffix) {
			t, scale = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.scale
			break
		}
	}
	x, err := strconv.ParseFloat(t, 64)
	if err != nil || x < 0 || math.IsInf(x, 0) || math.IsNaN(x) || x*scale >= math.MaxUint64 {
		return 0, fmt.Errorf("%q is not a size (want e.g. 8GiB, 512MiB, 4096)", s)
	}
	return uint64(x * scale), nil
}

// parseCacheSize reads --cache-size: "8GiB", or "80%" of the device's free memory.
func parseCacheSize(s string) (mount.CacheSize, error) {
	if p, ok := strings.CutSuffix(strings.TrimSpace(s), "%"); ok {
		x, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || !(x > 0 && x <= 100) {
			return mount.CacheSize{}, fmt.Errorf("--cache-size %q: a percentage must be in (0, 100]", s)
		}
		return mount.CacheSize{Fraction: x / 100}, nil
	}
	n, err := parseBytes(s)
	if err != nil {
		return mount.CacheSize{}, fmt.Errorf("--cache-size: %w", err)
	}
	if n == 0 {
		return mount.CacheSize{}, fmt.Errorf("--cache-size %q: must be more than 0", s)
	}
	return mount.CacheSize{Bytes: n}, nil
}
