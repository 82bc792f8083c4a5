package types

// Intervals in PostgreSQL's text format, IntervalStyle "postgres".
//
// Input follows PostgreSQL's DecodeInterval: fields are read from right to
// left so that a unit applies to the number before it and a bare number takes
// its unit from its position (seconds at the end, days before a time field
// or an hour count, otherwise the unit of the field after it); each unit may
// appear once; punctuation other than signs and points only separates
// fields; fractions cascade into smaller units the way
// PostgreSQL does it (1.5 months is 1 mon 15 days, 0.1 years is 1 mon); "ago"
// negates everything. ISO 8601 durations (P1Y2M3DT4H5M6S, P0001-02-03T04:05:06)
// are read when the text starts with P, as in PostgreSQL. The SQL-standard
// sign rule of IntervalStyle sql_standard is not applied.
//
// Storage is Arrow's month-day-nanosecond interval, so the time part of a
// stored interval is limited to ±2^63 nanoseconds (about 106751 days, where
// PostgreSQL allows 2^63 microseconds); input beyond it is rejected as out of
// range.

import (
	"math"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/sluicedb/sluice/pgerror"
)

// maxIntervalMicros is the largest time part the Arrow storage can hold.
const maxIntervalMicros = math.MaxInt64 / 1000

func intervalFromArrow(v arrow.MonthDayNanoInterval) IntervalValue {
	return IntervalValue{Months: v.Months, Days: v.Days, Micros: v.Nanoseconds / 1000}
}

func intervalToArrow(iv IntervalValue) arrow.MonthDayNanoInterval {
	return arrow.MonthDayNanoInterval{Months: iv.Months, Days: iv.Days, Nanoseconds: iv.Micros * 1000}
}

// AppendInterval appends iv as PostgreSQL prints an interval with
// IntervalStyle postgres: "1 year 2 mons 3 days 04:05:06.5", "-1 days
// +02:00:00", "00:00:00".
func AppendInterval(buf []byte, iv IntervalValue) []byte {
	isZero, isBefore := true, false
	buf = appendIntervalPart(buf, int64(iv.Months/12), "year", &isZero, &isBefore)
	buf = appendIntervalPart(buf, int64(iv.Months%12), "mon", &isZero, &isBefore)
	buf = appendIntervalPart(buf, int64(iv.Days), "day", &isZero, &isBefore)
	us := iv.Micros
	hour := us / microsPerHour
	us -= hour * microsPerHour
	minute := us / microsPerMinute
	us -= minute * microsPerMinute
	sec := us / microsPerSecond
	us -= sec * microsPerSecond
	if !isZero && hour == 0 && minute == 0 && sec == 0 && us == 0 {
		return buf
	}
	if !isZero {
		buf = append(buf, ' ')
	}
	if hour < 0 || minute < 0 || sec < 0 || us < 0 {
		buf = append(buf, '-')
		hour, minute, sec, us = -hour, -minute, -sec, -us
	} else if isBefore {
		buf = append(buf, '+')
	}
	if hour < 10 {
		buf = append(buf, '0')
	}
	buf = strconv.AppendInt(buf, hour, 10)
	buf = append(buf, ':')
	buf = append2(buf, minute)
	buf = append(buf, ':')
	buf = append2(buf, sec)
	return appendFraction(buf, us)
}

// appendIntervalPart is PostgreSQL's AddPostgresIntPart: after a negative
// part, positive parts get an explicit '+'.
func appendIntervalPart(buf []byte, v int64, unit string, isZero, isBefore *bool) []byte {
	if v == 0 {
		return buf
	}
	if !*isZero {
		buf = append(buf, ' ')
	}
	if *isBefore && v > 0 {
		buf = append(buf, '+')
	}
	buf = strconv.AppendInt(buf, v, 10)
	buf = append(buf, ' ')
	buf = append(buf, unit...)
	if v != 1 {
		buf = append(buf, 's')
	}
	*isBefore = v < 0
	*isZero = false
	return buf
}

// intervalAcc accumulates an interval's fields while it is parsed, in the
// widths PostgreSQL uses (struct pg_itm_in), so that overflow is detected
// where PostgreSQL detects it. Methods report false on overflow.
type intervalAcc struct {
	usec  int64
	days  int32
	mons  int32
	years int32
}

