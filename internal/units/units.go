// Package units reads and writes byte counts as people type and read them.
package units

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// byteUnits are the suffixes Parse accepts (case-insensitive): binary
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

// Parse reads a size such as "8GiB", "512M", "1.5GB" or "4096".
func Parse(s string) (uint64, error) {
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

// Text writes n in binary units: "512 B", "1.50 KiB", "3.25 GiB".
func Text(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.2f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
