package types

// Dates, times and timestamps in PostgreSQL's text format.
//
// Storage counts from the Unix epoch (days for DATE, microseconds for
// TIMESTAMP and TIMESTAMPTZ) on the proleptic Gregorian calendar, as
// PostgreSQL does, with year 0 being 1 BC. The infinities are the extreme
// values of the storage type: math.MaxInt32/MinInt32 days for DATE and
// math.MaxInt64/MinInt64 microseconds for the timestamps. They print as
// "infinity" and "-infinity" and map to PostgreSQL's infinities on the wire.
//
// Range: dates from 4714-11-24 BC to 5874897-12-31 (PostgreSQL's range);
// timestamps from 4714-11-24 BC to about 294246 AD, slightly short of
// PostgreSQL's 294276 because the Unix epoch is 30 years earlier than
// PostgreSQL's 2000-01-01 and both count in a signed 64-bit integer.
//
// Input accepts what clients and data sources send in practice, following
// PostgreSQL's rules for DateStyle "ISO, MDY": ISO 8601 and RFC 3339
// (2026-01-02, 2026-01-02 03:04:05.123456, 2026-01-02T03:04:05Z, with a
// +hh, +hh:mm, +hhmm or +hh:mm:ss offset), YYYYMMDD, MM/DD/YYYY and
// MM-DD-YYYY, month names (Jan 2 2026, 2 January 2026, 2026-Jan-02), AM/PM,
// BC/AD, the zone names Z, UTC, GMT and IANA names such as Europe/Paris, and
// the special values infinity, -infinity and epoch (allballs for time). The
// special values that read the clock (now, today, tomorrow, yesterday) are
// refused: input parsing is deterministic, so they belong to the caller.
// Time zone abbreviations other than UTC/GMT/Z (EST, CET...) are not known.
// Fractions of a second are rounded to microseconds as PostgreSQL rounds
// them (through a double and rint).
//
// TIMESTAMP input ignores a zone offset, as PostgreSQL does; TIMESTAMPTZ
// input converts to UTC, reading a value without a zone as UTC (the session
// time zone is always UTC for now), and prints in UTC with a "+00" suffix.

import (
	"math"
	"strconv"
	"time"

	"github.com/sluicedb/sluice/pgerror"
)

const (
	dateInfinity         = math.MaxInt32
	dateNegInfinity      = math.MinInt32
	timestampInfinity    = math.MaxInt64
	timestampNegInfinity = math.MinInt64

	microsPerSecond = 1_000_000
	microsPerMinute = 60 * microsPerSecond
	microsPerHour   = 60 * microsPerMinute

	// minDate is Julian day 0, 4714-11-24 BC, PostgreSQL's first date.
	minDate = -2_440_588
	// maxDate is 5874897-12-31, PostgreSQL's last date.
	maxDate = 2_147_483_493 - 2_440_588
	// minTimestamp is the first microsecond of minDate.
	minTimestamp = minDate * MicrosPerDay
	// maxTimestampDays bounds the day count of a timestamp so that adding a
	// time of day and a zone offset cannot reach math.MaxInt64 (infinity).
	maxTimestampDays = math.MaxInt64/MicrosPerDay - 2
)

// daysFromCivil returns the days since 1970-01-01 of a proleptic Gregorian
// date in astronomical year numbering (year 0 is 1 BC).
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := y
	if era < 0 {
		era -= 399
	}
	era /= 400
	yoe := y - era*400
	mp := m + 9
	if m > 2 {
		mp = m - 3
	}
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// civilFromDays is the inverse of daysFromCivil.
func civilFromDays(z int64) (y, m, d int64) {
	z += 719468
	era := z
	if era < 0 {
		era -= 146096
	}
	era /= 146097
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	m = mp + 3
	if mp >= 10 {
		m = mp - 9
	}
	y = yoe + era*400
	if m <= 2 {
		y++
	}
	return y, m, d
}

func isLeap(y int64) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