func addInt32(dst *int32, v int64) bool {
	r := int64(*dst) + v
	if r < math.MinInt32 || r > math.MaxInt32 {
		return false
	}
	*dst = int32(r)
	return true
}

func (a *intervalAcc) years_(val int64, scale int64) bool {
	if val < math.MinInt32/scale || val > math.MaxInt32/scale {
		return false
	}
	return addInt32(&a.years, val*scale)
}

func (a *intervalAcc) fractYears(frac float64, scale int64) bool {
	if frac == 0 {
		return true
	}
	frac *= float64(scale * 12)
	if math.IsNaN(frac) || frac < math.MinInt32 || frac > math.MaxInt32 {
		return false
	}
	return addInt32(&a.mons, int64(math.RoundToEven(frac)))
}

func (a *intervalAcc) months(val int64) bool {
	if val < math.MinInt32 || val > math.MaxInt32 {
		return false
	}
	return addInt32(&a.mons, val)
}

func (a *intervalAcc) days_(val int64, scale int64) bool {
	if val < math.MinInt32/scale || val > math.MaxInt32/scale {
		return false
	}
	return addInt32(&a.days, val*scale)
}

func (a *intervalAcc) fractDays(frac float64, scale int64) bool {
	if frac == 0 {
		return true
	}
	frac *= float64(scale)
	extra := int64(frac)
	if !addInt32(&a.days, extra) {
		return false
	}
	return a.fractMicros(frac-float64(extra), MicrosPerDay)
}

func (a *intervalAcc) fractMicros(frac float64, scale int64) bool {
	if frac == 0 {
		return true
	}
	frac *= float64(scale)
	if math.IsNaN(frac) || frac <= math.MinInt64 || frac >= math.MaxInt64 {
		return false
	}
	us := int64(frac)
	frac -= float64(us)
	if frac > 0.5 {
		us++
	} else if frac < -0.5 {
		us--
	}
	return addInt64(&a.usec, us)
}

func (a *intervalAcc) micros(val int64, frac float64, scale int64) bool {
	if val != 0 {
		p := val * scale
		if p/scale != val || !addInt64(&a.usec, p) {
			return false
		}
	}
	return a.fractMicros(frac, scale)
}

func addInt64(dst *int64, v int64) bool {
	r := *dst + v
	if (v > 0 && r < *dst) || (v < 0 && r > *dst) {
		return false
	}
	*dst = r
	return true
}

// result converts the accumulated fields to an interval.
func (a *intervalAcc) result(s string) (IntervalValue, error) {
	months := int64(a.years)*12 + int64(a.mons)
	if months < math.MinInt32 || months > math.MaxInt32 || a.usec > maxIntervalMicros || a.usec < -maxIntervalMicros {
		return IntervalValue{}, pgerror.New(pgerror.DatetimeFieldOverflow, "interval out of range")
	}
	return IntervalValue{Months: int32(months), Days: a.days, Micros: a.usec}, nil
}

func errIntervalSyntax(s string) *pgerror.Error {
	return pgerror.New(pgerror.InvalidDatetimeFormat, "invalid input syntax for type interval: \"%s\"", s)
}

func errIntervalField(s string) *pgerror.Error {
	return pgerror.New(pgerror.IntervalFieldOverflow, "interval field value out of range: \"%s\"", s)
}

// Interval units, also used as the bits of the mask of fields seen.
const (
	unitNone               = 0
	unitMicrosecond uint16 = 1 << iota
	unitMillisecond
	unitSecond
	unitMinute
	unitHour
	unitDay
	unitWeek
	unitMonth
	unitYear
	unitDecade
	unitCentury
	unitMillennium
	unitAgo // "ago", not a unit; marks that no bare number may precede it

	allSeconds = unitSecond | unitMillisecond | unitMicrosecond
	timeFields = unitHour | unitMinute | allSeconds
)

