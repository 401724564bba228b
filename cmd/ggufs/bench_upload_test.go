package main

import (
	"strings"
	"testing"
)

func TestBenchUploadHost(t *testing.T) {
	out, err := runApp(t, "bench", "upload", "--backend", "host", "--size", "3MiB+5", "--reps", "1", "--dir", t.TempDir())
	if err != nil {
		t.Fatalf("bench upload: %v\n%s", err, out)
	}
	for _, want := range []string{"pinned", "host", "verified"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestBenchUploadVerifySizesHost(t *testing.T) {
	out, err := runApp(t, "bench", "upload", "--backend", "host", "--dir", t.TempDir(),
		"--sizes", "1KiB,1KiB+1,4097,1MiB+3")
	if err != nil {
		t.Fatalf("bench upload --sizes: %v\n%s", err, out)
	}
	if !strings.Contains(out, "all checks passed") || strings.Contains(out, "FAIL") {
		t.Fatalf("output:\n%s", out)
	}
}

func TestParseUploadBytes(t *testing.T) {
	for in, want := range map[string]uint64{"4097": 4097, "1KiB": 1024, "4GiB": 4 << 30, "1MiB+3": 1<<20 + 3, "2M": 2 << 20} {
		if got, err := parseUploadBytes(in); err != nil || got != want {
			t.Errorf("parseUploadBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "x", "1TiB", "-1", "99999999999GiB"} {
		if _, err := parseUploadBytes(bad); err == nil {
			t.Errorf("parseUploadBytes(%q) accepted", bad)
		}
	}
}

func TestParseUploadVariants(t *testing.T) {
	v, err := parseUploadVariants([]string{"hybrid:chunk=32MiB:pinners=3:populate=0"})
	if err != nil || len(v) != 1 || v[0].cfg.ChunkBytes != 32<<20 || v[0].cfg.RegisterWorkers != 3 || !v[0].cfg.NoPopulate {
		t.Fatalf("%+v %v", v, err)
	}
	v, err = parseUploadVariants([]string{"staged:pread=0:fresh=1"})
	if err != nil || !v[0].cfg.NoPread || !v[0].freshDst {
		t.Fatalf("pread=0:fresh=1 gave %+v %v", v, err)
	}
	for _, bad := range []string{"warp", "staged:workers", "staged:colour=3", "staged:workers=x"} {
		if _, err := parseUploadVariants([]string{bad}); exitCode(err) != exitUsage {
			t.Errorf("variant %q: %v, want a usage error", bad, err)
		}
	}
}
