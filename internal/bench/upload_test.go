package bench

import (
	"testing"
)

func TestParseUploadBytes(t *testing.T) {
	for in, want := range map[string]uint64{"4097": 4097, "1KiB": 1024, "4GiB": 4 << 30, "1MiB+3": 1<<20 + 3, "2M": 2 << 20} {
		if got, err := ParseBytes(in); err != nil || got != want {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "x", "1TiB", "-1", "99999999999GiB"} {
		if _, err := ParseBytes(bad); err == nil {
			t.Errorf("ParseBytes(%q) accepted", bad)
		}
	}
}

func TestParseUploadVariants(t *testing.T) {
	v, err := ParseVariants([]string{"hybrid:chunk=32MiB:pinners=3:populate=0"})
	if err != nil || len(v) != 1 || v[0].cfg.ChunkBytes != 32<<20 || v[0].cfg.RegisterWorkers != 3 || !v[0].cfg.NoPopulate {
		t.Fatalf("%+v %v", v, err)
	}
	v, err = ParseVariants([]string{"staged:pread=0:fresh=1"})
	if err != nil || !v[0].cfg.NoPread || !v[0].freshDst {
		t.Fatalf("pread=0:fresh=1 gave %+v %v", v, err)
	}
	for _, bad := range []string{"warp", "staged:workers", "staged:colour=3", "staged:workers=x"} {
		if _, err := ParseVariants([]string{bad}); err == nil {
			t.Errorf("variant %q: %v, want an error", bad, err)
		}
	}
}
