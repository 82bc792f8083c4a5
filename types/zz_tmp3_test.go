package types

import (
	"math/rand"
	"strings"
	"testing"
)

func TestTmpJSONDiff(t *testing.T) {
	conn := connectPostgres(t)
	r := rand.New(rand.NewSource(3))
	keys := []string{`"a"`, `"b"`, `"aa"`, `"é"`, `"\u00e9"`, `"\n"`, `"\\"`, `"\""`, `""`, `"ab"`, `"B"`, `"\ud83d\ude00"`, `"x\u0001"`, `"\/"`}
	nums := []string{"0", "-0", "1", "1.0", "1e2", "1E-2", "-12.500", "123456789012345678901234567890.5", "0.000", "1e+3", "5e-1", "-0.0e5", "100e-5"}
	var gen func(d int) string
	gen = func(d int) string {
		switch k := r.Intn(6); {
		case k == 0 && d < 4:
			n := r.Intn(4)
			var parts []string
			for i := 0; i < n; i++ {
				parts = append(parts, keys[r.Intn(len(keys))]+strings.Repeat(" ", r.Intn(2))+":"+gen(d+1))
			}
			return "{" + strings.Join(parts, ",") + "}"
		case k == 1 && d < 4:
			n := r.Intn(4)
			var parts []string
			for i := 0; i < n; i++ {
				parts = append(parts, gen(d+1))
			}
			return "[" + strings.Join(parts, ", ") + "]"
		case k == 2:
			return nums[r.Intn(len(nums))]
		case k == 3:
			return keys[r.Intn(len(keys))]
		default:
			return []string{"true", "false", "null"}[r.Intn(3)]
		}
	}
	bad := 0
	for i := 0; i < 3000; i++ {
		s := gen(0)
		pgOut, pgCode, err := postgresCast(conn, s, JSONB, 0)
		if err != nil {
			t.Fatal(err)
		}
		d, ourErr := ParseText(s, JSONB)
		ours, code := "", ""
		if ourErr != nil {
			code = codeOf(ourErr)
		} else {
			ours = d.(string)
		}
		if code != pgCode || ours != string(pgOut) {
			bad++
			if bad < 20 {
				t.Logf("in=%s pg=%s/%s ours=%s/%s", s, pgOut, pgCode, ours, code)
			}
		}
	}
	t.Logf("%d mismatches", bad)
}
