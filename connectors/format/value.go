package format

import (
	"math"
	"strconv"
	"unsafe"

	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/types"
)

// The conversions below turn one input value into a column's slot. They are
// shared by the JSON and CSV decoders: setText takes a value spelled as text
// (a CSV field, the contents of a JSON string), setNumber a JSON number
// literal, and so on. Errors name the column; they become the reason a record
// is skipped.

func unsupportedType(c types.Column) error {
	return pgerror.New(pgerror.FeatureNotSupported,
		"column %q: decoding into type %s is not supported", c.Name, c.Type)
}

func invalidInput(c *colBuilder, s []byte) error {
	return pgerror.New(pgerror.InvalidTextRepresentation,
		"column %q: invalid input syntax for type %s: %q", c.name, c.typ, truncate(s))
}

func outOfRange(c *colBuilder, s []byte) error {
	return pgerror.New(pgerror.NumericValueOutOfRange,
		"column %q: value %s is out of range for type %s", c.name, truncate(s), c.typ)
}

func cannotConvert(c *colBuilder, what string) error {
	return pgerror.New(pgerror.DatatypeMismatch,
		"column %q: cannot store a JSON %s in a column of type %s", c.name, what, c.typ)
}

// truncate bounds how much of a bad value an error message quotes.
func truncate(s []byte) string {
	const max = 64
	if len(s) > max {
		return string(s[:max]) + "..."
	}
	return string(s)
}

// unsafeString views b as a string without copying. Only for calls that do
// not keep the string (strconv copies it into any error it returns).
func unsafeString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// setText stores a value given as text.
func (r *rowBuilder) setText(col int, s []byte) error {
	c, sl := &r.cols[col], &r.slots[col]
	switch c.typ {
	case types.Text, types.Varchar:
		sl.bytes = s
	case types.JSONB:
		if err := validateJSON(s); err != nil {
			return pgerror.New(pgerror.InvalidTextRepresentation,
				"column %q: invalid input syntax for type json: %v", c.name, err)
		}
		sl.bytes = s
	case types.Int2, types.Int4, types.Int8:
		n, err := parseInteger(c, trimSpace(s))
		if err != nil {
			return err
		}
		sl.i = n
	case types.Float4, types.Float8, types.Numeric:
		f, err := strconv.ParseFloat(unsafeString(trimSpace(s)), 64)
		if err != nil && !isRangeErr(err) {
			return invalidInput(c, s)
		}
		if err != nil || (c.typ == types.Float4 && !fitsFloat32(f)) {
			return outOfRange(c, s)
		}
		sl.f = f
	case types.Bool:
		b, ok := parseBool(trimSpace(s))
		if !ok {
			return invalidInput(c, s)
		}
		sl.i = 0
		if b {
			sl.i = 1
		}
	case types.Timestamp:
		us, ok := parseISOTimestamp(trimSpace(s))
		if !ok {
			var err error
			if us, err = types.ParseTimestamp(string(s)); err != nil {
				return columnErr(c, err)
			}
		}
		sl.i = us
	default:
		d, err := types.ParseText(string(s), c.typ)
		if err != nil {
			return columnErr(c, err)
		}
		if err := setDatum(c, sl, d); err != nil {
			return err
		}
	}
	sl.set = true
	return nil
}

// setDatum stores a value produced by types.ParseText.
func setDatum(c *colBuilder, sl *slot, d types.Datum) error {
	switch v := d.(type) {
	case nil:
		sl.set = false
		return nil
	case int32:
		sl.i = int64(v)
	case int64:
		sl.i = v
	case []byte:
		sl.bytes = v
	case string:
		sl.bytes = []byte(v)
	case types.IntervalValue:
		sl.iv = v
	case bool:
		sl.i = 0
		if v {
			sl.i = 1
		}
	case float64:
		sl.f = v
	default:
		return pgerror.New(pgerror.InternalError, "column %q: unexpected %T for type %s", c.name, d, c.typ)
	}
	return nil
}

