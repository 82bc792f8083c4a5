package format

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/types"
)

// An Encoder writes rows of Arrow records as records of FORMAT PLAIN ENCODE
// JSON or ENCODE CSV: a JSON object or a CSV line per row, for sinks. It is
// the inverse of a Decoder: what it writes, a Decoder of the same schema
// reads back as the same row (but see the CSV caveat about empty strings).
//
// The value forms:
//
//   - boolean: JSON true/false; CSV t/f as PostgreSQL prints them.
//   - smallint, integer, bigint, real, double precision, numeric: JSON
//     numbers in PostgreSQL's text form (numeric without an exponent); NaN
//     and ±Infinity, which JSON numbers cannot express, are the JSON strings
//     "NaN", "Infinity" and "-Infinity".
//   - timestamp and timestamptz: "2026-01-02 03:04:05.123456", always six
//     fractional digits and no zone (timestamptz is in UTC), as RisingWave's
//     JSON sinks write them by default (timestamp.handling.mode = 'string',
//     timestamptz.handling.mode = 'utc_without_suffix').
//   - jsonb: the JSON value itself, embedded (RisingWave writes it as a JSON
//     string holding the text; the embedded form is what a reader expects).
//   - text, varchar: JSON strings.
//   - date, time, interval, bytea: JSON strings holding PostgreSQL's text
//     output ("2026-01-02", "03:04:05.5", "1 day 02:00:00", "\\x0a0b"), which
//     the decoders parse back. RisingWave writes dates as day numbers,
//     times as milliseconds, intervals in ISO 8601 and bytea in base64;
//     Sluice prefers the forms its own readers and PostgreSQL understand.
//   - NULL: JSON null (the key is present); in CSV an empty unquoted field.
//
// CSV fields are the same text forms, separated by the delimiter and quoted
// (RFC 4180, quotes doubled) when they contain the delimiter, a quote, a
// newline, or are empty: so an empty string is "" and NULL is nothing, as
// PostgreSQL's COPY ... CSV writes them. The Decoder reads both as the empty
// string in a text column.
//
// An Encoder is bound to one record at a time (Bind) and then appends rows
// (AppendRow) without allocating: column arrays are resolved to their
// concrete types once per record, and values are formatted straight into
// the caller's buffer.
type Encoder struct {
	csv   bool
	delim byte
	cols  []encColumn
}

// encColumn is one encoded column: where it is in the schema, its type, its
// JSON key, and its array in the bound record resolved to a concrete type.
type encColumn struct {
	index int
	typ   types.T
	name  string
	// key is `"name":` with the separator before it ('{' or ','), JSON only.
	key []byte

	arr  arrow.Array
	bl   *array.Boolean
	i16  *array.Int16
	i32  *array.Int32
	i64  *array.Int64
	f32  *array.Float32
	f64  *array.Float64
	str  *array.String
	ts   *array.Timestamp
	text bool // formatted by types.AppendText
}

// NewEncoder returns an encoder for ENCODE encode (case-insensitive) with
// its options, writing the columns cols of schema in that order (nil means
// every column). ENCODE JSON takes no options; ENCODE CSV takes delimiter
// and header (the caller decides where a header goes: see AppendHeader).
func NewEncoder(encode string, opts map[string]string, schema types.Schema, cols []int) (*Encoder, error) {
	e := &Encoder{}
	switch strings.ToUpper(encode) {
	case "JSON":
		for k := range opts {
			return nil, pgerror.New(pgerror.InvalidParameterValue, "unknown ENCODE JSON option %q (ENCODE JSON takes no options)", k)
		}
	case "CSV":
		o, err := ParseCSVOptions(opts)
		if err != nil {
			return nil, err
		}
		e.csv, e.delim = true, o.Delimiter
	default:
		return nil, pgerror.New(pgerror.FeatureNotSupported,
			"ENCODE %s is not supported (supported: %s)", encode, strings.Join(Encodes, ", "))
	}
	if cols == nil {
		cols = make([]int, len(schema))
		for i := range cols {
			cols[i] = i
		}
	}
	e.cols = make([]encColumn, len(cols))
	for i, idx := range cols {
		if idx < 0 || idx >= len(schema) {
			return nil, pgerror.New(pgerror.InternalError, "encoder: column %d is not in the schema", idx)
		}
		c := schema[idx]
		switch c.Type {
		case types.Bool, types.Int2, types.Int4, types.Int8, types.Float4, types.Float8, types.Numeric,
			types.Text, types.Varchar, types.JSONB, types.Bytea, types.Date, types.Time,
			types.Timestamp, types.TimestampTZ, types.Interval:
		default:
			return nil, pgerror.New(pgerror.FeatureNotSupported,
				"column %q: encoding type %s is not supported", c.Name, c.Type)
		}
		ec := encColumn{index: idx, typ: c.Type, name: c.Name}
		if !e.csv {
			sep := byte(',')
			if i == 0 {
				sep = '{'
			}
			ec.key = appendJSONString([]byte{sep}, c.Name)
			ec.key = append(ec.key, ':')
		}
		e.cols[i] = ec
	}
	return e, nil
}

