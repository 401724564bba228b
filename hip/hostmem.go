package hip

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strconv"
	"strings"
)

// HostMemory is the memory the host backend may take by default: what the
// kernel says is available (MemAvailable), or less where a cgroup limits
// this process (room left under memory.max or memory.limit_in_bytes).
type HostMemory struct {
	Bytes uint64 `json:"bytes"`
	// From says which figure set Bytes ("MemAvailable", "cgroup memory.max").
	From string `json:"from"`
}

// AvailableHostMemory reads HostMemory from this machine's /proc and /sys.
// Where neither can be read it falls back to DefaultHostCapacity and says so.
func AvailableHostMemory() HostMemory {
	return availableHostMemory(os.DirFS("/"))
}

func availableHostMemory(root fs.FS) HostMemory {
	m := HostMemory{Bytes: DefaultHostCapacity, From: "default (no /proc/meminfo)"}
	if b, err := fs.ReadFile(root, "proc/meminfo"); err == nil {
		if avail, ok := parseMemAvailable(b); ok {
			m = HostMemory{Bytes: avail, From: "MemAvailable"}
		}
	}
	if room, from, ok := cgroupRoom(root); ok && room < m.Bytes {
		m = HostMemory{Bytes: room, From: from}
	}
	return m
}

// parseMemAvailable reads MemAvailable from /proc/meminfo ("MemAvailable:
// 24122084 kB").
func parseMemAvailable(meminfo []byte) (uint64, bool) {
	sc := bufio.NewScanner(bytes.NewReader(meminfo))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "MemAvailable:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, false
		}
		kb, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil || kb > ^uint64(0)>>10 {
			return 0, false
		}
		return kb << 10, true
	}
	return 0, false
}

// cgroupRoom is the memory this process's cgroup still allows, limit less
// usage, from cgroup v2 (memory.max, memory.current) or v1
// (memory.limit_in_bytes, memory.usage_in_bytes). It looks in the
// process's own cgroup (/proc/self/cgroup) and, as containers mount their
// own cgroup at the top, at the top of the hierarchy.
func cgroupRoom(root fs.FS) (uint64, string, bool) {
	self, _ := fs.ReadFile(root, "proc/self/cgroup")
	v2, v1 := cgroupPaths(self)
	type place struct{ dir, limit, usage, from string }
	var places []place
	for _, base := range []string{"sys/fs/cgroup", "sys/fs/cgroup/unified"} {
		for _, p := range uniq(path.Join(base, v2), base) {
			places = append(places, place{p, "memory.max", "memory.current", "cgroup memory.max"})
		}
	}
	for _, p := range uniq(path.Join("sys/fs/cgroup/memory", v1), "sys/fs/cgroup/memory") {
		places = append(places, place{p, "memory.limit_in_bytes", "memory.usage_in_bytes", "cgroup memory.limit_in_bytes"})
	}
	for _, pl := range places {
		limit, ok := readCgroupNumber(root, path.Join(pl.dir, pl.limit))
		if !ok {
			continue
		}
		usage, _ := readCgroupNumber(root, path.Join(pl.dir, pl.usage))
		if usage >= limit {
			return 0, pl.from, true
		}
		return limit - usage, pl.from, true
	}
	return 0, "", false
}

// cgroupPaths finds this process's cgroup in /proc/self/cgroup: the v2 path
// ("0::/PATH") and the v1 memory controller's ("N:memory:/PATH").
func cgroupPaths(self []byte) (v2, v1 string) {
	sc := bufio.NewScanner(bytes.NewReader(self))
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 || !strings.HasPrefix(parts[2], "/") || strings.Contains(parts[2], "..") {
			continue
		}
		switch {
		case parts[0] == "0" && parts[1] == "":
			v2 = parts[2]
		case containsWord(parts[1], "memory"):
			v1 = parts[2]
		}
	}
	return strings.TrimPrefix(v2, "/"), strings.TrimPrefix(v1, "/")
}

func containsWord(list, word string) bool {
	for _, w := range strings.Split(list, ",") {
		if w == word {
			return true
		}
	}
	return false
}

// readCgroupNumber reads a cgroup file holding one number; "max" (v2's no
// limit) and v1's page-rounded 2^63 mean no limit and report false.
func readCgroupNumber(root fs.FS, name string) (uint64, bool) {
	b, err := fs.ReadFile(root, name)
	if err != nil {
		return 0, false
	}
	n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || n >= 1<<62 {
		return 0, false
	}
	return n, true
}

func uniq(a, b string) []string {
	if a == b {
		return []string{a}
	}
	return []string{a, b}
}

// String is "22.46 GiB (MemAvailable)".
func (m HostMemory) String() string {
	return fmt.Sprintf("%.2f GiB (%s)", float64(m.Bytes)/(1<<30), m.From)
}