func daysInMonth(y, m int64) int64 {
	switch m {
	case 2:
		if isLeap(y) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// floorDiv divides rounding toward negative infinity.
func floorDiv(a, b int64) (q, r int64) {
	q, r = a/b, a%b
	if r < 0 {
		q--
		r += b
	}
	return q, r
}

func append2(buf []byte, v int64) []byte {
	return append(buf, byte('0'+v/10), byte('0'+v%10))
}

// appendYMD appends YYYY-MM-DD (at least four year digits) and reports
// whether the year is BC, which PostgreSQL prints as a suffix.
func appendYMD(buf []byte, days int64) ([]byte, bool) {
	y, m, d := civilFromDays(days)
	bc := y <= 0
	if bc {
		y = 1 - y
	}
	if y < 1000 {
		buf = append(buf, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10))
	} else {
		buf = strconv.AppendInt(buf, y, 10)
	}
	buf = append(buf, '-')
	buf = append2(buf, m)
	buf = append(buf, '-')
	buf = append2(buf, d)
	return buf, bc
}

// appendDate appends a DATE (days since 1970-01-01) as PostgreSQL prints it
// with DateStyle ISO.
func appendDate(buf []byte, days int32) []byte {
	switch days {
	case dateInfinity:
		return append(buf, "infinity"...)
	case dateNegInfinity:
		return append(buf, "-infinity"...)
	}
	buf, bc := appendYMD(buf, int64(days))
	if bc {
		buf = append(buf, " BC"...)
	}
	return buf
}

// appendClock appends HH:MM:SS[.ffffff] for micros since midnight (up to
// 24:00:00), trimming trailing zeros of the fraction.
func appendClock(buf []byte, micros int64) []byte {
	h := micros / microsPerHour
	micros -= h * microsPerHour
	m := micros / microsPerMinute
	micros -= m * microsPerMinute
	s := micros / microsPerSecond
	buf = append2(buf, h)
	buf = append(buf, ':')
	buf = append2(buf, m)
	buf = append(buf, ':')
	buf = append2(buf, s)
	return appendFraction(buf, micros-s*microsPerSecond)
}

// appendFraction appends .ffffff for a non-zero count of microseconds below
// one second, without trailing zeros.
func appendFraction(buf []byte, us int64) []byte {
	if us == 0 {
		return buf
	}
	var f [7]byte
	f[0] = '.'
	for i := 6; i >= 1; i-- {
		f[i] = byte('0' + us%10)
		us /= 10
	}
	n := 7
	for f[n-1] == '0' {
		n--
	}
	return append(buf, f[:n]...)
}

// appendTime appends a TIME (microseconds since midnight).
func appendTime(buf []byte, micros int64) []byte {
	return appendClock(buf, micros)
}

// AppendTimestamp appends a timestamp (microseconds since 1970-01-01 00:00)
// as PostgreSQL prints it: 2026-01-02 13:04:05.5, and for TIMESTAMPTZ (tz
// true) in UTC with a +00 suffix: 2026-01-02 13:04:05.5+00.
func AppendTimestamp(buf []byte, micros int64, tz bool) []byte {
	switch micros {
	case timestampInfinity:
		return append(buf, "infinity"...)
	case timestampNegInfinity:
		return append(buf, "-infinity"...)
	}
	days, tod := floorDiv(micros, MicrosPerDay)
	buf, bc := appendYMD(buf, days)
	buf = append(buf, ' ')
	buf = appendClock(buf, tod)
	if tz {
		buf = append(buf, '+', '0', '0')
	}
	if bc {
		buf = append(buf, " BC"...)
	}
	return buf
}

// --- input ---

// dateTime is what the scanner finds in a date/time literal. year is as
// written (1 BC is year 1 with bc set).
type dateTime struct {
	special int

	haveDate         bool
	year, month, day int64
	yearDigits       int // a year of at most two digits means 1970-2069, unless BC
	bc               bool

	haveTime     bool
	hour, minute int64
	second       int64
	fraction     int64 // microseconds
	ampm         byte  // 0, 'a' or 'p'

	haveZone bool
	zoneSecs int64 // east of UTC
	loc      *time.Location
}

const (
	specialNone = iota
	specialInfinity
	specialNegInfinity
	specialEpoch
)

// dateField is one of the three parts of a date token such as 2026-01-02.
type dateField struct {
	val    int64
	digits int  // how many digits were written; 0 for a month name
	month  bool // val is a month number taken from a name
}

func errDateSyntax(t T, s string) *pgerror.Error {
	return pgerror.New(pgerror.InvalidDatetimeFormat, "invalid input syntax for type %s: \"%s\"", inputTypeName(t), s)
}

func errFieldRange(s string) *pgerror.Error {
	return pgerror.New(pgerror.DatetimeFieldOverflow, "date/time field value out of range: \"%s\"", s)
}

// scanDateTime splits a date/time literal into its fields. It knows the
// target type t only to name it in error messages and to accept the words
// that make sense for it.
func scanDateTime(s string, t T) (dateTime, error) {
	var dt dateTime
	w := trimSpace(s)
	if w == "" {
		return dt, errDateSyntax(t, s)
	}
	if t != Time {
		switch {
		case equalFold(w, "infinity"), equalFold(w, "+infinity"):
			dt.special = specialInfinity
			return dt, nil
		case equalFold(w, "-infinity"):
			dt.special = specialNegInfinity
			return dt, nil
		case equalFold(w, "epoch"):
			dt.special = specialEpoch
			return dt, nil
		}
	} else if equalFold(w, "allballs") {
		dt.haveTime = true
		return dt, nil
	}
	if equalFold(w, "now") || equalFold(w, "today") || equalFold(w, "tomorrow") || equalFold(w, "yesterday") {
		return dt, pgerror.New(pgerror.FeatureNotSupported, "the special %s value \"%s\" is not supported", inputTypeName(t), w).
			WithHint("Use now() or CURRENT_DATE instead.")
	}

	var numbers [3]dateField
	nnum := 0
	monthByName := int64(0)
	for i := 0; i < len(w); {
		c := w[i]
		switch {
		case isSpace(c) || c == ',':
			i++
		case isDigit(c):
			j := i
			for j < len(w) && isDigit(w[j]) {
				j++
			}
			switch {
			case j < len(w) && w[j] == ':':
				if dt.haveTime {
					return dt, errDateSyntax(t, s)
				}
				next, ok := scanClock(w, i, &dt)
				if !ok {
					return dt, errDateSyntax(t, s)
				}
				i = next
			case j < len(w) && (w[j] == '-' || w[j] == '/'):
				if dt.haveDate {
					return dt, errDateSyntax(t, s)
				}
				next, err := scanDate(w, i, &dt, s, t)
				if err != nil {
					return dt, err
				}
				i = next
			default:
				if nnum == len(numbers) || j-i > 18 {
					return dt, errDateSyntax(t, s)
				}
				v, _ := strconv.ParseInt(w[i:j], 10, 64)
				numbers[nnum] = dateField{val: v, digits: j - i}
				nnum++
				i = j
			}
		case isLetter(c):
			j := i
			for j < len(w) && (isLetter(w[j]) || w[j] == '/' || w[j] == '_') {
				j++
			}
			word := w[i:j]
			if j < len(w) && (isDigit(w[j]) || w[j] == '-' || w[j] == '.') &&
				!(equalFold(word, "t") && dt.haveDate) && monthNumber(word) == 0 {
				// A word running into a number is a token PostgreSQL does
				// not know (ISO's T separator and month names aside).
				return dt, errDateSyntax(t, s)
			}
			if err := dt.applyWord(word, w, j, &monthByName, s, t); err != nil {
				return dt, err
			}
			i = j
		case c == '+' || c == '-':
			if dt.haveZone || !(dt.haveTime || dt.haveDate) {
				return dt, errDateSyntax(t, s)
			}
			next, err := scanOffset(w, i, &dt, s, t)
			if err != nil {
				return dt, err
			}
			i = next
		default:
			return dt, errDateSyntax(t, s)
		}
	}

	// Plain numbers make a date only with a month name (Jan 2 2026) or as
	// YYYYMMDD.
	switch {
	case nnum == 0:
		if monthByName != 0 {
			return dt, errDateSyntax(t, s)
		}
	case dt.haveDate:
		return dt, errDateSyntax(t, s)
	case monthByName != 0 && nnum == 2:
		day, year := numbers[0], numbers[1]
		if day.digits > 2 || day.val > 31 {
			day, year = year, day
		}
		dt.haveDate = true
		dt.year, dt.yearDigits, dt.month, dt.day = year.val, year.digits, monthByName, day.val
	case monthByName == 0 && nnum == 1 && numbers[0].digits == 8:
		v := numbers[0].val
		dt.haveDate = true
		dt.year, dt.yearDigits, dt.month, dt.day = v/10000, 4, v/100%100, v%100
	case t == Time && !dt.haveTime && monthByName == 0 && nnum == 1 && (numbers[0].digits == 4 || numbers[0].digits == 6):
		// HHMM or HHMMSS
		v := numbers[0].val
		if numbers[0].digits == 4 {
			v *= 100
		}
		dt.haveTime = true
		dt.hour, dt.minute, dt.second = v/10000, v/100%100, v%100
	default:
		return dt, errDateSyntax(t, s)
	}
	if dt.haveDate {
		if dt.yearDigits <= 2 && !dt.bc {
			dt.year = twoDigitYear(dateField{val: dt.year, digits: dt.yearDigits})
		}
		if dt.month < 1 || dt.month > 12 {
			return dt, errFieldRange(s).WithHint("Perhaps you need a different \"datestyle\" setting.")
		}
		y := dt.astronomicalYear()
		if dt.year < 1 || dt.day < 1 || dt.day > daysInMonth(y, dt.month) {
			return dt, errFieldRange(s)
		}
	} else if dt.bc {
		return dt, errDateSyntax(t, s)
	}
	if dt.ampm != 0 && dt.haveTime {
		if dt.hour > 12 {
			return dt, errFieldRange(s)
		}
		if dt.hour == 12 {
			dt.hour = 0
		}
		if dt.ampm == 'p' {
			dt.hour += 12
		}
	}
	if dt.haveTime {
		if dt.hour > 24 || dt.minute > 59 || dt.second > 60 ||
			(dt.hour == 24 && (dt.minute > 0 || dt.second > 0 || dt.fraction > 0)) ||
			(dt.second == 60 && dt.fraction > 0) {
			return dt, errFieldRange(s)
		}
	}
	return dt, nil
}

func isLetter(c byte) bool { return ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') }

func (dt *dateTime) astronomicalYear() int64 {
	if dt.bc {
		return 1 - dt.year
	}
	return dt.year
}

// timeOfDay is the time fields in microseconds since midnight.
func (dt *dateTime) timeOfDay() int64 {
	return ((dt.hour*60+dt.minute)*60+dt.second)*microsPerSecond + dt.fraction
}

// twoDigitYear applies PostgreSQL's rule that a year written with at most
// two digits means 1970-2069.
func twoDigitYear(f dateField) int64 {
	if f.digits > 2 {
		return f.val
	}
	if f.val < 70 {
		return f.val + 2000
	}
	return f.val + 1900
}

var monthNames = [...]string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}
var fullMonthNames = [...]string{"january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"}
var dayNames = [...]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat", "sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "tues", "wednes", "thur", "thurs"}

