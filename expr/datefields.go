package expr

import (
	"math"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/types"
)

// EXTRACT, date_part and date_trunc.

type dateField uint8

const (
	fieldInvalid dateField = iota
	fieldMicroseconds
	fieldMilliseconds
	fieldSecond
	fieldMinute
	fieldHour
	fieldDay
	fieldWeek
	fieldMonth
	fieldQuarter
	fieldYear
	fieldDecade
	fieldCentury
	fieldMillennium
	fieldEpoch
	fieldDow
	fieldIsodow
	fieldDoy
	fieldIsoyear
	fieldJulian
	fieldTimezone
	fieldTimezoneHour
	fieldTimezoneMinute
)

// fieldNames maps the unit names PostgreSQL accepts (with its plurals and
// abbreviations) to fields.
var fieldNames = map[string]dateField{
	"microsecond": fieldMicroseconds, "microseconds": fieldMicroseconds, "us": fieldMicroseconds,
	"usec": fieldMicroseconds, "usecs": fieldMicroseconds, "microsecon": fieldMicroseconds,
	"millisecond": fieldMilliseconds, "milliseconds": fieldMilliseconds, "ms": fieldMilliseconds,
	"msec": fieldMilliseconds, "msecs": fieldMilliseconds, "millisecon": fieldMilliseconds,
	"second": fieldSecond, "seconds": fieldSecond, "s": fieldSecond, "sec": fieldSecond, "secs": fieldSecond,
	"minute": fieldMinute, "minutes": fieldMinute, "m": fieldMinute, "min": fieldMinute, "mins": fieldMinute,
	"hour": fieldHour, "hours": fieldHour, "h": fieldHour, "hr": fieldHour, "hrs": fieldHour,
	"day": fieldDay, "days": fieldDay, "d": fieldDay,
	"week": fieldWeek, "weeks": fieldWeek, "w": fieldWeek,
	"month": fieldMonth, "months": fieldMonth, "mon": fieldMonth, "mons": fieldMonth,
	"quarter": fieldQuarter, "qtr": fieldQuarter,
	"year": fieldYear, "years": fieldYear, "y": fieldYear, "yr": fieldYear, "yrs": fieldYear,
	"decade": fieldDecade, "decades": fieldDecade, "dec": fieldDecade, "decs": fieldDecade,
	"century": fieldCentury, "centuries": fieldCentury, "c": fieldCentury, "cent": fieldCentury,
	"millennium": fieldMillennium, "millennia": fieldMillennium, "mil": fieldMillennium,
	"mils": fieldMillennium, "millenniums": fieldMillennium,
	"epoch": fieldEpoch, "dow": fieldDow, "isodow": fieldIsodow, "doy": fieldDoy,
	"isoyear": fieldIsoyear, "julian": fieldJulian, "j": fieldJulian,
	"timezone": fieldTimezone, "timezone_h": fieldTimezoneHour, "timezone_hour": fieldTimezoneHour,
	"timezone_m": fieldTimezoneMinute, "timezone_minute": fieldTimezoneMinute,
}

func parseField(unit string) (dateField, string) {
	lower := strings.ToLower(unit)
	return fieldNames[lower], lower
}

func errUnitNotRecognized(unit string, t types.T) error {
	return pgerror.New(pgerror.InvalidParameterValue, "unit %q not recognized for type %s", unit, t)
}

func errUnitNotSupported(unit string, t types.T) error {
	return pgerror.New(pgerror.FeatureNotSupported, "unit %q not supported for type %s", unit, t)
}

