package expr

import (
	"math"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/types"
)

// Date and time arithmetic with PostgreSQL's semantics. Dates are days and
// timestamps microseconds since 1970-01-01 (PostgreSQL counts from 2000, but
// only the origin differs). Timestamps with time zone are computed in UTC,
// Sluice's only session time zone, so they behave like timestamps.
//
// PostgreSQL's infinite values are the extremes of the representation:
// math.MinInt64/MaxInt64 for timestamps and math.MinInt32/MaxInt32 for dates.

const (
	microsPerDay    = types.MicrosPerDay
	microsPerHour   = 3_600_000_000
	microsPerMinute = 60_000_000
	microsPerSecond = 1_000_000

	tsNoBegin   = math.MinInt64
	tsNoEnd     = math.MaxInt64
	dateNoBegin = math.MinInt32
	dateNoEnd   = math.MaxInt32

	// unixEpochJulian is the Julian day number of 1970-01-01.
	unixEpochJulian = 2440588
	// minTimestamp is 4714-11-24 00:00 BC, the earliest timestamp.
	minTimestamp = -210866803200000000
	// minDate and endDate bound the valid dates (4714-11-24 BC to
	// 5874897-12-31), endDate excluded.
	minDate = -unixEpochJulian
	endDate = 2147483494 - unixEpochJulian
)

func errTimestampRange() error {
	return pgerror.New(pgerror.DatetimeFieldOverflow, "timestamp out of range")
}

func errDateRange() error { return pgerror.New(pgerror.DatetimeFieldOverflow, "date out of range") }

func errIntervalRange() error {
	return pgerror.New(pgerror.DatetimeFieldOverflow, "interval out of range")
}

func finiteTS(ts int64) bool  { return ts != tsNoBegin && ts != tsNoEnd }
func finiteDate(d int32) bool { return d != dateNoBegin && d != dateNoEnd }

func validTS(ts int64) bool { return ts >= minTimestamp && ts < tsNoEnd }

// floorDiv and floorMod divide rounding toward negative infinity, so that
// times before 1970 split into the right day and time of day.
func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func floorMod(a, b int64) int64 { return a - floorDiv(a, b)*b }

// splitTS returns the day and the microseconds since midnight of ts.
func splitTS(ts int64) (days, tod int64) {
	days = floorDiv(ts, microsPerDay)
	return days, ts - days*microsPerDay
}