// monthNumber returns the month a name or abbreviation stands for, or 0.
func monthNumber(word string) int64 {
	for i := range monthNames {
		if equalFold(word, monthNames[i]) || equalFold(word, fullMonthNames[i]) {
			return int64(i + 1)
		}
	}
	if equalFold(word, "sept") {
		return 9
	}
	return 0
}

// applyWord interprets an alphabetic token of a date/time literal; next is
// the position just after it in w.
func (dt *dateTime) applyWord(word, w string, next int, monthByName *int64, s string, t T) error {
	switch {
	case equalFold(word, "t"):
		// ISO 8601 separator between a date and a time.
		if next < len(w) && isDigit(w[next]) {
			return nil
		}
	case equalFold(word, "bc"):
		if !dt.bc {
			dt.bc = true
			return nil
		}
	case equalFold(word, "ad"):
		return nil
	case equalFold(word, "am"), equalFold(word, "pm"):
		if dt.ampm == 0 {
			dt.ampm = word[0] | 0x20
			return nil
		}
	case equalFold(word, "z"), equalFold(word, "utc"), equalFold(word, "gmt"), equalFold(word, "ut"), equalFold(word, "zulu"):
		if !dt.haveZone {
			dt.haveZone = true
			return nil
		}
	default:
		if m := monthNumber(word); m != 0 {
			if *monthByName == 0 && !dt.haveDate {
				*monthByName = m
				return nil
			}
			break
		}
		for _, d := range dayNames {
			if equalFold(word, d) {
				return nil // the day of the week is ignored, as in PostgreSQL
			}
		}
		if containsByte(word, '/') && !dt.haveZone {
			loc, err := time.LoadLocation(word)
			if err != nil {
				return pgerror.New(pgerror.InvalidParameterValue, "time zone \"%s\" not recognized", word)
			}
			dt.haveZone, dt.loc = true, loc
			return nil
		}
	}
	return errDateSyntax(t, s)
}

