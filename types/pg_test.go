package types

import (
	"bytes"
	"context"
	"errors"
	"math"
	"math/rand"
	"os"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// The tests in this file check the specification tables against a real
// PostgreSQL, to tell a Sluice bug from a wrong expectation. They run only
// when SLUICE_TEST_PG_URL is set, e.g.
//
//	SLUICE_TEST_PG_URL=postgres://postgres@127.0.0.1:5432/test go test -run Postgres ./types/

func connectPostgres(t *testing.T) *pgconn.PgConn {
	url := os.Getenv("SLUICE_TEST_PG_URL")
	if url == "" {
		t.Skip("SLUICE_TEST_PG_URL is not set")
	}
	ctx := context.Background()
	conn, err := pgconn.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	t.Cleanup(func() { conn.Close(ctx) })
	// The settings whose defaults Sluice's formats assume.
	err = conn.Exec(ctx, `SET TimeZone = 'UTC'; SET DateStyle = 'ISO, MDY'; SET IntervalStyle = 'postgres';
		SET extra_float_digits = 1; SET bytea_output = 'hex'`).Close()
	if err != nil {
		t.Fatalf("set session defaults: %v", err)
	}
	return conn
}

// postgresCast runs SELECT $1::text::typ in PostgreSQL, returning the result
// in the given format (0 text, 1 binary) or the error's SQLSTATE.
func postgresCast(conn *pgconn.PgConn, in string, typ T, format int16) (out []byte, code string, err error) {
	res := conn.ExecParams(context.Background(), "SELECT $1::text::"+typ.String(),
		[][]byte{[]byte(in)}, nil, nil, []int16{format}).Read()
	if res.Err != nil {
		var pe *pgconn.PgError
		if errors.As(res.Err, &pe) {
			return nil, pe.Code, nil
		}
		return nil, "", res.Err
	}
	return res.Rows[0][0], "", nil
}

func TestTextCasesAgainstPostgres(t *testing.T) {
	conn := connectPostgres(t)
	for typ, cases := range textCases {
		for _, c := range cases {
			out, code, err := postgresCast(conn, c.in, typ, 0)
			if err != nil {
				t.Fatalf("%s %q: %v", typ, c.in, err)
			}
			switch {
			case c.code != "" && code != c.code:
				t.Errorf("%s %q: PostgreSQL gives %q (error %q), table says error %s", typ, c.in, out, code, c.code)
			case c.code == "" && (code != "" || string(out) != c.out):
				t.Errorf("%s %q: PostgreSQL gives %q (error %q), table says %q", typ, c.in, out, code, c.out)
			}
		}
	}
}

// TestBinaryAgainstPostgres checks that Sluice's binary encoding of every
// valid case equals PostgreSQL's. Numeric is compared only where the float64
// storage keeps PostgreSQL's display scale.
func TestBinaryAgainstPostgres(t *testing.T) {
	conn := connectPostgres(t)
	for typ, cases := range textCases {
		for _, c := range cases {
			if c.code != "" {
				continue
			}
			d, err := ParseText(c.in, typ)
			if err != nil {
				continue
			}
			want, code, err := postgresCast(conn, c.in, typ, 1)
			if err != nil || code != "" {
				t.Fatalf("%s %q: %v %s", typ, c.in, err, code)
			}
			if typ == Numeric && string(AppendDatum(nil, d, typ)) != c.in {
				continue
			}
			if typ == Float8 && c.in == "-nan" {
				continue // PostgreSQL keeps the sign of a NaN; Sluice has one NaN
			}
			if got := AppendDatumBinary(nil, d, typ); !bytes.Equal(got, want) {
				t.Errorf("%s %q: binary %x, PostgreSQL sends %x", typ, c.in, got, want)
			}
		}
	}
}

// TestBinaryParametersAgainstPostgres sends Sluice's binary encodings to
// PostgreSQL as binary parameters and checks that PostgreSQL reads the value
// Sluice prints.
func TestBinaryParametersAgainstPostgres(t *testing.T) {
	conn := connectPostgres(t)
	for _, c := range binaryCases {
		b := AppendDatumBinary(nil, c.d, c.typ)
		res := conn.ExecParams(context.Background(), "SELECT $1", [][]byte{b},
			[]uint32{c.typ.OID()}, []int16{1}, []int16{0}).Read()
		if res.Err != nil {
			t.Errorf("%s %x: %v", c.typ, b, res.Err)
			continue
		}
		if got, want := string(res.Rows[0][0]), string(AppendDatum(nil, c.d, c.typ)); got != want {
			t.Errorf("%s %x: PostgreSQL reads %q, Sluice prints %q", c.typ, b, got, want)
		}
	}
}

// TestRandomOutputAgainstPostgres sends seeded random values to PostgreSQL
// in binary and checks that it prints them as Sluice does, and that Sluice
// reads its own output back to the same value.
func TestRandomOutputAgainstPostgres(t *testing.T) {
	conn := connectPostgres(t)
	r := rand.New(rand.NewSource(1))
	mismatches := 0
	check := func(d Datum, typ T) {
		b := AppendDatumBinary(nil, d, typ)
		res := conn.ExecParams(context.Background(), "SELECT $1", [][]byte{b},
			[]uint32{typ.OID()}, []int16{1}, []int16{0}).Read()
		if res.Err != nil {
			t.Fatalf("%s %#v: %v", typ, d, res.Err)
		}
		want, got := string(res.Rows[0][0]), string(AppendDatum(nil, d, typ))
		if got != want && mismatches < 20 {
			mismatches++
			t.Errorf("%s %#v: Sluice prints %q, PostgreSQL %q", typ, d, got, want)
		}
		if typ == Float4 || typ == Float8 {
			return // NaN payloads aside, floats are covered by the comparison
		}
		if back, err := ParseText(got, typ); err != nil || !datumEqual(back, d) {
			t.Errorf("%s %q reads back as %#v, %v; want %#v", typ, got, back, err, d)
		}
	}
	pick := func(vs ...int64) int64 { return vs[r.Intn(len(vs))] }
	for i := 0; i < 3000; i++ {
		check(math.Float64frombits(r.Uint64()), Float8)
		check(math.Float32frombits(r.Uint32()), Float4)
		// Round decimals are the values most likely to sit on a rounding
		// boundary, where Go's and Ryu's shortest digits can differ.
		dec := float64(r.Int63n(1_000_000)) * math.Pow10(r.Intn(40)-20)
		check(dec, Float8)
		check(float32(dec), Float4)
		check(IntervalValue{
			Months: int32(pick(0, r.Int63n(30)-15, r.Int63n(1<<32)-1<<31)),
			Days:   int32(pick(0, r.Int63n(60)-30, r.Int63n(1<<32)-1<<31)),
			Micros: pick(0, r.Int63n(2*MicrosPerDay)-MicrosPerDay, r.Int63n(maxIntervalMicros)-r.Int63n(maxIntervalMicros),
				r.Int63n(2_000_000)-1_000_000),
		}, Interval)
		ts := pick(minTimestamp+r.Int63n(math.MaxInt64), r.Int63n(4e15)-2e15, r.Int63n(2e12)*1e6)
		check(ts, Timestamp)
		check(ts, TimestampTZ)
		check(int32(minDate+r.Int63n(maxDate-minDate+1)), Date)
		check(r.Int63n(MicrosPerDay+1), Time)
	}
}