// fieldFor validates unit for extracting from type t.
func fieldFor(unit string, t types.T) (dateField, error) {
	f, lower := parseField(unit)
	if f == fieldInvalid {
		return f, errUnitNotRecognized(lower, t)
	}
	ok := true
	switch t {
	case types.Date:
		switch f {
		case fieldMicroseconds, fieldMilliseconds, fieldSecond, fieldMinute, fieldHour,
			fieldTimezone, fieldTimezoneHour, fieldTimezoneMinute:
			ok = false
		}
	case types.Time:
		switch f {
		case fieldMicroseconds, fieldMilliseconds, fieldSecond, fieldMinute, fieldHour, fieldEpoch:
		default:
			ok = false
		}
	case types.Timestamp:
		ok = f < fieldTimezone
	case types.Interval:
		switch f {
		case fieldWeek, fieldDow, fieldIsodow, fieldDoy, fieldIsoyear, fieldJulian,
			fieldTimezone, fieldTimezoneHour, fieldTimezoneMinute:
			ok = false
		}
	}
	if !ok {
		return f, errUnitNotSupported(lower, t)
	}
	return f, nil
}

// extractTS extracts a field from a finite timestamp (or timestamptz in
// UTC). null is set for fields that have no value at infinity.
func extractTS(f dateField, ts int64) (v float64, null bool) {
	if !finiteTS(ts) {
		sign := 1.0
		if ts == tsNoBegin {
			sign = -1
		}
		switch f {
		case fieldYear, fieldDecade, fieldCentury, fieldMillennium, fieldJulian, fieldIsoyear, fieldEpoch:
			return math.Inf(int(sign)), false
		}
		return 0, true
	}
	days, tod := splitTS(ts)
	y, m, d := civil(days)
	usec := tod % microsPerMinute // seconds and fraction, in microseconds
	switch f {
	case fieldMicroseconds:
		return float64(usec), false
	case fieldMilliseconds:
		return float64(usec) / 1000, false
	case fieldSecond:
		return float64(usec) / 1e6, false
	case fieldMinute:
		return float64(tod / microsPerMinute % 60), false
	case fieldHour:
		return float64(tod / microsPerHour), false
	case fieldEpoch:
		return float64(ts) / 1e6, false
	case fieldJulian:
		return float64(days+unixEpochJulian) + float64(tod)/float64(microsPerDay), false
	case fieldTimezone, fieldTimezoneHour, fieldTimezoneMinute:
		return 0, false
	}
	return extractDate(f, days, y, m, d), false
}

// extractDate extracts a date-level field; y is astronomical.
func extractDate(f dateField, days int64, y int64, m, d int) float64 {
	switch f {
	case fieldDay:
		return float64(d)
	case fieldMonth:
		return float64(m)
	case fieldQuarter:
		return float64((m-1)/3 + 1)
	case fieldYear:
		if y > 0 {
			return float64(y)
		}
		return float64(y - 1) // there is no year 0: 1 BC is -1
	case fieldDecade:
		if y >= 0 {
			return float64(y / 10)
		}
		return float64(-((8 - (y - 1)) / 10))
	case fieldCentury:
		if y > 0 {
			return float64((y + 99) / 100)
		}
		return float64(-((99 - (y - 1)) / 100))
	case fieldMillennium:
		if y > 0 {
			return float64((y + 999) / 1000)
		}
		return float64(-((999 - (y - 1)) / 1000))
	case fieldDow:
		return float64(floorMod(days+4, 7))
	case fieldIsodow:
		dow := floorMod(days+4, 7)
		if dow == 0 {
			dow = 7
		}
		return float64(dow)
	case fieldDoy:
		return float64(days - daysFromCivil(y, 1, 1) + 1)
	case fieldWeek:
		_, w := isoWeek(days)
		return float64(w)
	case fieldIsoyear:
		iy, _ := isoWeek(days)
		if iy <= 0 {
			return float64(iy - 1)
		}
		return float64(iy)
	case fieldJulian:
		return float64(days + unixEpochJulian)
	case fieldEpoch:
		return float64(days) * 86400
	}
	return 0
}

// isoWeek returns the ISO 8601 year and week of a day.
func isoWeek(days int64) (year int64, week int64) {
	isodow := floorMod(days+3, 7) + 1 // Monday = 1
	thursday := days + 4 - isodow
	year, _, _ = civil(thursday)
	return year, (thursday-daysFromCivil(year, 1, 1))/7 + 1
}

