package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ggufs/ggufs/synth"
)

// ggufs load of a model larger than --cache-size loads what fits in file
// order, then stops: it says what is resident and what is not, evicts
// nothing, and exits non-zero.
func TestLoadAboveTheBudgetStopsAndSaysSo(t *testing.T) {
	mdl := genModel(t, synth.Options{Preset: "tiny", Seed: 72})
	var total, largest uint64
	for _, ti := range mdl.tensors {
		total += ti.Size
		largest = max(largest, ti.Size)
	}
	budget := max(total/2, 2*largest)
	m := startMount(t, mdl.path, "--cache-size", fmt.Sprint(budget))
	stdout, stderr, code := run(t, bin, "load", m.dir)
	if code == 0 {
		t.Fatalf("ggufs load above the budget exited 0: %q %q", stdout, stderr)
	}
	if !strings.Contains(stdout, " not loaded (") || !strings.Contains(stdout, "stopped: the budget") {
		t.Errorf("last line does not say what is not loaded and why: %q", stdout)
	}
	var s struct {
		Cache struct {
			Evictions       int `json:"evictions"`
			ResidentTensors int `json:"resident_tensors"`
		} `json:"cache"`
		LoadAll struct {
			Result struct {
				Resident  int `json:"resident"`
				NotLoaded int `json:"not_loaded"`
				Evicted   int `json:"evicted"`
			} `json:"result"`
		} `json:"load_all"`
	}
	b, err := os.ReadFile(filepath.Join(m.dir, "stats.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	r := s.LoadAll.Result
	if s.Cache.Evictions != 0 || r.Evicted != 0 || r.NotLoaded == 0 || r.Resident != s.Cache.ResidentTensors ||
		r.Resident+r.NotLoaded != len(mdl.tensors) {
		t.Fatalf("stats after the load: %s", b)
	}
	// File order: the first tensor is resident, the last is not.
	first, last := mdl.tensors[0], mdl.tensors[len(mdl.tensors)-1]
	for _, c := range []struct {
		name, want string
	}{{first.Name, "resident\n"}, {last.Name, "unloaded\n"}} {
		if st, err := os.ReadFile(filepath.Join(tensorDir(m.dir, c.name), "status")); err != nil || string(st) != c.want {
			t.Errorf("%s: status %q, %v; want %q", c.name, st, err, c.want)
		}
	}
}
