package hip

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"
)

const meminfo = "MemTotal:       24683584 kB\nMemFree:        23000000 kB\nMemAvailable:   24122084 kB\n"

func TestAvailableHostMemoryFromMeminfo(t *testing.T) {
	m := availableHostMemory(fstest.MapFS{"proc/meminfo": {Data: []byte(meminfo)}})
	if m.Bytes != 24122084<<10 || m.From != "MemAvailable" {
		t.Errorf("got %+v, want MemAvailable 24122084 kB", m)
	}
}

func TestAvailableHostMemoryHonoursCgroups(t *testing.T) {
	cases := []struct {
		name string
		fs   fstest.MapFS
		want uint64
		from string
	}{
		{"v2 own cgroup", fstest.MapFS{
			"proc/self/cgroup":                            {Data: []byte("0::/user.slice/job\n")},
			"sys/fs/cgroup/user.slice/job/memory.max":     {Data: []byte("4294967296\n")},
			"sys/fs/cgroup/user.slice/job/memory.current": {Data: []byte("1073741824\n")},
		}, 3 << 30, "cgroup memory.max"},
		{"v2 container (own cgroup at the top)", fstest.MapFS{
			"proc/self/cgroup":             {Data: []byte("0::/kubepods/pod1\n")},
			"sys/fs/cgroup/memory.max":     {Data: []byte("2147483648\n")},
			"sys/fs/cgroup/memory.current": {Data: []byte("0\n")},
		}, 2 << 30, "cgroup memory.max"},
		{"v1 memory controller", fstest.MapFS{
			"proc/self/cgroup": {Data: []byte("5:cpu:/\n4:memory:/job/7\n0::/\n")},
			"sys/fs/cgroup/memory/job/7/memory.limit_in_bytes": {Data: []byte("1073741824\n")},
			"sys/fs/cgroup/memory/job/7/memory.usage_in_bytes": {Data: []byte("536870912\n")},
		}, 512 << 20, "cgroup memory.limit_in_bytes"},
		{"v2 no limit", fstest.MapFS{
			"proc/self/cgroup":         {Data: []byte("0::/\n")},
			"sys/fs/cgroup/memory.max": {Data: []byte("max\n")},
		}, 24122084 << 10, "MemAvailable"},
		{"v1 no limit", fstest.MapFS{
			"proc/self/cgroup":                           {Data: []byte("4:memory:/\n")},
			"sys/fs/cgroup/memory/memory.limit_in_bytes": {Data: []byte("9223372036854771712\n")},
		}, 24122084 << 10, "MemAvailable"},
		{"a limit above what is available", fstest.MapFS{
			"proc/self/cgroup":         {Data: []byte("0::/\n")},
			"sys/fs/cgroup/memory.max": {Data: []byte("1099511627776\n")},
		}, 24122084 << 10, "MemAvailable"},
		{"usage over the limit", fstest.MapFS{
			"proc/self/cgroup":             {Data: []byte("0::/\n")},
			"sys/fs/cgroup/memory.max":     {Data: []byte("1000\n")},
			"sys/fs/cgroup/memory.current": {Data: []byte("2000\n")},
		}, 0, "cgroup memory.max"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.fs["proc/meminfo"] = &fstest.MapFile{Data: []byte(meminfo)}
			m := availableHostMemory(c.fs)
			if m.Bytes != c.want || m.From != c.from {
				t.Errorf("got %+v, want %d from %s", m, c.want, c.from)
			}
		})
	}
}

func TestAvailableHostMemoryFallsBack(t *testing.T) {
	for _, mi := range []string{"", "MemAvailable: lots kB\n", "MemAvailable: 12\n", "MemAvailable: 99999999999999999999 kB\n"} {
		m := availableHostMemory(fstest.MapFS{"proc/meminfo": {Data: []byte(mi)}})
		if m.Bytes != DefaultHostCapacity || !strings.HasPrefix(m.From, "default") {
			t.Errorf("meminfo %q: got %+v, want the default", mi, m)
		}
	}
}

// FuzzHostMemoryFiles: whatever /proc and /sys hold, a figure and no panic.
func FuzzHostMemoryFiles(f *testing.F) {
	f.Add([]byte(meminfo), []byte("0::/a\n4:memory:/b\n"), []byte("123\n"))
	f.Add([]byte("MemAvailable:"), []byte("::"), []byte("max"))
	f.Fuzz(func(t *testing.T, mi, self, limit []byte) {
		m := availableHostMemory(fstest.MapFS{
			"proc/meminfo":             {Data: mi},
			"proc/self/cgroup":         {Data: self},
			"sys/fs/cgroup/memory.max": {Data: limit},
		})
		if m.From == "" {
			t.Fatalf("no source named: %+v", m)
		}
	})
}

func TestOpenHostRefusesOtherDevices(t *testing.T) {
	for _, backend := range []string{BackendHost, BackendAuto} {
		// auto tries HIP and CUDA first: on a machine with fewer than six GPUs
		// (CI has none) each refuses device 5 and the host is asked last.
		_, rep, err := Open(Options{Backend: backend, Device: 5})
		if !errors.Is(err, ErrNoDevice) || !strings.HasPrefix(err.Error(), "host: device 5 does not exist") {
			t.Errorf("%s --device 5: %v, want host's no-device error", backend, err)
		}
		if rep == nil || rep.Chosen != "" {
			t.Errorf("%s --device 5: report %+v chose a device", backend, rep)
		}
	}
}

func TestOpenHostDefaultsToAvailableMemory(t *testing.T) {
	dev, rep, err := Open(Options{Backend: BackendHost})
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	want := AvailableHostMemory()
	h := dev.(*Host)
	// Memory moves between the two reads: the figures agree to 1/8.
	if diff := int64(h.Capacity()) - int64(want.Bytes); diff > int64(want.Bytes/8) || -diff > int64(want.Bytes/8) {
		t.Errorf("host capacity %d, available %d", h.Capacity(), want.Bytes)
	}
	d := rep.Attempts[len(rep.Attempts)-1].Devices[0]
	if d.TotalBytes != h.Capacity() || !strings.Contains(d.Name, want.From) {
		t.Errorf("report %+v does not say the capacity %d and where it came from (%s)", d, h.Capacity(), want.From)
	}
}