// intervalUnits maps PostgreSQL's unit words (its deltatktbl) to units.
// PostgreSQL compares only the first 10 characters of a word.
var intervalUnits = map[string]uint16{
	"microsecon": unitMicrosecond, "us": unitMicrosecond, "usec": unitMicrosecond,
	"usecond": unitMicrosecond, "useconds": unitMicrosecond, "usecs": unitMicrosecond,
	"millisecon": unitMillisecond, "ms": unitMillisecond, "msec": unitMillisecond,
	"msecond": unitMillisecond, "mseconds": unitMillisecond, "msecs": unitMillisecond,
	"s": unitSecond, "sec": unitSecond, "second": unitSecond, "seconds": unitSecond, "secs": unitSecond,
	"m": unitMinute, "min": unitMinute, "mins": unitMinute, "minute": unitMinute, "minutes": unitMinute,
	"h": unitHour, "hour": unitHour, "hours": unitHour, "hr": unitHour, "hrs": unitHour,
	"d": unitDay, "day": unitDay, "days": unitDay,
	"w": unitWeek, "week": unitWeek, "weeks": unitWeek,
	"mon": unitMonth, "mons": unitMonth, "month": unitMonth, "months": unitMonth,
	"y": unitYear, "year": unitYear, "years": unitYear, "yr": unitYear, "yrs": unitYear,
	"dec": unitDecade, "decade": unitDecade, "decades": unitDecade, "decs": unitDecade,
	"c": unitCentury, "cent": unitCentury, "centuries": unitCentury, "century": unitCentury,
	"mil": unitMillennium, "millennia": unitMillennium, "millennium": unitMillennium, "mils": unitMillennium,
	"ago": unitAgo,
}

// intervalField is one token of an interval literal.
type intervalField struct {
	text string // the token, including a leading sign
	kind byte   // 'n' number, 't' h:m[:s] time, 'w' word
}