// civil converts days since 1970-01-01 to a proleptic Gregorian date with
// astronomical year numbering (year 0 is 1 BC).
func civil(days int64) (y int64, m, d int) {
	z := days + 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = int(doy - (153*mp+2)/5 + 1)
	if mp < 10 {
		m = int(mp + 3)
	} else {
		m = int(mp - 9)
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}

// daysFromCivil is the inverse of civil.
func daysFromCivil(y int64, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := floorDiv(y, 400)
	yoe := y - era*400
	mm := int64(m)
	if mm > 2 {
		mm -= 3
	} else {
		mm += 9
	}
	doy := (153*mm+2)/5 + int64(d) - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

func isLeap(y int64) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

func daysInMonth(y int64, m int) int {
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

// ivMicros converts between Arrow's interval (nanoseconds) and PostgreSQL's
// (microseconds).
func ivFromArrow(iv arrow.MonthDayNanoInterval) types.IntervalValue {
	return types.IntervalValue{Months: iv.Months, Days: iv.Days, Micros: iv.Nanoseconds / 1000}
}

func ivToArrow(iv types.IntervalValue) (arrow.MonthDayNanoInterval, error) {
	if iv.Micros > math.MaxInt64/1000 || iv.Micros < math.MinInt64/1000 {
		return arrow.MonthDayNanoInterval{}, errIntervalRange()
	}
	return arrow.MonthDayNanoInterval{Months: iv.Months, Days: iv.Days, Nanoseconds: iv.Micros * 1000}, nil
}

// tsAddInterval is timestamp + interval: months first (clamping the day to
// the end of the month), then days, then microseconds.
func tsAddInterval(ts int64, iv types.IntervalValue) (int64, error) {
	if !finiteTS(ts) {
		return ts, nil
	}
	if iv.Months != 0 {
		days, tod := splitTS(ts)
		y, m, d := civil(days)
		months := y*12 + int64(m-1) + int64(iv.Months)
		y, m = floorDiv(months, 12), int(floorMod(months, 12))+1
		if dim := daysInMonth(y, m); d > dim {
			d = dim
		}
		ts = daysFromCivil(y, m, d)*microsPerDay + tod
		if !validTS(ts) {
			return 0, errTimestampRange()
		}
	}
	if iv.Days != 0 {
		var ok bool
		if ts, ok = addInt64(ts, int64(iv.Days)*microsPerDay); !ok || !validTS(ts) {
			return 0, errTimestampRange()
		}
	}
	ts, ok := addInt64(ts, iv.Micros)
	if !ok || !validTS(ts) {
		return 0, errTimestampRange()
	}
	return ts, nil
}

func negInterval(iv types.IntervalValue) (types.IntervalValue, error) {
	if iv.Months == math.MinInt32 || iv.Days == math.MinInt32 || iv.Micros == math.MinInt64 {
		return iv, errIntervalRange()
	}
	return types.IntervalValue{Months: -iv.Months, Days: -iv.Days, Micros: -iv.Micros}, nil
}

func addInt64(a, b int64) (int64, bool) {
	s := a + b
	return s, (s^a)&(s^b) >= 0
}

func addInt32(a, b int32) (int32, bool) {
	s := a + b
	return s, (s^a)&(s^b) >= 0
}

func addIntervals(a, b types.IntervalValue) (types.IntervalValue, error) {
	m, ok1 := addInt32(a.Months, b.Months)
	d, ok2 := addInt32(a.Days, b.Days)
	us, ok3 := addInt64(a.Micros, b.Micros)
	if !ok1 || !ok2 || !ok3 {
		return a, errIntervalRange()
	}
	return types.IntervalValue{Months: m, Days: d, Micros: us}, nil
}

// justifyHours moves whole days of the microseconds into the days field,
// keeping both with the same sign (PostgreSQL's justify_hours).
func justifyHours(iv types.IntervalValue) (types.IntervalValue, error) {
	whole := iv.Micros / microsPerDay
	iv.Micros -= whole * microsPerDay
	d := int64(iv.Days) + whole
	if d > math.MaxInt32 || d < math.MinInt32 {
		return iv, errIntervalRange()
	}
	iv.Days = int32(d)
	switch {
	case iv.Days > 0 && iv.Micros < 0:
		iv.Micros += microsPerDay
		iv.Days--
	case iv.Days < 0 && iv.Micros > 0:
		iv.Micros -= microsPerDay
		iv.Days++
	}
	return iv, nil
}

// tsDiff is timestamp - timestamp: the difference in microseconds, with
// whole days moved into the days field.
func tsDiff(a, b int64) (types.IntervalValue, error) {
	if !finiteTS(a) || !finiteTS(b) {
		return types.IntervalValue{}, pgerror.New(pgerror.DatetimeFieldOverflow, "cannot subtract infinite timestamps")
	}
	d := a - b
	if (a^b)&(a^d) < 0 {
		return types.IntervalValue{}, errIntervalRange()
	}
	return justifyHours(types.IntervalValue{Micros: d})
}

// dateToTS converts a date to the timestamp of its midnight.
func dateToTS(d int32) (int64, error) {
	switch d {
	case dateNoBegin:
		return tsNoBegin, nil
	case dateNoEnd:
		return tsNoEnd, nil
	}
	if int64(d) >= math.MaxInt64/microsPerDay {
		return 0, pgerror.New(pgerror.DatetimeFieldOverflow, "date out of range for timestamp")
	}
	return int64(d) * microsPerDay, nil
}

func tsToDate(ts int64) (int32, error) {
	switch ts {
	case tsNoBegin:
		return dateNoBegin, nil
	case tsNoEnd:
		return dateNoEnd, nil
	}
	return int32(floorDiv(ts, microsPerDay)), nil
}

func tsToTime(ts int64) (int64, error) {
	if !finiteTS(ts) {
		return 0, pgerror.New(pgerror.DatetimeFieldOverflow, "timestamp out of range")
	}
	return floorMod(ts, microsPerDay), nil
}

func dateAddDays(d int32, n int32) (int32, error) {
	if !finiteDate(d) {
		return d, nil
	}
	r, ok := addInt32(d, n)
	if !ok || r < minDate || r >= endDate {
		return 0, errDateRange()
	}
	return r, nil
}

func dateSubDays(d int32, n int32) (int32, error) {
	if n == math.MinInt32 {
		return 0, errDateRange()
	}
	return dateAddDays(d, -n)
}

func dateDiff(a, b int32) (int32, error) {
	if !finiteDate(a) || !finiteDate(b) {
		return 0, pgerror.New(pgerror.DatetimeFieldOverflow, "cannot subtract infinite dates")
	}
	return a - b, nil
}

// timeAddMicros is time + interval: only the interval's time part counts and
// the result wraps around midnight.
func timeAddMicros(t int64, us int64) int64 {
	return floorMod(t+floorMod(us, microsPerDay), microsPerDay)
}

// tsround rounds to microsecond precision as PostgreSQL's TSROUND does, to
// tame binary fractions in interval multiplication.
func tsround(v float64) float64 { return math.RoundToEven(v*1e6) / 1e6 }

func fitsInt32(f float64) bool { return f >= math.MinInt32 && f < -float64(math.MinInt32) }
func fitsInt64(f float64) bool { return f >= math.MinInt64 && f < -float64(math.MinInt64) }

// intervalMul is interval * float8. Whole months and days stay in their
// fields; fractions cascade down (a month fraction to days at 30 days per
// month, a day fraction to time at 24 hours per day), never up.
func intervalMul(iv types.IntervalValue, f float64) (types.IntervalValue, error) {
	var r types.IntervalValue
	months := float64(iv.Months) * f
	if math.IsNaN(months) || !fitsInt32(months) {
		return r, errIntervalRange()
	}
	r.Months = int32(months)
	days := float64(iv.Days) * f
	if math.IsNaN(days) || !fitsInt32(days) {
		return r, errIntervalRange()
	}
	r.Days = int32(days)
	monthRemDays := tsround((months - float64(r.Months)) * 30)
	secRem := tsround((days - float64(r.Days) + monthRemDays - math.Trunc(monthRemDays)) * 86400)
	return cascade(r, monthRemDays, secRem, float64(iv.Micros)*f)
}

// intervalDiv is interval / float8, with the same cascading as intervalMul.
func intervalDiv(iv types.IntervalValue, f float64) (types.IntervalValue, error) {
	var r types.IntervalValue
	if f == 0 {
		return r, errDivByZero()
	}
	months := float64(iv.Months) / f
	days := float64(iv.Days) / f
	if math.IsNaN(months) || !fitsInt32(months) || math.IsNaN(days) || !fitsInt32(days) {
		return r, errIntervalRange()
	}
	r.Months, r.Days = int32(months), int32(days)
	monthRemDays := tsround((months - float64(r.Months)) * 30)
	secRem := tsround((days - float64(r.Days) + monthRemDays - math.Trunc(monthRemDays)) * 86400)
	return cascade(r, monthRemDays, secRem, float64(iv.Micros)/f)
}

func cascade(r types.IntervalValue, monthRemDays, secRem, micros float64) (types.IntervalValue, error) {
	if math.Abs(secRem) >= 86400 {
		whole := math.Trunc(secRem / 86400)
		d, ok := addInt32(r.Days, int32(whole))
		if !ok {
			return r, errIntervalRange()
		}
		r.Days = d
		secRem -= whole * 86400
	}
	d, ok := addInt32(r.Days, int32(monthRemDays))
	if !ok {
		return r, errIntervalRange()
	}
	r.Days = d
	us := math.RoundToEven(micros + secRem*1e6)
	if math.IsNaN(us) || !fitsInt64(us) {
		return r, errIntervalRange()
	}
	r.Micros = int64(us)
	return r, nil
}

// Kernels of the date/time operators, on Arrow's physical values.

func tsPlusInterval(ts int64, iv arrow.MonthDayNanoInterval) (int64, error) {
	return tsAddInterval(ts, ivFromArrow(iv))
}

func tsMinusInterval(ts int64, iv arrow.MonthDayNanoInterval) (int64, error) {
	n, err := negInterval(ivFromArrow(iv))
	if err != nil {
		return 0, err
	}
	return tsAddInterval(ts, n)
}

func tsMinusTS(a, b int64) (arrow.MonthDayNanoInterval, error) {
	iv, err := tsDiff(a, b)
	if err != nil {
		return arrow.MonthDayNanoInterval{}, err
	}
	return ivToArrow(iv)
}

func datePlusInterval(d int32, iv arrow.MonthDayNanoInterval) (int64, error) {
	ts, err := dateToTS(d)
	if err != nil {
		return 0, err
	}
	return tsPlusInterval(ts, iv)
}

func dateMinusInterval(d int32, iv arrow.MonthDayNanoInterval) (int64, error) {
	ts, err := dateToTS(d)
	if err != nil {
		return 0, err
	}
	return tsMinusInterval(ts, iv)
}

func datePlusTime(d int32, t int64) (int64, error) {
	ts, err := dateToTS(d)
	if err != nil || !finiteTS(ts) {
		return ts, err
	}
	r, ok := addInt64(ts, t)
	if !ok || !validTS(r) {
		return 0, errTimestampRange()
	}
	return r, nil
}

func timePlusInterval(t int64, iv arrow.MonthDayNanoInterval) (int64, error) {
	return timeAddMicros(t, iv.Nanoseconds/1000), nil
}

func timeMinusInterval(t int64, iv arrow.MonthDayNanoInterval) (int64, error) {
	return timeAddMicros(t, -(iv.Nanoseconds / 1000)), nil
}

func timeMinusTime(a, b int64) (arrow.MonthDayNanoInterval, error) {
	return arrow.MonthDayNanoInterval{Nanoseconds: (a - b) * 1000}, nil
}

func ivPlusIv(a, b arrow.MonthDayNanoInterval) (arrow.MonthDayNanoInterval, error) {
	r, err := addIntervals(ivFromArrow(a), ivFromArrow(b))
	if err != nil {
		return arrow.MonthDayNanoInterval{}, err
	}
	return ivToArrow(r)
}

func ivMinusIv(a, b arrow.MonthDayNanoInterval) (arrow.MonthDayNanoInterval, error) {
	nb, err := negInterval(ivFromArrow(b))
	if err != nil {
		return arrow.MonthDayNanoInterval{}, err
	}
	r, err := addIntervals(ivFromArrow(a), nb)
	if err != nil {
		return arrow.MonthDayNanoInterval{}, err
	}
	return ivToArrow(r)
}

func ivNeg(a arrow.MonthDayNanoInterval) (arrow.MonthDayNanoInterval, error) {
	r, err := negInterval(ivFromArrow(a))
	if err != nil {
		return arrow.MonthDayNanoInterval{}, err
	}
	return ivToArrow(r)
}

func ivMulFloat(a arrow.MonthDayNanoInterval, f float64) (arrow.MonthDayNanoInterval, error) {
	r, err := intervalMul(ivFromArrow(a), f)
	if err != nil {
		return arrow.MonthDayNanoInterval{}, err
	}
	return ivToArrow(r)
}

func floatMulIv(f float64, a arrow.MonthDayNanoInterval) (arrow.MonthDayNanoInterval, error) {
	return ivMulFloat(a, f)
}

func ivDivFloat(a arrow.MonthDayNanoInterval, f float64) (arrow.MonthDayNanoInterval, error) {
	r, err := intervalDiv(ivFromArrow(a), f)
	if err != nil {
		return arrow.MonthDayNanoInterval{}, err
	}
	return ivToArrow(r)
}

func justifyHoursArrow(a arrow.MonthDayNanoInterval) (arrow.MonthDayNanoInterval, error) {
	r, err := justifyHours(ivFromArrow(a))
	if err != nil {
		return arrow.MonthDayNanoInterval{}, err
	}
	return ivToArrow(r)
}

// justifyDays moves whole 30-day periods of the days field into months.
func justifyDaysArrow(a arrow.MonthDayNanoInterval) (arrow.MonthDayNanoInterval, error) {
	iv := ivFromArrow(a)
	whole := iv.Days / 30
	iv.Days -= whole * 30
	m, ok := addInt32(iv.Months, whole)
	if !ok {
		return a, errIntervalRange()
	}
	iv.Months = m
	switch {
	case iv.Months > 0 && iv.Days < 0:
		iv.Days += 30
		iv.Months--
	case iv.Months < 0 && iv.Days > 0:
		iv.Days -= 30
		iv.Months++
	}
	return ivToArrow(iv)
}

// toTimestamp is to_timestamp(float8): seconds since the Unix epoch,
// rounded to microseconds.
func toTimestamp(secs float64) (int64, error) {
	switch {
	case math.IsNaN(secs):
		return 0, pgerror.New(pgerror.DatetimeFieldOverflow, "timestamp cannot be NaN")
	case math.IsInf(secs, 1):
		return tsNoEnd, nil
	case math.IsInf(secs, -1):
		return tsNoBegin, nil
	}
	us := math.RoundToEven(secs * 1e6)
	if us < minTimestamp || us >= math.MaxInt64 {
		return 0, pgerror.New(pgerror.DatetimeFieldOverflow, "timestamp out of range: \"%g\"", secs)
	}
	return int64(us), nil
}

// makeDate is make_date(year, month, day); negative years are BC.
func makeDate(y, m, d int32) (int32, error) {
	year := int64(y)
	if year == 0 {
		return 0, pgerror.New(pgerror.DatetimeFieldOverflow, "date field value out of range: %d-%02d-%02d", y, m, d)
	}
	if year < 0 {
		year++ // astronomical numbering: 1 BC is year 0
	}
	if m < 1 || m > 12 || d < 1 || int(d) > daysInMonth(year, int(m)) {
		return 0, pgerror.New(pgerror.DatetimeFieldOverflow, "date field value out of range: %d-%02d-%02d", y, m, d)
	}
	days := daysFromCivil(year, int(m), int(d))
	if days < minDate || days >= endDate {
		return 0, pgerror.New(pgerror.DatetimeFieldOverflow, "date out of range: %d-%02d-%02d", y, m, d)
	}
	return int32(days), nil
}