// Bind makes rec the record whose rows AppendRow encodes. rec must have the
// schema the encoder was built for; the encoder does not retain it beyond
// the next Bind.
func (e *Encoder) Bind(rec arrow.Record) {
	for i := range e.cols {
		c := &e.cols[i]
		c.arr = rec.Column(c.index)
		c.bl, c.i16, c.i32, c.i64, c.f32, c.f64, c.str, c.ts = nil, nil, nil, nil, nil, nil, nil, nil
		c.text = false
		switch c.typ {
		case types.Bool:
			c.bl = c.arr.(*array.Boolean)
		case types.Int2:
			c.i16 = c.arr.(*array.Int16)
		case types.Int4:
			c.i32 = c.arr.(*array.Int32)
		case types.Int8:
			c.i64 = c.arr.(*array.Int64)
		case types.Float4:
			c.f32 = c.arr.(*array.Float32)
		case types.Float8, types.Numeric:
			c.f64 = c.arr.(*array.Float64)
		case types.Text, types.Varchar, types.JSONB:
			c.str = c.arr.(*array.String)
		case types.Timestamp, types.TimestampTZ:
			c.ts = c.arr.(*array.Timestamp)
		default:
			c.text = true
		}
	}
}

// AppendRow appends row i of the bound record, as one JSON object or one
// CSV line without its newline, to buf.
func (e *Encoder) AppendRow(buf []byte, i int) []byte {
	if e.csv {
		return e.appendCSV(buf, i)
	}
	return e.appendJSON(buf, i)
}

// AppendHeader appends a CSV header line (without its newline) naming the
// encoded columns; for JSON it appends nothing.
func (e *Encoder) AppendHeader(buf []byte) []byte {
	if !e.csv {
		return buf
	}
	for i := range e.cols {
		if i > 0 {
			buf = append(buf, e.delim)
		}
		start := len(buf)
		buf = append(buf, e.cols[i].name...)
		buf = e.quoteCSV(buf, start)
	}
	return buf
}

func (e *Encoder) appendJSON(buf []byte, i int) []byte {
	if len(e.cols) == 0 {
		return append(buf, '{', '}')
	}
	for k := range e.cols {
		c := &e.cols[k]
		buf = append(buf, c.key...)
		if c.arr.IsNull(i) {
			buf = append(buf, "null"...)
			continue
		}
		switch c.typ {
		case types.Bool:
			buf = strconv.AppendBool(buf, c.bl.Value(i))
		case types.Int2:
			buf = strconv.AppendInt(buf, int64(c.i16.Value(i)), 10)
		case types.Int4:
			buf = strconv.AppendInt(buf, int64(c.i32.Value(i)), 10)
		case types.Int8:
			buf = strconv.AppendInt(buf, c.i64.Value(i), 10)
		case types.Float4:
			buf = appendJSONNumber(buf, c.arr, i, c.typ, float64(c.f32.Value(i)))
		case types.Float8, types.Numeric:
			buf = appendJSONNumber(buf, c.arr, i, c.typ, c.f64.Value(i))
		case types.Text, types.Varchar:
			buf = appendJSONString(buf, c.str.Value(i))
		case types.JSONB:
			buf = append(buf, c.str.Value(i)...)
		case types.Timestamp, types.TimestampTZ:
			buf = append(buf, '"')
			buf = appendSinkTimestamp(buf, int64(c.ts.Value(i)))
			buf = append(buf, '"')
		default:
			// date, time, interval, bytea: PostgreSQL's text output, which
			// needs no JSON escaping except bytea's backslash.
			buf = append(buf, '"')
			start := len(buf)
			buf = types.AppendText(buf, c.arr, i, c.typ)
			if c.typ == types.Bytea {
				buf = escapeBackslashes(buf, start)
			}
			buf = append(buf, '"')
		}
	}
	return append(buf, '}')
}

