package mount

import (
	"testing"

	"github.com/ggufs/ggufs/mount/ctl"
	"github.com/ggufs/ggufs/synth"
)

// Options.ReadPoolBytes (--read-pool) is the cap stats.json reports.
func TestReadPoolBytesReachesTheTree(t *testing.T) {
	const pool = 24 << 20
	m := testOpen(t, synth.Options{Preset: "tiny"}, Options{ReadPoolBytes: pool})
	c, err := ctl.Dial(m.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if s, err := c.Stats(); err != nil || s.ReadPool.CapBytes != pool {
		t.Errorf("stats.json read_pool.cap_bytes = %d, %v; want %d", s.ReadPool.CapBytes, err, pool)
	}
}
