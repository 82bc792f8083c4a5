package main

import "testing"

func TestByteSizeFlag(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{"0", 0}, {"1048576", 1 << 20}, {"512MiB", 512 << 20}, {"512mb", 512e6}, {"2GiB", 2 << 30},
		{"1.5GiB", 3 << 29}, {"64M", 64 << 20}, {" 3 GB ", 3e9}, {"100B", 100},
	} {
		var b byteSize
		if err := b.Set(tc.in); err != nil || int64(b) != tc.want {
			t.Errorf("Set(%q) = %d, %v; want %d", tc.in, b, err, tc.want)
		}
	}
	for _, bad := range []string{"", "MiB", "lots", "-1GiB", "1XB"} {
		var b byteSize
		if err := b.Set(bad); err == nil {
			t.Errorf("Set(%q) took it as %d bytes; want an error", bad, b)
		}
	}
	if s := (func() string { b := byteSize(3 << 30); return b.String() })(); s != "3GiB" {
		t.Errorf("String() = %q, want 3GiB", s)
	}
}
