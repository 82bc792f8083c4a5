package types

import (
	"context"
	"encoding/binary"
	"math"
	"math/rand"
	"strconv"
	"testing"
)

func TestTmpFloatDiff(t *testing.T) {
	conn := connectPostgres(t)
	r := rand.New(rand.NewSource(2))
	bad := 0
	check := func(f float64, bits int) {
		var b []byte
		typ := Float8
		if bits == 32 {
			typ = Float4
			b = binary.BigEndian.AppendUint32(nil, math.Float32bits(float32(f)))
		} else {
			b = binary.BigEndian.AppendUint64(nil, math.Float64bits(f))
		}
		res := conn.ExecParams(context.Background(), "SELECT $1", [][]byte{b}, []uint32{typ.OID()}, []int16{1}, []int16{0}).Read()
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		pg := string(res.Rows[0][0])
		var ours string
		if bits == 32 {
			ours = string(AppendDatum(nil, float32(f), typ))
		} else {
			ours = string(AppendDatum(nil, f, typ))
		}
		if pg != ours {
			bad++
			if bad < 30 {
				t.Logf("%s bits=%x pg=%s ours=%s", typ, math.Float64bits(f), pg, ours)
			}
		}
	}
	for i := 0; i < 15000; i++ {
		check(math.Float64frombits(r.Uint64()), 64)
		check(float64(math.Float32frombits(r.Uint32())), 32)
	}
	// tie-prone: decimal round numbers that are exact midpoints
	for i := 0; i < 15000; i++ {
		d := r.Int63n(1e6)
		e := r.Intn(40) - 20
		f, _ := strconv.ParseFloat(strconv.FormatInt(d, 10)+"e"+strconv.Itoa(e), 64)
		check(f, 64)
		f32, _ := strconv.ParseFloat(strconv.FormatInt(d, 10)+"e"+strconv.Itoa(e), 32)
		check(f32, 32)
		check(float64(r.Int63())*float64(int64(1)<<r.Intn(20)), 64)
		check(float64(r.Int63n(1<<40)), 32)
	}
	t.Logf("%d mismatches", bad)
}