func extractDateValue(f dateField, d int32) (float64, bool) {
	if !finiteDate(d) {
		sign := 1
		if d == dateNoBegin {
			sign = -1
		}
		switch f {
		case fieldYear, fieldDecade, fieldCentury, fieldMillennium, fieldJulian, fieldIsoyear, fieldEpoch:
			return math.Inf(sign), false
		}
		return 0, true
	}
	y, m, day := civil(int64(d))
	return extractDate(f, int64(d), y, m, day), false
}

func extractTime(f dateField, t int64) float64 {
	switch f {
	case fieldMicroseconds:
		return float64(t % microsPerMinute)
	case fieldMilliseconds:
		return float64(t%microsPerMinute) / 1000
	case fieldSecond:
		return float64(t%microsPerMinute) / 1e6
	case fieldMinute:
		return float64(t / microsPerMinute % 60)
	case fieldHour:
		return float64(t / microsPerHour)
	}
	return float64(t) / 1e6 // epoch
}

func extractInterval(f dateField, iv types.IntervalValue) float64 {
	years := int64(iv.Months / 12)
	months := int64(iv.Months % 12)
	usec := iv.Micros % microsPerMinute
	switch f {
	case fieldMicroseconds:
		return float64(usec)
	case fieldMilliseconds:
		return float64(usec) / 1000
	case fieldSecond:
		return float64(usec) / 1e6
	case fieldMinute:
		return float64(iv.Micros / microsPerMinute % 60)
	case fieldHour:
		return float64(iv.Micros / microsPerHour)
	case fieldDay:
		return float64(iv.Days)
	case fieldMonth:
		return float64(months)
	case fieldQuarter:
		return float64(months/3 + 1)
	case fieldYear:
		return float64(years)
	case fieldDecade:
		return float64(years / 10)
	case fieldCentury:
		return float64(years / 100)
	case fieldMillennium:
		return float64(years / 1000)
	}
	// epoch: a year is 365.25 days, a month 30 days.
	return float64(iv.Micros)/1e6 +
		float64(years)*365.25*86400 + float64(months)*30*86400 + float64(iv.Days)*86400
}

// extractKernel is extract(unit, x) and date_part(unit, x) for x of type t.
// A constant unit is parsed once; errors about the unit are reported once
// per batch like PostgreSQL reports them once per query.
func extractKernel(t types.T, rt types.T) kernelBuilder {
	return func(args []Expr) (evalFn, error) {
		fixedUnit, constant := constString(args[0])
		var field dateField
		if constant {
			var err error
			if field, err = fieldFor(fixedUnit, t); err != nil {
				return nil, err
			}
		}
		return rowKernel(rt, func(ra *rowArgs, i int) (float64, bool, error) {
			f := field
			if !constant {
				var err error
				if f, err = fieldFor(string(ra.bytes(0, i)), t); err != nil {
					return 0, false, err
				}
			}
			switch t {
			case types.Timestamp, types.TimestampTZ:
				v, null := extractTS(f, ra.int64(1, i))
				return v, null, nil
			case types.Date:
				v, null := extractDateValue(f, ra.int32(1, i))
				return v, null, nil
			case types.Time:
				return extractTime(f, ra.int64(1, i)), false, nil
			}
			return extractInterval(f, ra.interval(1, i)), false, nil
		}), nil
	}
}

// constString returns the value of a constant string argument.
func constString(e Expr) (string, bool) {
	c, ok := e.(*Const)
	if !ok {
		return "", false
	}
	s, ok := c.Value.(string)
	return s, ok
}

// truncField validates a date_trunc unit for type t.
func truncField(unit string, t types.T) (dateField, error) {
	f, lower := parseField(unit)
	switch f {
	case fieldMicroseconds, fieldMilliseconds, fieldSecond, fieldMinute, fieldHour, fieldDay,
		fieldMonth, fieldQuarter, fieldYear, fieldDecade, fieldCentury, fieldMillennium:
		return f, nil
	case fieldWeek:
		if t == types.Interval {
			return f, pgerror.New(pgerror.FeatureNotSupported, "unit %q not supported for type interval", lower).
				WithDetail("Months usually have fractional weeks.")
		}
		return f, nil
	}
	return f, errUnitNotRecognized(lower, t)
}

