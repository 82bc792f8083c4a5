package types

import (
	"bytes"
	"context"
	"errors"
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