// columnErr prefixes a parse error with the column it concerns.
func columnErr(c *colBuilder, err error) error {
	pe := pgerror.Convert(err)
	return &pgerror.Error{Code: pe.Code, Message: "column \"" + c.name + "\": " + pe.Message}
}

// setNumber stores a JSON number literal (already checked against JSON's
// number grammar; integral says it has no fraction or exponent).
func (r *rowBuilder) setNumber(col int, lit []byte, integral bool) error {
	c, sl := &r.cols[col], &r.slots[col]
	switch c.typ {
	case types.Int2, types.Int4, types.Int8:
		var n int64
		if integral {
			v, err := parseInteger(c, lit)
			if err != nil {
				return err
			}
			n = v
		} else {
			f, err := strconv.ParseFloat(unsafeString(lit), 64)
			if err != nil || f != math.Trunc(f) {
				return pgerror.New(pgerror.InvalidTextRepresentation,
					"column %q: %s is not an integer", c.name, truncate(lit))
			}
			if f < -(1<<63) || f >= 1<<63 {
				return outOfRange(c, lit)
			}
			n = int64(f)
			if !intFits(c.typ, n) {
				return outOfRange(c, lit)
			}
		}
		sl.i = n
	case types.Float4, types.Float8, types.Numeric:
		f, err := strconv.ParseFloat(unsafeString(lit), 64)
		if err != nil || (c.typ == types.Float4 && !fitsFloat32(f)) {
			return outOfRange(c, lit)
		}
		sl.f = f
	case types.Timestamp, types.TimestampTZ:
		// Epoch milliseconds, the common wire form of event times.
		var ms int64
		if integral {
			v, err := strconv.ParseInt(unsafeString(lit), 10, 64)
			if err != nil {
				return outOfRange(c, lit)
			}
			ms = v
		} else {
			f, err := strconv.ParseFloat(unsafeString(lit), 64)
			if err != nil || math.Abs(f) >= math.MaxInt64/1000 {
				return outOfRange(c, lit)
			}
			sl.i = int64(math.Round(f * 1000))
			break
		}
		if ms > math.MaxInt64/1000 || ms < math.MinInt64/1000 {
			return outOfRange(c, lit)
		}
		sl.i = ms * 1000
	case types.Text, types.Varchar, types.JSONB:
		sl.bytes = lit
	default:
		return cannotConvert(c, "number")
	}
	sl.set = true
	return nil
}

// setBool stores a JSON true or false.
func (r *rowBuilder) setBool(col int, v bool) error {
	c, sl := &r.cols[col], &r.slots[col]
	switch c.typ {
	case types.Bool:
		sl.i = 0
		if v {
			sl.i = 1
		}
	case types.Text, types.Varchar, types.JSONB:
		if v {
			sl.bytes = litTrue
		} else {
			sl.bytes = litFalse
		}
	default:
		return cannotConvert(c, "boolean")
	}
	sl.set = true
	return nil
}

// setRawJSON stores a JSON object or array (or, for jsonb, any JSON value)
// as its JSON text.
func (r *rowBuilder) setRawJSON(col int, raw []byte, what string) error {
	c, sl := &r.cols[col], &r.slots[col]
	switch c.typ {
	case types.Text, types.Varchar, types.JSONB:
		sl.bytes = raw
	default:
		return cannotConvert(c, what)
	}
	sl.set = true
	return nil
}

func (r *rowBuilder) setNull(col int) { r.slots[col].set = false }

var (
	litTrue  = []byte("true")
	litFalse = []byte("false")
)

// parseInteger parses a decimal integer and checks it fits the column.
func parseInteger(c *colBuilder, s []byte) (int64, error) {
	n, ok := parseDecimal(s)
	if !ok {
		v, err := strconv.ParseInt(unsafeString(s), 10, 64)
		if err != nil {
			if isRangeErr(err) {
				return 0, outOfRange(c, s)
			}
			return 0, invalidInput(c, s)
		}
		n = v
	}
	if !intFits(c.typ, n) {
		return 0, outOfRange(c, s)
	}
	return n, nil
}