// ParseInterval parses an interval literal in any of PostgreSQL's input
// formats; see the comment at the top of this file.
func ParseInterval(s string) (IntervalValue, error) {
	if len(s) > 0 && s[0] == 'P' {
		if iv, err, ok := parseISOInterval(s); ok {
			return iv, err
		}
		return IntervalValue{}, errIntervalSyntax(s)
	}
	// Tokens as PostgreSQL's ParseDateTime makes them; other punctuation
	// separates tokens and is otherwise ignored.
	var fieldsBuf [16]intervalField
	fields := fieldsBuf[:0]
	for i := 0; i < len(s); {
		c := s[i]
		start := i
		switch {
		case isSpace(c):
			i++
		case isDigit(c):
			for i < len(s) && isDigit(s[i]) {
				i++
			}
			kind := byte('n')
			switch {
			case i < len(s) && s[i] == ':':
				kind = 't'
				for i < len(s) && (isDigit(s[i]) || s[i] == ':' || s[i] == '.') {
					i++
				}
			case i < len(s) && (s[i] == '-' || s[i] == '/' || s[i] == '.'):
				delim := s[i]
				i++
				if i < len(s) && isDigit(s[i]) {
					for i < len(s) && isDigit(s[i]) {
						i++
					}
					if i < len(s) && s[i] == delim {
						for i < len(s) && (isDigit(s[i]) || s[i] == delim) {
							i++
						}
					}
				} else {
					for i < len(s) && (isLetter(s[i]) || isDigit(s[i]) || s[i] == delim) {
						i++
					}
				}
			}
			fields = append(fields, intervalField{text: s[start:i], kind: kind})
		case c == '.':
			i++
			if i == len(s) || !isDigit(s[i]) {
				return IntervalValue{}, errIntervalSyntax(s)
			}
			for i < len(s) && isDigit(s[i]) {
				i++
			}
			fields = append(fields, intervalField{text: s[start:i], kind: 'n'})
		case c == '+' || c == '-':
			i++
			for i < len(s) && isSpace(s[i]) {
				i++
			}
			if i == len(s) || !isDigit(s[i]) {
				return IntervalValue{}, errIntervalSyntax(s)
			}
			kind := byte('n')
			for i < len(s) && (isDigit(s[i]) || s[i] == '.' || s[i] == ':' || s[i] == '-') {
				if s[i] == ':' {
					kind = 't'
				}
				i++
			}
			fields = append(fields, intervalField{text: s[start:i], kind: kind})
		case isLetter(c):
			for i < len(s) && isLetter(s[i]) {
				i++
			}
			word := s[start:i]
			if i < len(s) && (s[i] == '-' || s[i] == '/' || s[i] == '.' ||
				((isDigit(s[i]) || s[i] == '+') && !isDateKeyword(word))) {
				// A word running into digits or date separators is a
				// date-like token, which no interval accepts, unless it is
				// one of the date keywords (as in 1d2h).
				return IntervalValue{}, errIntervalSyntax(s)
			}
			fields = append(fields, intervalField{text: s[start:i], kind: 'w'})
		case c < 0x80 && isASCIIPunct(c):
			i++
		default:
			return IntervalValue{}, errIntervalSyntax(s)
		}
	}

	var acc intervalAcc
	var seen uint16
	unit := uint16(unitNone)
	before := false
	for i := len(fields) - 1; i >= 0; i-- {
		f := fields[i]
		var mask uint16
		switch f.kind {
		case 'w':
			u, ok := lookupIntervalUnit(f.text)
			if !ok {
				return IntervalValue{}, errIntervalSyntax(s)
			}
			if u == unitAgo {
				before = true
			}
			unit = u
			continue
		case 't':
			if err := acc.addClock(f.text, s); err != nil {
				return IntervalValue{}, err
			}
			mask = timeFields
			unit = unitDay
		case 'n':
			// A number without a unit is in seconds at the end of the text;
			// elsewhere it takes the unit of the field after it, so that
			// "1 2 days" is two day fields and an error, as in PostgreSQL.
			if unit == unitNone {
				unit = unitSecond
			}
			var err error
			if mask, unit, err = acc.addNumber(f.text, unit, s); err != nil {
				return IntervalValue{}, err
			}
			if unit == unitHour {
				unit = unitDay // "1 5 hours" is 1 day 05:00:00
			}
		}
		if mask&seen != 0 {
			return IntervalValue{}, errIntervalSyntax(s)
		}
		seen |= mask
	}
	if seen == 0 {
		return IntervalValue{}, errIntervalSyntax(s)
	}
	if before {
		if acc.usec == math.MinInt64 || acc.days == math.MinInt32 || acc.mons == math.MinInt32 || acc.years == math.MinInt32 {
			return IntervalValue{}, errIntervalField(s)
		}
		acc.usec, acc.days, acc.mons, acc.years = -acc.usec, -acc.days, -acc.mons, -acc.years
	}
	return acc.result(s)
}

// isDateKeyword reports whether a word that runs into a number still ends
// the token: the single-letter units and "mon", which PostgreSQL's date
// keyword table knows.
func isDateKeyword(word string) bool {
	switch {
	case len(word) == 1:
		switch word[0] | 0x20 {
		case 'd', 'h', 'm', 's', 'y':
			return true
		}
	case equalFold(word, "mon"):
		return true
	}
	return false
}

// isASCIIPunct is C's ispunct for ASCII.
func isASCIIPunct(c byte) bool {
	return c > ' ' && c < 0x7f && !isLetter(c) && !isDigit(c)
}

