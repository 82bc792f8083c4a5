package postgrescdc

import (
	"strings"
	"testing"

	"github.com/jackc/pglogrepl"

	"github.com/sluicedb/sluice/connectors"
	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/types"
)

func TestPositionRoundTrip(t *testing.T) {
	for _, p := range []position{
		{lsn: 0x16B3748},
		{lsn: 0x1_0000_0000, snapshot: true},
		{lsn: 42, snapshot: true, key: []string{"41", `a "quoted", key:with:colons`}},
	} {
		enc := p.encode()
		got, err := parsePosition(enc)
		if err != nil {
			t.Fatalf("%q: %v", enc, err)
		}
		if got.lsn != p.lsn || got.snapshot != p.snapshot || strings.Join(got.key, "\x00") != strings.Join(p.key, "\x00") {
			t.Errorf("%q read back as %+v, want %+v", enc, got, p)
		}
	}
	if got := (position{lsn: 0x16B3748}).encode(); got != "lsn:0/16B3748" {
		t.Errorf("encoded %q, want lsn:0/16B3748", got)
	}
	for _, bad := range []connectors.Position{"", "12", "lsn:", "lsn:0/0", "lsn:x", "snapshot:0/1", "snapshot:0/1:[", "snapshot:0/1:[]", "snapshot:0/1:null"} {
		if _, err := parsePosition(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestOptions(t *testing.T) {
	c := Connector()
	if c.Name != "postgres-cdc" || c.NewSource == nil || c.Sink != nil {
		t.Fatalf("connector %q: want a source named postgres-cdc", c.Name)
	}
	for _, o := range c.Options {
		if o.Doc == "" {
			t.Errorf("option %s has no Doc", o.Key)
		}
	}
	base := map[string]string{optHost: "db", optUser: "u", optDatabase: "d", optTable: "orders"}
	o, err := c.Validate(base)
	if err != nil {
		t.Fatal(err)
	}
	s, err := parseSettings("Orders-2026", o)
	if err != nil {
		t.Fatal(err)
	}
	if s.slot != "sluice_orders_2026" || s.publication != "sluice_Orders-2026_pub" || s.schema != "public" || !s.snapshot || !s.createPub {
		t.Errorf("defaults: %+v", s)
	}
	if !strings.Contains(s.dsn, "port='5432'") || !strings.Contains(s.dsn, "sslmode='disable'") || strings.Contains(s.dsn, "password") {
		t.Errorf("dsn %q", s.dsn)
	}
	long := strings.Repeat("x", 80)
	if s, err := parseSettings(long, o); err != nil || len(s.slot) != 63 || len(s.publication) != 63 {
		t.Errorf("long name: slot %q publication %q (%v)", s.slot, s.publication, err)
	}
	for k, v := range map[string]string{optSlot: "Bad-Slot", optPort: "70000"} {
		opts := map[string]string{k: v}
		for bk, bv := range base {
			opts[bk] = bv
		}
		o, err := c.Validate(opts)
		if err == nil {
			_, err = parseSettings("t", o)
		}
		if pgerror.Code(err) != pgerror.InvalidParameterValue {
			t.Errorf("%s = %q: got %v, want SQLSTATE 22023", k, v, err)
		}
	}
	if _, err := c.Validate(map[string]string{optHost: "db"}); err == nil {
		t.Error("missing required options: no error")
	}
}

func TestCompatible(t *testing.T) {
	col := func(typ types.T) types.Column { return types.Column{Name: "c", Type: typ} }
	up := func(oid uint32) upstreamColumn { return upstreamColumn{name: "c", typeOID: oid, typeName: "t"} }
	for _, tc := range []struct {
		oid  uint32
		to   types.T
		code string // "" for compatible
	}{
		{types.OIDInt4, types.Int4, ""},
		{types.OIDInt4, types.Int8, ""},
		{types.OIDInt8, types.Int4, pgerror.DatatypeMismatch},
		{types.OIDNumeric, types.Float8, ""},
		{types.OIDJSON, types.JSONB, ""},
		{1042, types.Text, ""},     // bpchar
		{2950, types.Varchar, ""},  // uuid
		{600, types.Text, ""},      // point, as text
		{600, types.Int4, "0A000"}, // point
		{types.OIDTimestamp, types.TimestampTZ, pgerror.DatatypeMismatch},
		{1007, types.ArrayOf(types.Int4), ""}, // int4[]
	} {
		err := compatible(up(tc.oid), col(tc.to))
		if got := pgerror.Code(err); (err == nil) != (tc.code == "") || (err != nil && got != tc.code) {
			t.Errorf("OID %d into %s: got %v, want %q", tc.oid, tc.to, err, tc.code)
		}
	}
}

func TestParseValueMatchesPostgresOutput(t *testing.T) {
	// What pgoutput prints with the session settings of setSessionParams.
	for _, tc := range []struct {
		typ  types.T
		text string
	}{
		{types.TimestampTZ, "2026-01-02 03:04:05.5+00"},
		{types.Timestamp, "2026-01-02 03:04:05.123456"},
		{types.Date, "2026-01-02"},
		{types.Interval, "1 year 2 mons 3 days 04:05:06.5"},
		{types.Float8, "0.30000000000000004"},
		{types.Bytea, `\x00ff`},
		{types.Bool, "t"},
		{types.JSONB, `{"a": [1, 2]}`},
		{types.ArrayOf(types.Int4), "{1,2,NULL}"},
	} {
		d, err := parseValue(types.Column{Name: "c", Type: tc.typ}, []byte(tc.text))
		if err != nil {
			t.Errorf("%s %q: %v", tc.typ, tc.text, err)
			continue
		}
		if got := string(types.AppendDatum(nil, d, tc.typ)); got != tc.text {
			t.Errorf("%s %q reads back as %q", tc.typ, tc.text, got)
		}
	}
	if _, err := parseValue(types.Column{Name: "n", Type: types.Int4}, []byte("x")); err == nil || !strings.Contains(err.Error(), `column "n"`) {
		t.Errorf("bad integer: %v", err)
	}
}

// TestKeyChanged pins how an update's old key is compared.
func TestKeyChanged(t *testing.T) {
	tuple := func(vals ...string) *pglogrepl.TupleData {
		td := &pglogrepl.TupleData{}
		for _, v := range vals {
			c := &pglogrepl.TupleDataColumn{DataType: pglogrepl.TupleDataTypeText, Data: []byte(v)}
			switch v {
			case "<null>":
				c = &pglogrepl.TupleDataColumn{DataType: pglogrepl.TupleDataTypeNull}
			case "<toast>":
				c = &pglogrepl.TupleDataColumn{DataType: pglogrepl.TupleDataTypeToast}
			}
			td.Columns = append(td.Columns, c)
		}
		return td
	}
	rel := &relation{key: []int{0, 2}}
	if keyChanged(rel, tuple("1", "a", "x"), tuple("1", "b", "x")) {
		t.Error("a change outside the key counted as a key change")
	}
	if !keyChanged(rel, tuple("1", "<null>", "x"), tuple("1", "b", "y")) {
		t.Error("a change of the second key column was missed")
	}
	if keyChanged(rel, tuple("1", "a", "x"), tuple("1", "a", "<toast>")) {
		t.Error("an unchanged TOASTed key counted as changed")
	}
}
