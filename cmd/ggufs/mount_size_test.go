package main

import "testing"

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
