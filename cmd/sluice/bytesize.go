package main

import (
	"fmt"
	"strconv"
	"strings"
)

// byteSize is a flag of a number of bytes, written as 512MiB, 2GB, 1.5GiB or
// a plain number of bytes; 0 means no limit.
type byteSize int64

// byteUnits are the suffixes a byteSize takes, longest first so that "MiB"
// is not read as "B".
var byteUnits = []struct {
	suffix string
	bytes  float64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
	{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"T", 1 << 40},
	{"B", 1},
}

func (b *byteSize) String() string {
	if *b == 0 {
		return "0"
	}
	for _, u := range []struct {
		suffix string
		bytes  int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if int64(*b)%u.bytes == 0 {
			return strconv.FormatInt(int64(*b)/u.bytes, 10) + u.suffix
		}
	}
	return strconv.FormatInt(int64(*b), 10)
}

func (b *byteSize) Set(s string) error {
	text := strings.TrimSpace(s)
	scale := 1.0
	for _, u := range byteUnits {
		if strings.HasSuffix(strings.ToUpper(text), strings.ToUpper(u.suffix)) && len(text) > len(u.suffix) {
			text, scale = strings.TrimSpace(text[:len(text)-len(u.suffix)]), u.bytes
			break
		}
	}
	v, err := strconv.ParseFloat(text, 64)
	if err != nil || v < 0 {
		return fmt.Errorf("%q is not a size: write it as 512MiB, 2GB or a number of bytes", s)
	}
	*b = byteSize(v * scale)
	return nil
}
