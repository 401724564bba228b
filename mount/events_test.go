package mount

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/ggufs/ggufs/synth"
)

// lockedBuffer collects log records written from the mount's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// records returns the messages logged so far, in order.
func (l *lockedBuffer) records(t *testing.T) []map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, line := range bytes.Split(bytes.TrimSpace(l.b.Bytes()), []byte("\n")) {
		var r map[string]any
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatalf("not a JSON record: %q", line)
		}
		out = append(out, r)
	}
	return out
}

// Options.Events gets structured records of mounting, each upload and each
// eviction (with the tensor) and unmounting.
func TestEventsLogMountsAndEvictions(t *testing.T) {
	var buf lockedBuffer
	events := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	m := testOpen(t, synth.Options{Preset: "tiny", Seed: 9}, Options{CacheSize: CacheSize{Bytes: 256 << 10}, Events: events})
	for _, ti := range m.Model.Tensors {
		if _, err := os.ReadFile(filepath.Join(m.Dir, "tensors", ti.Name, "data")); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, r := range buf.records(t) {
		msg, _ := r["msg"].(string)
		counts[msg]++
		if msg == "evicted" && r["tensor"] == "" {
			t.Errorf("an eviction record without its tensor: %v", r)
		}
		if msg == "uploaded" && (r["tensor"] == "" || r["bytes"] == nil) {
			t.Errorf("an upload record without its tensor and size: %v", r)
		}
		if msg == "mounted" && r["dir"] != m.Dir {
			t.Errorf("mounted record %v, want dir %s", r, m.Dir)
		}
	}
	nonEmpty := 0
	for _, ti := range m.Model.Tensors {
		if ti.Size > 0 {
			nonEmpty++
		}
	}
	if counts["mounted"] != 1 || counts["unmounted"] != 1 || counts["evicted"] == 0 || counts["uploaded"] != nonEmpty {
		t.Errorf("records %v: want one mounted, one unmounted, an upload per tensor read, some evicted under a 256 KiB budget", counts)
	}
}
