package types

import (
	"context"
	"math/rand"
	"testing"
)

func TestTmpOutputDiff(t *testing.T) {
	conn := connectPostgres(t)
	r := rand.New(rand.NewSource(4))
	bad := 0
	check := func(d Datum, typ T) {
		b := AppendDatumBinary(nil, d, typ)
		res := conn.ExecParams(context.Background(), "SELECT $1", [][]byte{b}, []uint32{typ.OID()}, []int16{1}, []int16{0}).Read()
		if res.Err != nil {
			t.Fatalf("%s %v: %v", typ, d, res.Err)
		}
		pg := string(res.Rows[0][0])
		ours := string(AppendDatum(nil, d, typ))
		if pg != ours {
			bad++
			if bad < 30 {
				t.Logf("%s %#v pg=%s ours=%s", typ, d, pg, ours)
			}
		}
		// and parse back ours
		back, err := ParseText(ours, typ)
		if err != nil || !datumEqual(back, d) {
			t.Errorf("%s %q parses back to %#v, %v; want %#v", typ, ours, back, err, d)
		}
	}
	pick := func(vals ...int64) int64 { return vals[r.Intn(len(vals))] }
	for i := 0; i < 5000; i++ {
		iv := IntervalValue{
			Months: int32(pick(0, 0, int64(r.Int31n(30))-15, int64(r.Int31()) - int64(r.Int31()))),
			Days:   int32(pick(0, 0, int64(r.Int31n(60))-30, int64(r.Int31()) - int64(r.Int31()))),
			Micros: pick(0, r.Int63n(2*MicrosPerDay)-MicrosPerDay, r.Int63n(maxIntervalMicros)-r.Int63n(maxIntervalMicros), (r.Int63n(200)-100)*microsPerSecond, r.Int63n(2000000)-1000000),
		}
		check(iv, Interval)
		ts := pick(r.Int63n(1<<62)-r.Int63n(1<<62), r.Int63n(4e15)-2e15, minTimestamp+r.Int63n(1e18), r.Int63n(2e12)*1e6)
		if ts >= minTimestamp {
			check(ts, Timestamp)
			check(ts, TimestampTZ)
		}
		check(int32(minDate+r.Int63n(maxDate-minDate+1)), Date)
		check(r.Int63n(MicrosPerDay+1), Time)
	}
	t.Logf("%d mismatches", bad)
}
