package units

import "testing"

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]uint64{
		"4096": 4096, "8GiB": 8 << 30, "8gib": 8 << 30, "8G": 8 << 30, "512MiB": 512 << 20,
		"1.5GiB": 3 << 29, "2GB": 2e9, "10k": 10240, "7B": 7, " 3 MiB ": 3 << 20,
	} {
		if got, err := Parse(in); err != nil || got != want {
			t.Errorf("Parse(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "GiB", "-1G", "1XB", "1e30TiB", "NaN", "inf"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}

func TestText(t *testing.T) {
	for n, want := range map[uint64]string{0: "0 B", 1023: "1023 B", 1024: "1.00 KiB", 3 << 29: "1.50 GiB", 1 << 62: "4.00 EiB", 1<<64 - 1: "16.00 EiB"} {
		if got := Text(n); got != want {
			t.Errorf("Text(%d) = %q, want %q", n, got, want)
		}
	}
}