func lookupIntervalUnit(word string) (uint16, bool) {
	var lower [10]byte
	n := len(word)
	if n > len(lower) {
		n = len(lower)
	}
	for i := 0; i < n; i++ {
		c := word[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		lower[i] = c
	}
	u, ok := intervalUnits[string(lower[:n])]
	return u, ok
}

// splitSign removes a leading sign and the spaces after it.
func splitSign(text string) (neg bool, rest string) {
	if text[0] == '+' || text[0] == '-' {
		neg = text[0] == '-'
		text = text[1:]
		for len(text) > 0 && isSpace(text[0]) {
			text = text[1:]
		}
	}
	return neg, text
}

// addNumber applies a number field (n, n.f, or y-m years-months) in unit and
// returns the mask of the fields it sets and the unit it was taken in.
func (a *intervalAcc) addNumber(text string, unit uint16, s string) (uint16, uint16, error) {
	if unit == unitAgo {
		return 0, 0, errIntervalSyntax(s)
	}
	neg, body := splitSign(text)
	j := 0
	for j < len(body) && isDigit(body[j]) {
		j++
	}
	var val int64
	if j > 0 {
		v, err := strconv.ParseInt(body[:j], 10, 64)
		if err != nil {
			return 0, 0, errIntervalField(s)
		}
		val = v
	}
	if neg {
		val = -val
	}
	frac := 0.0
	rest := body[j:]
	switch {
	case rest == "":
		if j == 0 {
			return 0, 0, errIntervalSyntax(s)
		}
	case rest[0] == '-':
		// SQL standard years-months: the month count is 0..11.
		if j == 0 || len(rest) > 3 {
			return 0, 0, errIntervalSyntax(s)
		}
		m, ok := parseDigitsOrEmpty(rest[1:]) // "1-" is one year
		if !ok {
			return 0, 0, errIntervalSyntax(s)
		}
		if m >= 12 {
			return 0, 0, errIntervalField(s)
		}
		if neg {
			m = -m
		}
		if val > math.MaxInt64/12 || val < math.MinInt64/12 {
			return 0, 0, errIntervalField(s)
		}
		val = val*12 + m
		unit = unitMonth
	case rest[0] == '.':
		if j == 0 && len(rest) == 1 {
			return 0, 0, errIntervalSyntax(s)
		}
		for k := 1; k < len(rest); k++ {
			if !isDigit(rest[k]) {
				return 0, 0, errIntervalSyntax(s)
			}
		}
		if len(rest) > 1 {
			f, err := strconv.ParseFloat(rest, 64)
			if err != nil {
				return 0, 0, errIntervalSyntax(s)
			}
			frac = f
		}
		if neg {
			frac = -frac
		}
	default:
		return 0, 0, errIntervalSyntax(s)
	}
	ok := true
	mask := unit
	switch unit {
	case unitMicrosecond:
		ok = a.micros(val, frac, 1)
	case unitMillisecond:
		ok = a.micros(val, frac, 1000)
	case unitSecond:
		ok = a.micros(val, frac, microsPerSecond)
		if frac != 0 {
			mask = allSeconds
		}
	case unitMinute:
		ok = a.micros(val, frac, microsPerMinute)
	case unitHour:
		ok = a.micros(val, frac, microsPerHour)
	case unitDay:
		ok = a.days_(val, 1) && a.fractMicros(frac, MicrosPerDay)
	case unitWeek:
		ok = a.days_(val, 7) && a.fractDays(frac, 7)
	case unitMonth:
		ok = a.months(val) && a.fractDays(frac, 30)
	case unitYear:
		ok = a.years_(val, 1) && a.fractYears(frac, 1)
	case unitDecade:
		ok = a.years_(val, 10) && a.fractYears(frac, 10)
	case unitCentury:
		ok = a.years_(val, 100) && a.fractYears(frac, 100)
	case unitMillennium:
		ok = a.years_(val, 1000) && a.fractYears(frac, 1000)
	}
	if !ok {
		return 0, 0, errIntervalField(s)
	}
	return mask, unit, nil
}

// addClock applies a [-]h:m[:s[.f]] field, or m:s.f when the second part has
// a fraction.
func (a *intervalAcc) addClock(text, s string) error {
	neg, body := splitSign(text)
	var parts [3]string
	n := 0
	start := 0
	for k := 0; k <= len(body); k++ {
		if k == len(body) || body[k] == ':' {
			if n == 3 {
				return errIntervalSyntax(s)
			}
			parts[n] = body[start:k]
			n++
			start = k + 1
		}
	}
	hourText, minText, secText := parts[0], parts[1], parts[2]
	if n == 2 && containsByte(minText, '.') {
		hourText, minText, secText = "0", hourText, minText
	}
	// Empty components count as zero, as strtol leaves them in PostgreSQL.
	hour, ok1 := parseDigitsOrEmpty(hourText)
	minute, ok2 := parseDigitsOrEmpty(minText)
	if !ok1 || !ok2 {
		return errIntervalSyntax(s)
	}
	var sec, fsec int64
	if secText != "" || n == 3 {
		whole := secText
		if dot := indexByte(secText, '.'); dot >= 0 {
			whole = secText[:dot]
			for k := dot + 1; k < len(secText); k++ {
				if !isDigit(secText[k]) {
					return errIntervalSyntax(s)
				}
			}
			fsec = parseFractionMicros(secText[dot:])
		}
		var ok bool
		if sec, ok = parseDigitsOrEmpty(whole); !ok {
			return errIntervalSyntax(s)
		}
	}
	if hour < 0 || minute > 59 || sec > 60 || fsec > microsPerSecond {
		return errIntervalField(s)
	}
	us := fsec + sec*microsPerSecond + minute*microsPerMinute
	if hour > (math.MaxInt64-us)/microsPerHour {
		return errIntervalField(s)
	}
	us += hour * microsPerHour
	if neg {
		us = -us
	}
	if !addInt64(&a.usec, us) {
		return errIntervalField(s)
	}
	return nil
}

// parseDigitsOrEmpty is parseDigits with "" read as 0.
func parseDigitsOrEmpty(t string) (int64, bool) {
	if t == "" {
		return 0, true
	}
	return parseDigits(t)
}

// parseDigits parses a non-empty run of decimal digits; -1 means overflow.
func parseDigits(t string) (int64, bool) {
	if t == "" {
		return 0, false
	}
	for i := 0; i < len(t); i++ {
		if !isDigit(t[i]) {
			return 0, false
		}
	}
	v, err := strconv.ParseInt(t, 10, 64)
	if err != nil {
		return -1, true
	}
	return v, true
}

func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}