func containsByte(s string, c byte) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return true
		}
	}
	return false
}

// scanClock reads h:m[:s][.fff] starting at w[i].
func scanClock(w string, i int, dt *dateTime) (int, bool) {
	var parts [3]int64
	n := 0
	for {
		j := i
		for j < len(w) && isDigit(w[j]) {
			j++
		}
		if j == i || j-i > 9 {
			return 0, false
		}
		v, _ := strconv.ParseInt(w[i:j], 10, 64)
		parts[n] = v
		n++
		i = j
		if n < 3 && i < len(w) && w[i] == ':' {
			i++
			continue
		}
		break
	}
	if n < 2 {
		return 0, false
	}
	dt.haveTime = true
	dt.hour, dt.minute, dt.second = parts[0], parts[1], parts[2]
	if i < len(w) && w[i] == '.' {
		if n == 2 {
			// mm:ss.fff, as PostgreSQL reads a fraction after two fields
			dt.hour, dt.minute, dt.second = 0, parts[0], parts[1]
		}
		j := i + 1
		for j < len(w) && isDigit(w[j]) {
			j++
		}
		dt.fraction = parseFractionMicros(w[i:j])
		i = j
	}
	return i, true
}

// parseFractionMicros rounds a fraction written as ".ddd" to microseconds
// the way PostgreSQL does: through a double and rint.
func parseFractionMicros(frac string) int64 {
	if len(frac) <= 1 {
		return 0
	}
	f, err := strconv.ParseFloat(frac, 64)
	if err != nil {
		return 0
	}
	return int64(math.RoundToEven(f * microsPerSecond))
}