// appendJSONNumber appends a floating-point or numeric value in PostgreSQL's
// text form, which is a valid JSON number unless it is not finite.
func appendJSONNumber(buf []byte, arr arrow.Array, i int, t types.T, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(buf, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(buf, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(buf, `"-Infinity"`...)
	}
	return types.AppendText(buf, arr, i, t)
}

// escapeBackslashes doubles every backslash in buf[start:], in place.
func escapeBackslashes(buf []byte, start int) []byte {
	n := 0
	for _, c := range buf[start:] {
		if c == '\\' {
			n++
		}
	}
	if n == 0 {
		return buf
	}
	end := len(buf)
	buf = append(buf, make([]byte, n)...)
	w := len(buf)
	for r := end - 1; r >= start; r-- {
		w--
		buf[w] = buf[r]
		if buf[r] == '\\' {
			w--
			buf[w] = '\\'
		}
	}
	return buf
}

func (e *Encoder) appendCSV(buf []byte, i int) []byte {
	for k := range e.cols {
		c := &e.cols[k]
		if k > 0 {
			buf = append(buf, e.delim)
		}
		if c.arr.IsNull(i) {
			continue
		}
		start := len(buf)
		switch c.typ {
		case types.Bool:
			if c.bl.Value(i) {
				buf = append(buf, 't')
			} else {
				buf = append(buf, 'f')
			}
		case types.Int2:
			buf = strconv.AppendInt(buf, int64(c.i16.Value(i)), 10)
		case types.Int4:
			buf = strconv.AppendInt(buf, int64(c.i32.Value(i)), 10)
		case types.Int8:
			buf = strconv.AppendInt(buf, c.i64.Value(i), 10)
		case types.Text, types.Varchar, types.JSONB:
			buf = append(buf, c.str.Value(i)...)
			buf = e.quoteCSV(buf, start)
		case types.Timestamp, types.TimestampTZ:
			buf = appendSinkTimestamp(buf, int64(c.ts.Value(i)))
		default:
			buf = types.AppendText(buf, c.arr, i, c.typ)
			buf = e.quoteCSV(buf, start)
		}
	}
	return buf
}

// quoteCSV quotes the field buf[start:] in place if it needs it: when it is
// empty (so that it is not read as NULL) or holds the delimiter, a quote, or
// a line break.
func (e *Encoder) quoteCSV(buf []byte, start int) []byte {
	field := buf[start:]
	needs, quotes := len(field) == 0, 0
	for _, c := range field {
		switch c {
		case '"':
			quotes++
			needs = true
		case '\n', '\r', e.delim:
			needs = true
		}
	}
	if !needs {
		return buf
	}
	end := len(buf)
	buf = append(buf, make([]byte, quotes+2)...)
	w := len(buf)
	w--
	buf[w] = '"'
	for r := end - 1; r >= start; r-- {
		w--
		buf[w] = buf[r]
		if buf[r] == '"' {
			w--
			buf[w] = '"'
		}
	}
	buf[start] = '"'
	return buf
}

// appendSinkTimestamp appends microseconds since the epoch as
// YYYY-MM-DD HH:MM:SS.ffffff, always with six fractional digits (RisingWave's
// sink format), with PostgreSQL's " BC" suffix for years before 1 and its
// spellings of the infinities.
func appendSinkTimestamp(buf []byte, micros int64) []byte {
	if micros == math.MaxInt64 || micros == math.MinInt64 {
		return types.AppendTimestamp(buf, micros, false) // infinity, -infinity
	}
	frac := micros % 1_000_000
	if frac < 0 {
		frac += 1_000_000
	}
	start := len(buf)
	buf = types.AppendTimestamp(buf, micros-frac, false)
	bc := len(buf)-start > 3 && string(buf[len(buf)-3:]) == " BC"
	if bc {
		buf = buf[:len(buf)-3]
	}
	buf = append(buf, '.',
		byte('0'+frac/100000), byte('0'+frac/10000%10), byte('0'+frac/1000%10),
		byte('0'+frac/100%10), byte('0'+frac/10%10), byte('0'+frac%10))
	if bc {
		buf = append(buf, " BC"...)
	}
	return buf
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string. s is valid UTF-8 (Sluice's
// text is); an invalid byte is replaced by U+FFFD rather than producing
// invalid JSON.
func appendJSONString(buf []byte, s string) []byte {
	buf = append(buf, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				buf = append(buf, s[start:i]...)
				buf = append(buf, `\ufffd`...)
				i++
				start = i
				continue
			}
			i += size
			continue
		}
		if c >= 0x20 && c != '"' && c != '\\' {
			i++
			continue
		}
		buf = append(buf, s[start:i]...)
		switch c {
		case '"', '\\':
			buf = append(buf, '\\', c)
		case '\n':
			buf = append(buf, '\\', 'n')
		case '\r':
			buf = append(buf, '\\', 'r')
		case '\t':
			buf = append(buf, '\\', 't')
		default:
			buf = append(buf, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		i++
		start = i
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"')
}
