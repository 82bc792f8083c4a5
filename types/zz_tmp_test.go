package types

import (
	"github.com/sluicedb/sluice/pgerror"
	"math/rand"
	"sort"
	"strings"
	"testing"
)

func TestTmpDiff(t *testing.T) {
	conn := connectPostgres(t)
	r := rand.New(rand.NewSource(1))
	alphabet := []string{"0", "1", "9", " ", "-", "+", ":", ".", "e", "T", "Z", "P", "D", "H", "M", "S", "Y", "W", "day", "days", "hour", "ago", "@", "BC", "/", ",", "\"", "{", "}", "[", "]", "\\", "x", "u", "pm", "mon", "jan", "12", "2026", "59", "60", "24", "inf", "nan", "a", "1e5", "00"}
	mismatches := map[T][]string{}
	for typ, cases := range textCases {
		if typ == Text {
			continue
		}
		seen := map[string]bool{}
		for n := 0; n < 3000; n++ {
			base := cases[r.Intn(len(cases))].in
			s := base
			for k := r.Intn(3) + 1; k > 0; k-- {
				pos := 0
				if len(s) > 0 {
					pos = r.Intn(len(s) + 1)
				}
				switch r.Intn(3) {
				case 0: // insert
					s = s[:pos] + alphabet[r.Intn(len(alphabet))] + s[pos:]
				case 1: // delete
					if pos < len(s) {
						s = s[:pos] + s[pos+1:]
					}
				case 2: // replace
					if pos < len(s) {
						s = s[:pos] + alphabet[r.Intn(len(alphabet))] + s[pos+1:]
					}
				}
			}
			if seen[s] || strings.ContainsRune(s, 0) {
				continue
			}
			seen[s] = true
			pgOut, pgCode, err := postgresCast(conn, s, typ, 0)
			if err != nil {
				t.Fatal(err)
			}
			d, ourErr := ParseText(s, typ)
			ourCode, ourOut := "", ""
			if ourErr != nil {
				ourCode = pgerrorCode(ourErr)
			} else {
				ourOut = string(AppendDatum(nil, d, typ))
			}
			if (pgCode == "") != (ourCode == "") || (pgCode == "" && string(pgOut) != ourOut) {
				mismatches[typ] = append(mismatches[typ], "in="+quote(s)+" pg="+quote(string(pgOut))+"/"+pgCode+" ours="+quote(ourOut)+"/"+ourCode)
			}
		}
	}
	var types []int
	for typ := range mismatches {
		types = append(types, int(typ))
	}
	sort.Ints(types)
	for _, typ := range types {
		m := mismatches[T(typ)]
		t.Logf("%s: %d mismatches", T(typ), len(m))
		for i, line := range m {
			if i < 60 && len(line) < 300 {
				t.Log("  ", line)
			}
		}
	}
}

func quote(s string) string { return "«" + s + "»" }

func pgerrorCode(err error) string {
	if pe, ok := err.(interface{ Error() string }); ok {
		_ = pe
	}
	return codeOf(err)
}

func codeOf(err error) string {
	type coder interface{ Error() string }
	if pe, ok := err.(*pgerror.Error); ok {
		return pe.Code
	}
	return "?"
}