// parseISOInterval reads an ISO 8601 duration, in the format with designators
// (P1Y2M3W4DT5H6M7.5S) or the alternative format (P0001-02-03T04:05:06 or
// P00010203T040506), as PostgreSQL's DecodeISO8601Interval does. ok is false
// when the syntax is wrong.
func parseISOInterval(s string) (iv IntervalValue, err error, ok bool) {
	if len(s) < 2 {
		return iv, nil, false
	}
	var acc intervalAcc
	datePart, haveField := true, false
	str := s[1:]
	for len(str) > 0 {
		if str[0] == 'T' {
			datePart, haveField = false, false
			str = str[1:]
			continue
		}
		fieldStart := str
		val, frac, rest, okNum, overflow := parseISONumber(str)
		if overflow {
			return iv, errIntervalField(s), true
		}
		if !okNum {
			return iv, nil, false
		}
		str = rest
		var unit byte
		if len(str) > 0 {
			unit = str[0]
			str = str[1:]
		}
		good := true
		if datePart {
			switch unit {
			case 'Y':
				good = acc.years_(val, 1) && acc.fractYears(frac, 1)
			case 'M':
				good = acc.months(val) && acc.fractDays(frac, 30)
			case 'W':
				good = acc.days_(val, 7) && acc.fractDays(frac, 7)
			case 'D':
				good = acc.days_(val, 1) && acc.fractMicros(frac, MicrosPerDay)
			case 'T', 0, '-':
				if unit != '-' && isISOBasic(fieldStart, len(fieldStart)-len(rest), 8) {
					// PYYYYMMDD
					good = acc.years_(val/10000, 1) && acc.months(val/100%100) && acc.days_(val%100, 1)
					if !good {
						return iv, errIntervalField(s), true
					}
					if unit == 'T' {
						datePart, haveField = false, false
						continue
					}
					iv, err = acc.result(s)
					return iv, err, true
				}
				if haveField {
					return iv, nil, false
				}
				if !acc.years_(val, 1) || !acc.fractYears(frac, 1) {
					return iv, errIntervalField(s), true
				}
				if unit == 0 {
					iv, err = acc.result(s)
					return iv, err, true
				}
				if unit == 'T' {
					datePart, haveField = false, false
					continue
				}
				// Months, then days.
				for k := 0; k < 2; k++ {
					val, frac, str, okNum, overflow = parseISONumber(str)
					if overflow {
						return iv, errIntervalField(s), true
					}
					if !okNum {
						return iv, nil, false
					}
					if k == 0 {
						good = acc.months(val) && acc.fractDays(frac, 30)
					} else {
						good = acc.days_(val, 1) && acc.fractMicros(frac, MicrosPerDay)
					}
					if !good {
						return iv, errIntervalField(s), true
					}
					if len(str) == 0 {
						iv, err = acc.result(s)
						return iv, err, true
					}
					if str[0] == 'T' {
						break
					}
					if k == 1 || str[0] != '-' {
						return iv, nil, false
					}
					str = str[1:]
				}
				datePart, haveField = false, false
				str = str[1:] // the 'T'
				continue
			default:
				return iv, nil, false
			}
		} else {
			switch unit {
			case 'H':
				good = acc.micros(val, frac, microsPerHour)
			case 'M':
				good = acc.micros(val, frac, microsPerMinute)
			case 'S':
				good = acc.micros(val, frac, microsPerSecond)
			case 0, ':':
				if unit == 0 && isISOBasic(fieldStart, len(fieldStart)-len(rest), 6) {
					// PThhmmss
					good = acc.micros(val/10000, 0, microsPerHour) && acc.micros(val/100%100, 0, microsPerMinute) &&
						acc.micros(val%100, frac, microsPerSecond)
					if !good {
						return iv, errIntervalField(s), true
					}
					iv, err = acc.result(s)
					return iv, err, true
				}
				if haveField {
					return iv, nil, false
				}
				if !acc.micros(val, frac, microsPerHour) {
					return iv, errIntervalField(s), true
				}
				if unit == 0 {
					iv, err = acc.result(s)
					return iv, err, true
				}
				for k := 0; k < 2; k++ {
					val, frac, str, okNum, overflow = parseISONumber(str)
					if overflow {
						return iv, errIntervalField(s), true
					}
					if !okNum {
						return iv, nil, false
					}
					scale := int64(microsPerMinute)
					if k == 1 {
						scale = microsPerSecond
					}
					if !acc.micros(val, frac, scale) {
						return iv, errIntervalField(s), true
					}
					if len(str) == 0 {
						iv, err = acc.result(s)
						return iv, err, true
					}
					if k == 1 || str[0] != ':' {
						return iv, nil, false
					}
					str = str[1:]
				}
			default:
				return iv, nil, false
			}
		}
		if !good {
			return iv, errIntervalField(s), true
		}
		haveField = true
	}
	iv, err = acc.result(s)
	return iv, err, true
}

