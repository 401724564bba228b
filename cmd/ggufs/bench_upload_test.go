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

func TestBenchUploadRejectsBadVariants(t *testing.T) {
	for _, bad := range []string{"warp", "staged:workers", "staged:colour=3", "staged:workers=x"} {
		if _, err := runApp(t, "bench", "upload", "--backend", "host", "--variant", bad); exitCode(err) != exitUsage {
			t.Errorf("variant %q: %v, want a usage error", bad, err)
		}
	}
}