// scanDate reads a date token of three fields separated by '-' or '/' at
// w[i], each a number or a month name, and an ISO 'T' that may follow it.
func scanDate(w string, i int, dt *dateTime, s string, t T) (int, error) {
	var f [3]dateField
	sep := byte(0)
	for n := 0; n < 3; n++ {
		if n > 0 {
			if i >= len(w) || (w[i] != '-' && w[i] != '/') || (sep != 0 && w[i] != sep) {
				return 0, errDateSyntax(t, s)
			}
			sep = w[i]
			i++
		}
		j := i
		switch {
		case j < len(w) && isDigit(w[j]):
			for j < len(w) && isDigit(w[j]) {
				j++
			}
			if j-i > 9 {
				return 0, errDateSyntax(t, s)
			}
			v, _ := strconv.ParseInt(w[i:j], 10, 64)
			f[n] = dateField{val: v, digits: j - i}
		case j < len(w) && isLetter(w[j]):
			for j < len(w) && isLetter(w[j]) {
				j++
			}
			m := monthNumber(w[i:j])
			if m == 0 {
				return 0, errDateSyntax(t, s)
			}
			f[n] = dateField{val: m, month: true}
		default:
			return 0, errDateSyntax(t, s)
		}
		i = j
	}
	if i+1 < len(w) && (w[i] == 'T' || w[i] == 't') && isDigit(w[i+1]) {
		i++
	}
	var y, m, d dateField
	switch {
	case f[1].month && !f[0].month && !f[2].month:
		if f[0].digits > 2 {
			y, m, d = f[0], f[1], f[2] // 2026-Jan-02
		} else {
			d, m, y = f[0], f[1], f[2] // 02-Jan-2026
		}
	case f[0].month && !f[1].month && !f[2].month:
		m, d, y = f[0], f[1], f[2] // Jan-02-2026
	case f[0].month || f[1].month || f[2].month:
		return 0, errDateSyntax(t, s)
	case f[0].digits > 2:
		y, m, d = f[0], f[1], f[2] // ISO
	default:
		m, d, y = f[0], f[1], f[2] // DateStyle MDY
	}
	if (!m.month && m.digits > 2) || d.digits > 2 {
		return 0, errDateSyntax(t, s)
	}
	dt.haveDate = true
	dt.year, dt.yearDigits, dt.month, dt.day = y.val, y.digits, m.val, d.val
	return i, nil
}

