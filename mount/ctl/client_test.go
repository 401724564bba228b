package ctl

import (
	"context"
	"errors"
	"testing"
)

// follow reports the load's own bytes, from zero, whatever the device
// received before it started, and returns the load's error.
func TestFollowReportsTheLoadsOwnBytes(t *testing.T) {
	seq := []Stats{
		{LoadAll: &LoadAll{Running: true, BytesDone: 0, BytesTotal: 300}},
		{LoadAll: &LoadAll{Running: true, BytesDone: 100, BytesTotal: 300}},
		{LoadAll: &LoadAll{Running: false, BytesDone: 300, BytesTotal: 300}},
	}
	for i := range seq {
		seq[i].Backend = &BackendStats{PathBytes: map[string]uint64{"host": 5000 + uint64(i)*100}}
	}
	i := 0
	read := func() (Stats, error) { s := seq[i]; i++; return s, nil }
	var got []uint64
	err := follow(context.Background(), read, 0, func(done, total uint64) {
		if total != 300 {
			t.Errorf("total %d, want 300", total)
		}
		got = append(got, done)
	})
	if err != nil || len(got) != 3 || got[0] != 0 || got[1] != 100 || got[2] != 300 {
		t.Errorf("follow reported %v, %v; want [0 100 300], nil", got, err)
	}

	failed := []Stats{{LoadAll: &LoadAll{Error: "cache: no device memory left"}}}
	read = func() (Stats, error) { return failed[0], nil }
	if err := follow(context.Background(), read, 0, nil); err == nil || err.Error() != failed[0].LoadAll.Error {
		t.Errorf("a failed load: %v", err)
	}
	read = func() (Stats, error) { return Stats{}, nil }
	if err := follow(context.Background(), read, 0, nil); err == nil {
		t.Error("stats without load_all: no error")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	read = func() (Stats, error) { return Stats{LoadAll: &LoadAll{Running: true}}, nil }
	if err := follow(ctx, read, 0, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestAccepts(t *testing.T) {
	for _, v := range []string{"", "1", "1\n", "\n"} {
		if !Accepts([]byte(v)) {
			t.Errorf("Accepts(%q) = false", v)
		}
	}
	for _, v := range []string{"0", "2", "yes", "11", "1\n\n", "\x00"} {
		if Accepts([]byte(v)) {
			t.Errorf("Accepts(%q) = true", v)
		}
	}
}
