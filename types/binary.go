package types

// PostgreSQL's binary wire format (the typsend and typreceive functions), for
// clients that ask for binary results or send binary parameters. Everything
// is big-endian. Dates and timestamps count from 2000-01-01 on the wire and
// from 1970-01-01 in storage; the infinities map to PostgreSQL's.

import (
	"encoding/binary"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/sluicedb/sluice/pgerror"
)

const (
	// pgEpochDays is 2000-01-01, PostgreSQL's epoch, in days since 1970.
	pgEpochDays = 10957
	// pgEpochMicros is the same in microseconds.
	pgEpochMicros = pgEpochDays * MicrosPerDay
)

// numeric sign words of the binary format.
const (
	numericPos  = 0x0000
	numericNeg  = 0x4000
	numericNaN  = 0xC000
	numericPInf = 0xD000
	numericNInf = 0xF000
	// infinityDscale is the display scale PostgreSQL 15 sends with the
	// numeric infinities (what its header bits happen to decode to).
	infinityDscale = 32
)

// AppendBinary appends the PostgreSQL binary (send) encoding of row i of arr,
// a column of type t. The caller has checked that the row is not null.
func AppendBinary(buf []byte, arr arrow.Array, i int, t T) []byte {
	if t.IsCatalog() {
		if isUint32Type(t) {
			return binary.BigEndian.AppendUint32(buf, uint32(arr.(*array.Int64).Value(i)))
		}
		return appendCatalogBinary(buf, arr.(*array.String).Value(i), t)
	}
	switch t {
	case Bool:
		return appendBinaryBool(buf, arr.(*array.Boolean).Value(i))
	case Int2:
		return binary.BigEndian.AppendUint16(buf, uint16(arr.(*array.Int16).Value(i)))
	case Int4:
		return binary.BigEndian.AppendUint32(buf, uint32(arr.(*array.Int32).Value(i)))
	case Int8:
		return binary.BigEndian.AppendUint64(buf, uint64(arr.(*array.Int64).Value(i)))
	case Float4:
		return appendBinaryFloat4(buf, arr.(*array.Float32).Value(i))
	case Float8:
		return appendBinaryFloat8(buf, arr.(*array.Float64).Value(i))
	case Numeric:
		return appendBinaryNumeric(buf, arr.(*array.Float64).Value(i))
	case Text, Varchar, Unknown:
		return append(buf, arr.(*array.String).Value(i)...)
	case JSONB:
		return append(append(buf, 1), arr.(*array.String).Value(i)...)
	case Bytea:
		return append(buf, arr.(*array.Binary).Value(i)...)
	case Date:
		return appendBinaryDate(buf, int32(arr.(*array.Date32).Value(i)))
	case Time:
		return binary.BigEndian.AppendUint64(buf, uint64(arr.(*array.Time64).Value(i)))
	case Timestamp, TimestampTZ:
		return appendBinaryTimestamp(buf, int64(arr.(*array.Timestamp).Value(i)))
	case Interval:
		return appendBinaryInterval(buf, intervalFromArrow(arr.(*array.MonthDayNanoInterval).Value(i)))
	}
	panic("types: no binary output for type " + t.String())
}

// AppendDatumBinary appends the PostgreSQL binary encoding of d, a non-nil
// Datum of type t.
func AppendDatumBinary(buf []byte, d Datum, t T) []byte {
	if t.IsCatalog() {
		return appendCatalogBinary(buf, d, t)
	}
	switch t {
	case Bool:
		return appendBinaryBool(buf, d.(bool))
	case Int2:
		return binary.BigEndian.AppendUint16(buf, uint16(d.(int16)))
	case Int4:
		return binary.BigEndian.AppendUint32(buf, uint32(d.(int32)))
	case Int8:
		return binary.BigEndian.AppendUint64(buf, uint64(d.(int64)))
	case Float4:
		return appendBinaryFloat4(buf, d.(float32))
	case Float8:
		return appendBinaryFloat8(buf, d.(float64))
	case Numeric:
		return appendBinaryNumeric(buf, d.(float64))
	case Text, Varchar, Unknown:
		return append(buf, d.(string)...)
	case JSONB:
		return append(append(buf, 1), d.(string)...)
	case Bytea:
		return append(buf, d.([]byte)...)
	case Date:
		return appendBinaryDate(buf, d.(int32))
	case Time:
		return binary.BigEndian.AppendUint64(buf, uint64(d.(int64)))
	case Timestamp, TimestampTZ:
		return appendBinaryTimestamp(buf, d.(int64))
	case Interval:
		return appendBinaryInterval(buf, d.(IntervalValue))
	}
	panic("types: no binary output for type " + t.String())
}

