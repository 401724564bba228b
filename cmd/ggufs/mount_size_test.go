package main

import "testing"

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]uint64{
		"4096": 4096, "8GiB": 8 << 30, "8gib": 8 << 30, "8G": 8 << 30, "512MiB": 512 << 20,
		"1.5GiB": 3 << 29, "2GB": 2e9, "10k": 10240, "7B": 7, " 3 MiB ": 3 << 20,
	} {
		if got, err := parseBytes(in); err != nil || got != want {
			t.Errorf("parseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "GiB", "-1G", "1XB", "1e30TiB", "NaN", "inf"} {
		if _, err := parseBytes(bad); err == nil {
			t.Errorf("parseBytes(%q) accepted", bad)
		}
	}
}

func TestParseCacheSize(t *testing.T) {
	if c, err := parseCacheSize("80%"); err != nil || c.Fraction != 0.8 || c.Bytes != 0 {
		t.Errorf("80%% = %+v, %v", c, err)
	}
	if c, err := parseCacheSize("1GiB"); err != nil || c.Bytes != 1<<30 {
		t.Errorf("1GiB = %+v, %v", c, err)
	}
	for _, bad := range []string{"0", "0%", "101%", "x%", "-5%", "0GiB"} {
		if _, err := parseCacheSize(bad); err == nil {
			t.Errorf("parseCacheSize(%q) accepted", bad)
		}
	}
}
