package ctl

import (
	"strings"
	"testing"

	"github.com/ggufs/ggufs/cache"
	"github.com/ggufs/ggufs/share"
)

// The text report names every counter it promises and each tensor's holders.
func TestStatusReportText(t *testing.T) {
	rep := StatusReport{
		Stats: Stats{Model: "m.gguf", Device: "host", Tensors: 2, UploadGBps: 1.5,
			Cache:   cache.Stats{Hits: 7, Misses: 2, Uploads: 2, UploadedBytes: 2048, Evictions: 3, Failures: 1, ResidentTensors: 1, ResidentBytes: 1024},
			Sharing: &share.Stats{Socket: "/run/s.sock", Connections: 1, Holds: 1, Holders: map[string]int{"a": 1}},
			LoadAll: &LoadAll{BytesDone: 1024, BytesTotal: 2048, Error: "no space"}},
		Tensors: []TensorStatus{{Name: "a", Status: "resident", Dtype: "f32", Nbytes: 1024}, {Name: "b", Status: "evicted", Dtype: "f32", Nbytes: 1024}},
	}
	var b strings.Builder
	rep.WriteText(&b)
	out := b.String()
	for _, want := range []string{
		"1 of 2 tensors resident",
		"reads: 7 hits, 2 misses; uploads: 2 (",
		"1.50 GB/s); evictions: 3; failures: 1",
		"sharing: 1 consumers connected, 1 holds on 1 tensors (socket /run/s.sock)",
		"load of every tensor: failed: no space",
		"resident (1 holders)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("status text lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "evicted (") {
		t.Errorf("a tensor nobody holds is shown with holders:\n%s", out)
	}
}