// ParseBinary decodes PostgreSQL's binary (receive) encoding of a value of
// type t. Errors are *pgerror.Error.
func ParseBinary(b []byte, t T) (Datum, error) {
	if t.IsCatalog() {
		return parseCatalogBinary(b, t)
	}
	switch t {
	case Bool:
		if len(b) != 1 {
			return nil, errBinaryFormat(t)
		}
		return b[0] != 0, nil
	case Int2:
		if len(b) != 2 {
			return nil, errBinaryFormat(t)
		}
		return int16(binary.BigEndian.Uint16(b)), nil
	case Int4:
		if len(b) != 4 {
			return nil, errBinaryFormat(t)
		}
		return int32(binary.BigEndian.Uint32(b)), nil
	case Int8:
		if len(b) != 8 {
			return nil, errBinaryFormat(t)
		}
		return int64(binary.BigEndian.Uint64(b)), nil
	case Float4:
		if len(b) != 4 {
			return nil, errBinaryFormat(t)
		}
		return math.Float32frombits(binary.BigEndian.Uint32(b)), nil
	case Float8:
		if len(b) != 8 {
			return nil, errBinaryFormat(t)
		}
		return math.Float64frombits(binary.BigEndian.Uint64(b)), nil
	case Numeric:
		return parseBinaryNumeric(b)
	case Text, Varchar, Unknown:
		s := string(b)
		if !utf8.ValidString(s) {
			return nil, errInvalidUTF8(s)
		}
		return s, nil
	case JSONB:
		if len(b) == 0 || b[0] != 1 {
			return nil, pgerror.New(codeInvalidBinaryRepresentation, "unsupported jsonb version number")
		}
		return parseJSONB(string(b[1:]))
	case Bytea:
		return append([]byte{}, b...), nil
	case Date:
		if len(b) != 4 {
			return nil, errBinaryFormat(t)
		}
		return dateFromWire(int32(binary.BigEndian.Uint32(b)))
	case Time:
		if len(b) != 8 {
			return nil, errBinaryFormat(t)
		}
		v := int64(binary.BigEndian.Uint64(b))
		if v < 0 || v > MicrosPerDay {
			return nil, pgerror.New(pgerror.DatetimeFieldOverflow, "time out of range")
		}
		return v, nil
	case Timestamp, TimestampTZ:
		if len(b) != 8 {
			return nil, errBinaryFormat(t)
		}
		return timestampFromWire(int64(binary.BigEndian.Uint64(b)))
	case Interval:
		if len(b) != 16 {
			return nil, errBinaryFormat(t)
		}
		iv := IntervalValue{
			Micros: int64(binary.BigEndian.Uint64(b)),
			Days:   int32(binary.BigEndian.Uint32(b[8:])),
			Months: int32(binary.BigEndian.Uint32(b[12:])),
		}
		if iv.Micros > maxIntervalMicros || iv.Micros < -maxIntervalMicros {
			return nil, pgerror.New(pgerror.DatetimeFieldOverflow, "interval out of range")
		}
		return iv, nil
	}
	return nil, pgerror.New(pgerror.FeatureNotSupported, "no binary input function for type %s", t)
}

func errBinaryFormat(t T) *pgerror.Error {
	return pgerror.New(codeInvalidBinaryRepresentation, "incorrect binary data format for type %s", t)
}

func appendBinaryBool(buf []byte, v bool) []byte {
	if v {
		return append(buf, 1)
	}
	return append(buf, 0)
}

// appendBinaryFloat4 and appendBinaryFloat8 send every NaN as the one
// PostgreSQL produces, whatever payload the arithmetic left in it.
func appendBinaryFloat4(buf []byte, f float32) []byte {
	if f != f {
		return binary.BigEndian.AppendUint32(buf, 0x7fc00000)
	}
	return binary.BigEndian.AppendUint32(buf, math.Float32bits(f))
}

func appendBinaryFloat8(buf []byte, f float64) []byte {
	if f != f {
		return binary.BigEndian.AppendUint64(buf, 0x7ff8000000000000)
	}
	return binary.BigEndian.AppendUint64(buf, math.Float64bits(f))
}

func appendBinaryDate(buf []byte, days int32) []byte {
	wire := days // the infinities are the same extreme values on both sides
	if days != dateInfinity && days != dateNegInfinity {
		wire = days - pgEpochDays
	}
	return binary.BigEndian.AppendUint32(buf, uint32(wire))
}

func dateFromWire(wire int32) (Datum, error) {
	if wire == dateInfinity || wire == dateNegInfinity {
		return wire, nil
	}
	days := int64(wire) + pgEpochDays
	if days < minDate || days > maxDate {
		return nil, pgerror.New(pgerror.DatetimeFieldOverflow, "date out of range")
	}
	return int32(days), nil
}

func appendBinaryTimestamp(buf []byte, micros int64) []byte {
	wire := micros
	switch {
	case micros == timestampInfinity || micros == timestampNegInfinity:
	case micros < math.MinInt64+pgEpochMicros:
		wire = timestampNegInfinity // below PostgreSQL's range; cannot happen for parsed values
	default:
		wire = micros - pgEpochMicros
	}
	return binary.BigEndian.AppendUint64(buf, uint64(wire))
}