// parseDecimal is the fast path of parseInteger: an optional minus and at
// most 18 digits, which cannot overflow. Anything else reports !ok and goes
// through strconv for the exact error.
func parseDecimal(s []byte) (int64, bool) {
	neg := false
	if len(s) > 0 && s[0] == '-' {
		neg, s = true, s[1:]
	}
	if len(s) == 0 || len(s) > 18 {
		return 0, false
	}
	var n int64
	for _, ch := range s {
		d := ch - '0'
		if d > 9 {
			return 0, false
		}
		n = n*10 + int64(d)
	}
	if neg {
		n = -n
	}
	return n, true
}

func intFits(t types.T, n int64) bool {
	switch t {
	case types.Int2:
		return n >= math.MinInt16 && n <= math.MaxInt16
	case types.Int4:
		return n >= math.MinInt32 && n <= math.MaxInt32
	}
	return true
}

func fitsFloat32(f float64) bool {
	return math.IsInf(f, 0) || math.IsNaN(f) || math.Abs(f) <= math.MaxFloat32
}

func isRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// parseBool accepts PostgreSQL's boolean input spellings.
func parseBool(s []byte) (bool, bool) {
	switch len(s) {
	case 1:
		switch s[0] | 0x20 {
		case 't', 'y':
			return true, true
		case 'f', 'n':
			return false, true
		}
		switch s[0] {
		case '1':
			return true, true
		case '0':
			return false, true
		}
	case 2:
		if equalFold(s, "on") {
			return true, true
		}
		if equalFold(s, "no") {
			return false, true
		}
	case 3:
		if equalFold(s, "yes") {
			return true, true
		}
		if equalFold(s, "off") {
			return false, true
		}
	case 4:
		if equalFold(s, "true") {
			return true, true
		}
	case 5:
		if equalFold(s, "false") {
			return false, true
		}
	}
	return false, false
}

// equalFold compares ASCII b with lower-case ASCII s, ignoring case.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		ch := b[i]
		if 'A' <= ch && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		if ch != s[i] {
			return false
		}
	}
	return true
}

func trimSpace(s []byte) []byte {
	for len(s) > 0 && isSpace(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// parseISOTimestamp is the fast path for timestamps written the way
// PostgreSQL prints them, 'YYYY-MM-DD HH:MM:SS[.ffffff]' (or with 'T'), with
// no zone. Anything else reports !ok and is left to types.ParseTimestamp.
func parseISOTimestamp(s []byte) (int64, bool) {
	if len(s) < 19 || s[4] != '-' || s[7] != '-' || (s[10] != ' ' && s[10] != 'T') ||
		s[13] != ':' || s[16] != ':' {
		return 0, false
	}
	year, ok1 := digits(s[0:4])
	month, ok2 := digits(s[5:7])
	day, ok3 := digits(s[8:10])
	hour, ok4 := digits(s[11:13])
	minute, ok5 := digits(s[14:16])
	sec, ok6 := digits(s[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || year < 1 || month < 1 || month > 12 ||
		day < 1 || day > daysIn(month, year) || hour > 23 || minute > 59 || sec > 59 {
		return 0, false
	}
	var frac int64
	if rest := s[19:]; len(rest) > 0 {
		if rest[0] != '.' || len(rest) < 2 || len(rest) > 7 {
			return 0, false
		}
		f, ok := digits(rest[1:])
		if !ok {
			return 0, false
		}
		for i := len(rest) - 1; i < 6; i++ {
			f *= 10
		}
		frac = f
	}
	days := daysFromCivil(year, month, day)
	return ((days*24+hour)*60+minute)*60_000_000 + sec*1_000_000 + frac, true
}

func digits(s []byte) (int64, bool) {
	var n int64
	for _, ch := range s {
		if ch < '0' || ch > '9' {
			return 0, false
		}
		n = n*10 + int64(ch-'0')
	}
	return n, true
}

func daysIn(month, year int64) int64 {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil counts days from 1970-01-01 to the given proleptic Gregorian
// date (Howard Hinnant's algorithm).
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}
