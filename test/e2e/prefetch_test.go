package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ggufs/ggufs/synth"
)

// --prefetch uploads every tensor after mounting, with plain progress lines
// on a stderr that is not a terminal; ggufs load reports the same way.
func TestPrefetchAndLoadProgress(t *testing.T) {
	mdl := genModel(t, synth.Options{Preset: "tiny", Seed: 71})
	m := startMount(t, mdl.path, "--prefetch")
	deadline := time.Now().Add(waitLimit)
	for !strings.Contains(m.stderr.String(), " done\n") {
		if time.Now().After(deadline) {
			t.Fatalf("no final progress line; stderr: %q", m.stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(m.stderr.String(), "prefetch: ") || !strings.Contains(m.stderr.String(), "(100%)") {
		t.Errorf("prefetch progress: %q", m.stderr.String())
	}
	for _, ti := range mdl.tensors {
		if s, err := os.ReadFile(filepath.Join(tensorDir(m.dir, ti.Name), "status")); err != nil || string(s) != "resident\n" {
			t.Errorf("%s after --prefetch: %q, %v", ti.Name, s, err)
		}
	}

	_, stderr, code := run(t, bin, "load", m.dir, "output.weight", "token_embd.weight")
	if code != 0 || !strings.Contains(stderr, "load: ") || !strings.Contains(stderr, " done") {
		t.Errorf("ggufs load: exit %d, stderr %q", code, stderr)
	}
}
