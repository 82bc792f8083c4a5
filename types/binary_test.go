package types

import (
	"encoding/hex"
	"math"
	"testing"

	"github.com/sluicedb/sluice/pgerror"
)

// binaryCases are values and the bytes PostgreSQL 15's send functions
// produce for them (SELECT int4send(5), numeric_send(12.5), ...).
var binaryCases = []struct {
	typ T
	d   Datum
	hex string
}{
	{Bool, true, "01"},
	{Bool, false, "00"},
	{Int2, int16(-2), "fffe"},
	{Int4, int32(5), "00000005"},
	{Int8, int64(1), "0000000000000001"},
	{Float4, float32(1.5), "3fc00000"},
	{Float8, 1.5, "3ff8000000000000"},
	{Float8, math.NaN(), "7ff8000000000000"},
	{Text, "ab", "6162"},
	{Bytea, []byte{0x01, 0xff}, "01ff"},
	{JSONB, `{"a": 1}`, "017b2261223a20317d"},
	{Date, int32(pgEpochDays + 1), "00000001"},       // 2000-01-02
	{Date, int32(dateInfinity), "7fffffff"},          // infinity
	{Date, int32(dateNegInfinity), "80000000"},       // -infinity
	{Time, int64(microsPerHour), "00000000d693a400"}, // 01:00:00
	{Timestamp, int64(pgEpochMicros + microsPerSecond), "00000000000f4240"},
	{TimestampTZ, int64(pgEpochMicros + microsPerSecond), "00000000000f4240"},
	{Timestamp, int64(timestampInfinity), "7fffffffffffffff"},
	{TimestampTZ, int64(timestampNegInfinity), "8000000000000000"},
	{Interval, IntervalValue{Days: 1, Micros: 2 * microsPerHour}, "00000001ad2748000000000100000000"},
	{Interval, IntervalValue{Months: 15, Days: -4, Micros: -microsPerSecond}, "fffffffffff0bdc0fffffffc0000000f"},
	{Numeric, 12.5, "0002000000000001000c1388"},
	{Numeric, 0.0, "0000000000000000"},
	{Numeric, -0.001, "0001ffff40000003000a"},
	{Numeric, 10000.0, "00010001000000000001"},
	{Numeric, 123456789.123456, "0005000200000006000109291a8504d215e0"},
	{Numeric, 1e20, "00010005000000000001"},
	{Numeric, 1e-20, "0001fffb000000140001"},
	{Numeric, math.NaN(), "00000000c0000000"},
	{Numeric, math.Inf(1), "00000000d0000020"},
	{Numeric, math.Inf(-1), "00000000f0000020"},
	{Numeric, 0.5, "0001ffff000000011388"},
	{Numeric, -3.0, "00010000400000000003"},
}

func TestBinaryEncoding(t *testing.T) {
	for _, c := range binaryCases {
		got := hex.EncodeToString(AppendDatumBinary(nil, c.d, c.typ))
		if got != c.hex {
			t.Errorf("%s %v: sent %s, PostgreSQL sends %s", c.typ, c.d, got, c.hex)
		}
		b, _ := hex.DecodeString(c.hex)
		back, err := ParseBinary(b, c.typ)
		if err != nil {
			t.Errorf("%s %s: %v", c.typ, c.hex, err)
			continue
		}
		if !datumEqual(back, c.d) {
			t.Errorf("%s %s: received %#v, want %#v", c.typ, c.hex, back, c.d)
		}
	}
}

func TestParseBinaryNumeric(t *testing.T) {
	for _, c := range []struct {
		hex  string
		want float64
	}{
		{"0002000000000002000c1388", 12.5}, // 12.50: the display scale is not kept
		{"0003000100000004000100000001", 10000.0001},
		{"00010002400000000001", -1e8},
		{"000200000000000000000000", 0}, // zeros only
		{"0001fff6000000280001", 1e-40}, // weight -10
	} {
		b, _ := hex.DecodeString(c.hex)
		got, err := ParseBinary(b, Numeric)
		if err != nil || got != c.want {
			t.Errorf("%s: got %v, %v; want %v", c.hex, got, err, c.want)
		}
	}
}

func TestParseBinaryErrors(t *testing.T) {
	for _, c := range []struct {
		typ  T
		hex  string
		code string
	}{
		{Int4, "000005", codeInvalidBinaryRepresentation},
		{Int8, "00000005", codeInvalidBinaryRepresentation},
		{Bool, "", codeInvalidBinaryRepresentation},
		{Float8, "3ff8", codeInvalidBinaryRepresentation},
		{Numeric, "000100000000", codeInvalidBinaryRepresentation},
		{Numeric, "00010000000000002710", codeInvalidBinaryRepresentation}, // digit 10000
		{Numeric, "00000000a0000000", codeInvalidBinaryRepresentation},     // bad sign
		{Numeric, "00017fff000000000001", pgerror.NumericValueOutOfRange},  // 10000^32767
		{JSONB, "027b7d", codeInvalidBinaryRepresentation},
		{JSONB, "017b", pgerror.InvalidTextRepresentation},
		{Text, "ff", codeCharacterNotInRepertoire},
		{Time, "000000141dd76001", pgerror.DatetimeFieldOverflow}, // 24:00:00.000001
		{Date, "7ffffffe", pgerror.DatetimeFieldOverflow},
		{Timestamp, "7ffffffffffffffe", pgerror.DatetimeFieldOverflow},
		{Interval, "7fffffffffffffff0000000000000000", pgerror.DatetimeFieldOverflow},
		{Interval, "00", codeInvalidBinaryRepresentation},
	} {
		b, _ := hex.DecodeString(c.hex)
		_, err := ParseBinary(b, c.typ)
		if pgerror.Code(err) != c.code {
			t.Errorf("%s %s: error %v, want code %s", c.typ, c.hex, err, c.code)
		}
	}
}

// TestBinaryRoundTrip sends every valid text case through the binary
// format and back.
func TestBinaryRoundTrip(t *testing.T) {
	for typ, cases := range textCases {
		for _, c := range cases {
			if c.code != "" {
				continue
			}
			d, err := ParseText(c.in, typ)
			if err != nil {
				continue
			}
			b := AppendDatumBinary(nil, d, typ)
			back, err := ParseBinary(b, typ)
			if err != nil {
				t.Errorf("%s %q: binary %x: %v", typ, c.in, b, err)
				continue
			}
			if typ == Numeric {
				// The binary form carries the printed digits, not the float.
				if got, want := string(AppendDatum(nil, back, typ)), c.out; got != want {
					t.Errorf("%s %q: through binary prints %q, want %q", typ, c.in, got, want)
				}
				continue
			}
			if !datumEqual(back, d) {
				t.Errorf("%s %q: through binary %#v, want %#v", typ, c.in, back, d)
			}
		}
	}
}
