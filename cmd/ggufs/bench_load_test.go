package main

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/ggufs/ggufs/internal/bench"
	"github.com/ggufs/ggufs/synth"
)

func TestBenchLoadHost(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tiny.gguf")
	if _, err := synth.GenerateFile(path, synth.Options{Preset: "tiny"}); err != nil {
		t.Fatal(err)
	}
	out, err := runApp(t, "bench", "load", "--backend", "host", "--reps", "2", "--verify", "4", "--json", path)
	if err != nil {
		t.Fatalf("bench load: %v\n%s", err, out)
	}
	var b bench.LoadReport
	if err := json.Unmarshal([]byte(out), &b); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	if b.Tensors != 21 || b.Bytes == 0 || len(b.Loads) != 2 || b.PinnedGBps <= 0 || b.BestRatio <= 0 {
		t.Fatalf("results: %+v", b)
	}
	for _, r := range b.Loads {
		if r.Allocations != 1 || r.VerifiedTensors < 4 || r.Cache.ResidentBytes != b.Bytes || r.Cache.Evictions != 0 {
			t.Fatalf("load: %+v", r)
		}
	}
}

func TestBenchLoadRejectsBadArguments(t *testing.T) {
	for _, args := range [][]string{
		{"bench", "load"},
		{"bench", "load", "--reps", "0", "x.gguf"},
		{"bench", "load", "--cache-size", "0", "x.gguf"},
		{"bench", "load", "--arena-size", "lots", "x.gguf"},
		{"bench", "load", "--backend", "warp", "x.gguf"},
	} {
		if _, err := runApp(t, args...); exitCode(err) != exitUsage {
			t.Errorf("%v: %v; want a usage error", args, err)
		}
	}
}