// truncTS is date_trunc on a timestamp.
func truncTS(f dateField, ts int64) int64 {
	if !finiteTS(ts) {
		return ts
	}
	days, tod := splitTS(ts)
	switch f {
	case fieldMicroseconds:
		return ts
	case fieldMilliseconds:
		return days*microsPerDay + tod - tod%1000
	case fieldSecond:
		return days*microsPerDay + tod - tod%microsPerSecond
	case fieldMinute:
		return days*microsPerDay + tod - tod%microsPerMinute
	case fieldHour:
		return days*microsPerDay + tod - tod%microsPerHour
	case fieldDay:
		return days * microsPerDay
	case fieldWeek:
		isodow := floorMod(days+3, 7) // Monday = 0
		return (days - isodow) * microsPerDay
	}
	y, m, _ := civil(days)
	switch f {
	case fieldMonth:
	case fieldQuarter:
		m = 3*((m-1)/3) + 1
	case fieldYear:
		m = 1
	case fieldDecade:
		m = 1
		if y > 0 {
			y = y / 10 * 10
		} else {
			y = -((8-(y-1))/10)*10 + 1
		}
	case fieldCentury:
		m = 1
		if y > 0 {
			y = ((y+99)/100)*100 - 99
		} else {
			y = -((99-(y-1))/100)*100 + 1
		}
	case fieldMillennium:
		m = 1
		if y > 0 {
			y = ((y+999)/1000)*1000 - 999
		} else {
			y = -((999-(y-1))/1000)*1000 + 1
		}
	}
	return daysFromCivil(y, m, 1) * microsPerDay
}

// truncInterval is date_trunc on an interval: the fields below the unit are
// zeroed, with months seen as years and months.
func truncInterval(f dateField, iv types.IntervalValue) types.IntervalValue {
	years, months := iv.Months/12, iv.Months%12
	switch f {
	case fieldMicroseconds:
		return iv
	case fieldMilliseconds:
		iv.Micros -= iv.Micros % 1000
		return iv
	case fieldSecond:
		iv.Micros -= iv.Micros % microsPerSecond
		return iv
	case fieldMinute:
		iv.Micros -= iv.Micros % microsPerMinute
		return iv
	case fieldHour:
		iv.Micros -= iv.Micros % microsPerHour
		return iv
	case fieldDay:
		iv.Micros = 0
		return iv
	case fieldMonth:
	case fieldQuarter:
		months = 3 * (months / 3)
	case fieldYear:
		months = 0
	case fieldDecade:
		months, years = 0, years/10*10
	case fieldCentury:
		months, years = 0, years/100*100
	case fieldMillennium:
		months, years = 0, years/1000*1000
	}
	return types.IntervalValue{Months: years*12 + months}
}

// truncKernel is date_trunc(unit, x) for x of type t.
func truncKernel(t types.T) kernelBuilder {
	return func(args []Expr) (evalFn, error) {
		fixedUnit, constant := constString(args[0])
		var field dateField
		if constant {
			var err error
			if field, err = truncField(fixedUnit, t); err != nil {
				return nil, err
			}
		}
		unit := func(ra *rowArgs, i int) (dateField, error) {
			if constant {
				return field, nil
			}
			return truncField(string(ra.bytes(0, i)), t)
		}
		if t == types.Interval {
			return rowKernel(t, func(ra *rowArgs, i int) (arrow.MonthDayNanoInterval, bool, error) {
				f, err := unit(ra, i)
				if err != nil {
					return arrow.MonthDayNanoInterval{}, false, err
				}
				r, err := ivToArrow(truncInterval(f, ra.interval(1, i)))
				return r, false, err
			}), nil
		}
		return rowKernel(t, func(ra *rowArgs, i int) (int64, bool, error) {
			f, err := unit(ra, i)
			if err != nil {
				return 0, false, err
			}
			return truncTS(f, ra.int64(1, i)), false, nil
		}), nil
	}
}