// isISOBasic reports whether the number at the start of field, n bytes
// long, is exactly width plain digits (the basic alternative format).
func isISOBasic(field string, n, width int) bool {
	if n != width {
		return false
	}
	for i := 0; i < n; i++ {
		if !isDigit(field[i]) {
			return false
		}
	}
	return true
}

// parseISONumber reads a number as strtod would (decimal only), splitting it
// into an integer part truncated toward zero and a fraction, and rejecting
// magnitudes above 1e15 as PostgreSQL does.
func parseISONumber(str string) (ipart int64, fpart float64, rest string, ok, overflow bool) {
	if len(str) == 0 || !(isDigit(str[0]) || str[0] == '-' || str[0] == '.') {
		return 0, 0, str, false, false
	}
	i := 0
	if str[0] == '-' {
		i++
	}
	mant := 0
	for i < len(str) && isDigit(str[i]) {
		i, mant = i+1, mant+1
	}
	if i < len(str) && str[i] == '.' {
		i++
		for i < len(str) && isDigit(str[i]) {
			i, mant = i+1, mant+1
		}
	}
	if mant == 0 {
		return 0, 0, str, false, false
	}
	if i < len(str) && (str[i] == 'e' || str[i] == 'E') {
		k := i + 1
		if k < len(str) && (str[k] == '+' || str[k] == '-') {
			k++
		}
		if k < len(str) && isDigit(str[k]) {
			for k < len(str) && isDigit(str[k]) {
				k++
			}
			i = k
		}
	}
	v, err := strconv.ParseFloat(str[:i], 64)
	if err != nil && !isRangeErr(err) {
		return 0, 0, str, false, false
	}
	if math.IsNaN(v) || v < -1e15 || v > 1e15 {
		return 0, 0, str, false, true
	}
	ipart = int64(math.Trunc(v))
	return ipart, v - float64(ipart), str[i:], true, false
}

func isRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}