// scanOffset reads a numeric zone offset [+-]hh[:mm[:ss]] or [+-]hhmm[ss].
func scanOffset(w string, i int, dt *dateTime, s string, t T) (int, error) {
	sign := int64(1)
	if w[i] == '-' {
		sign = -1
	}
	i++
	j := i
	for j < len(w) && isDigit(w[j]) {
		j++
	}
	var h, m, sec int64
	digits := w[i:j]
	switch len(digits) {
	case 1, 2:
		h, _ = strconv.ParseInt(digits, 10, 64)
		i = j
		for k, dst := 0, []*int64{&m, &sec}; k < 2 && i < len(w) && w[i] == ':'; k++ {
			j = i + 1
			for j < len(w) && isDigit(w[j]) {
				j++
			}
			if j-i-1 != 2 {
				return 0, errDateSyntax(t, s)
			}
			*dst[k], _ = strconv.ParseInt(w[i+1:j], 10, 64)
			i = j
		}
	case 4:
		h, _ = strconv.ParseInt(digits[:2], 10, 64)
		m, _ = strconv.ParseInt(digits[2:], 10, 64)
		i = j
	case 6:
		h, _ = strconv.ParseInt(digits[:2], 10, 64)
		m, _ = strconv.ParseInt(digits[2:4], 10, 64)
		sec, _ = strconv.ParseInt(digits[4:], 10, 64)
		i = j
	default:
		return 0, errDateSyntax(t, s)
	}
	if h > 15 || m > 59 || sec > 59 {
		return 0, pgerror.New(codeInvalidTimeZoneDisplacement, "time zone displacement out of range: \"%s\"", s)
	}
	dt.haveZone = true
	dt.zoneSecs = sign * (h*3600 + m*60 + sec)
	return i, nil
}

// parseDate is DATE input.
func parseDate(s string) (Datum, error) {
	dt, err := scanDateTime(s, Date)
	if err != nil {
		return nil, err
	}
	switch dt.special {
	case specialInfinity:
		return int32(dateInfinity), nil
	case specialNegInfinity:
		return int32(dateNegInfinity), nil
	case specialEpoch:
		return int32(0), nil
	}
	if !dt.haveDate {
		return nil, errDateSyntax(Date, s)
	}
	days := daysFromCivil(dt.astronomicalYear(), dt.month, dt.day)
	if days < minDate || days > maxDate {
		return nil, pgerror.New(pgerror.DatetimeFieldOverflow, "date out of range: \"%s\"", s)
	}
	return int32(days), nil
}

// parseTime is TIME input: a date and a zone may be present and are ignored.
func parseTime(s string) (Datum, error) {
	dt, err := scanDateTime(s, Time)
	if err != nil {
		return nil, err
	}
	if !dt.haveTime {
		return nil, errDateSyntax(Time, s)
	}
	micros := dt.timeOfDay()
	if micros > MicrosPerDay {
		return nil, errFieldRange(s)
	}
	return micros, nil
}

// ParseTimestamp parses a TIMESTAMP (without time zone) literal into
// microseconds since 1970-01-01 00:00. A zone offset in the input is
// ignored, as PostgreSQL ignores it; use ParseText with TimestampTZ to honour
// it.
func ParseTimestamp(s string) (int64, error) {
	return parseTimestamp(s, Timestamp)
}

func parseTimestamp(s string, t T) (int64, error) {
	dt, err := scanDateTime(s, t)
	if err != nil {
		return 0, err
	}
	switch dt.special {
	case specialInfinity:
		return timestampInfinity, nil
	case specialNegInfinity:
		return timestampNegInfinity, nil
	case specialEpoch:
		return 0, nil
	}
	if !dt.haveDate {
		return 0, errDateSyntax(t, s)
	}
	days := daysFromCivil(dt.astronomicalYear(), dt.month, dt.day)
	if days < minDate || days > maxTimestampDays {
		return 0, pgerror.New(pgerror.DatetimeFieldOverflow, "timestamp out of range: \"%s\"", s)
	}
	micros := days*MicrosPerDay + dt.timeOfDay()
	if t == TimestampTZ && dt.haveZone {
		offset := dt.zoneSecs
		if dt.loc != nil {
			local := time.Date(int(dt.astronomicalYear()), time.Month(dt.month), int(dt.day),
				int(dt.hour), int(dt.minute), int(dt.second), 0, dt.loc)
			_, off := local.Zone()
			offset = int64(off)
		}
		micros -= offset * microsPerSecond
	}
	if micros < minTimestamp {
		return 0, pgerror.New(pgerror.DatetimeFieldOverflow, "timestamp out of range: \"%s\"", s)
	}
	return micros, nil
}