func timestampFromWire(wire int64) (Datum, error) {
	if wire == timestampInfinity || wire == timestampNegInfinity {
		return wire, nil
	}
	if wire > math.MaxInt64-pgEpochMicros-1 || wire+pgEpochMicros < minTimestamp ||
		(wire+pgEpochMicros)/MicrosPerDay > maxTimestampDays {
		return nil, pgerror.New(pgerror.DatetimeFieldOverflow, "timestamp out of range")
	}
	return wire + pgEpochMicros, nil
}

func appendBinaryInterval(buf []byte, iv IntervalValue) []byte {
	buf = binary.BigEndian.AppendUint64(buf, uint64(iv.Micros))
	buf = binary.BigEndian.AppendUint32(buf, uint32(iv.Days))
	return binary.BigEndian.AppendUint32(buf, uint32(iv.Months))
}

// appendBinaryNumeric encodes the float64 storage of a numeric in
// PostgreSQL's numeric_send format, with the same decimal digits the text
// output shows: ndigits, weight, sign, dscale (int16 each), then ndigits
// base-10000 digits, the first of which is worth 10000^weight.
func appendBinaryNumeric(buf []byte, f float64) []byte {
	header := func(ndigits, weight int, sign uint16, dscale int) []byte {
		buf = binary.BigEndian.AppendUint16(buf, uint16(ndigits))
		buf = binary.BigEndian.AppendUint16(buf, uint16(int16(weight)))
		buf = binary.BigEndian.AppendUint16(buf, sign)
		return binary.BigEndian.AppendUint16(buf, uint16(dscale))
	}
	switch {
	case math.IsNaN(f):
		return header(0, 0, numericNaN, 0)
	case math.IsInf(f, 1):
		return header(0, 0, numericPInf, infinityDscale)
	case math.IsInf(f, -1):
		return header(0, 0, numericNInf, infinityDscale)
	case f == 0:
		return header(0, 0, numericPos, 0)
	}
	var scratch [24]byte
	neg, digits, exp := numericDigits(scratch[:0], f)
	// digits[k] is worth 10^(exp-k). Base-10000 digit g covers the decimal
	// positions 4g .. 4g+3.
	lowPos := exp - (len(digits) - 1) // position of the last significant digit
	dscale := 0
	if lowPos < 0 {
		dscale = -lowPos
	}
	weight := floorDiv4(exp)
	lowGroup := floorDiv4(lowPos)
	sign := uint16(numericPos)
	if neg {
		sign = numericNeg
	}
	buf = header(weight-lowGroup+1, weight, sign, dscale)
	for g := weight; g >= lowGroup; g-- {
		v := 0
		for pos := 4*g + 3; pos >= 4*g; pos-- {
			k := exp - pos
			d := 0
			if k >= 0 && k < len(digits) {
				d = int(digits[k] - '0')
			}
			v = v*10 + d
		}
		buf = binary.BigEndian.AppendUint16(buf, uint16(v))
	}
	return buf
}

func floorDiv4(x int) int {
	if x >= 0 {
		return x / 4
	}
	return -((-x + 3) / 4)
}

// parseBinaryNumeric decodes numeric_send's format into the float64 storage.
func parseBinaryNumeric(b []byte) (Datum, error) {
	if len(b) < 8 {
		return nil, errBinaryFormat(Numeric)
	}
	ndigits := int(int16(binary.BigEndian.Uint16(b)))
	weight := int(int16(binary.BigEndian.Uint16(b[2:])))
	sign := binary.BigEndian.Uint16(b[4:])
	if ndigits < 0 || len(b) != 8+2*ndigits {
		return nil, errBinaryFormat(Numeric)
	}
	switch sign {
	case numericNaN:
		return canonicalNaN, nil
	case numericPInf:
		return math.Inf(1), nil
	case numericNInf:
		return math.Inf(-1), nil
	case numericPos, numericNeg:
	default:
		return nil, pgerror.New(codeInvalidBinaryRepresentation, "invalid sign in external \"numeric\" value")
	}
	if ndigits == 0 {
		return 0.0, nil
	}
	// Write the digits as decimal text with an exponent and let ParseFloat
	// round it correctly.
	text := make([]byte, 0, 4*ndigits+16)
	if sign == numericNeg {
		text = append(text, '-')
	}
	for k := 0; k < ndigits; k++ {
		d := binary.BigEndian.Uint16(b[8+2*k:])
		if d > 9999 {
			return nil, pgerror.New(codeInvalidBinaryRepresentation, "invalid digit in external \"numeric\" value")
		}
		text = append(text, byte('0'+d/1000), byte('0'+d/100%10), byte('0'+d/10%10), byte('0'+d%10))
	}
	// The first group is worth 10000^weight, so the last is worth
	// 10000^(weight-ndigits+1).
	text = append(text, 'e')
	text = strconv.AppendInt(text, int64(4*(weight-ndigits+1)), 10)
	f, err := strconv.ParseFloat(string(text), 64)
	if err != nil || math.IsInf(f, 0) {
		return nil, pgerror.New(pgerror.NumericValueOutOfRange, "value overflows numeric format").
			WithDetail("Sluice stores numeric as double precision.")
	}
	if f == 0 {
		f = 0
	}
	return f, nil
}
