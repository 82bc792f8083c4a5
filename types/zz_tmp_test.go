package types

import (
	"fmt"
	"os"
	"testing"
	"time"
)

func FuzzTmpSlow(f *testing.F) {
	for typ, cases := range textCases {
		for _, c := range cases {
			f.Add(uint8(typ), c.in)
		}
	}
	f.Fuzz(func(t *testing.T, typByte uint8, s string) {
		typ := Bool + T(typByte)%(numScalar-Bool)
		timer := time.AfterFunc(2*time.Second, func() {
			fmt.Fprintf(os.Stderr, "SLOW %s %q\n", typ, s)
			os.WriteFile("/tmp/slow.txt", []byte(fmt.Sprintf("%d %q\n", typ, s)), 0o644)
		})
		defer timer.Stop()
		d, err := ParseText(s, typ)
		if err == nil {
			out := AppendDatum(nil, d, typ)
			ParseText(string(out), typ)
			ParseBinary(AppendDatumBinary(nil, d, typ), typ)
		}
	})
}
