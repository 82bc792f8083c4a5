package types

// A Datum is one SQL value outside of an Arrow array: a constant in a plan, a
// bound parameter, a key in a state table. nil is SQL NULL. Otherwise its Go
// type is fixed by its SQL type:
//
//	Bool                          bool
//	Int2, Int4, Int8              int16, int32, int64
//	Float4, Float8, Numeric       float32, float64, float64
//	Text, Varchar, JSONB, Unknown string
//	Bytea                         []byte
//	Date                          int32, days since 1970-01-01
//	Time                          int64, microseconds since midnight
//	Timestamp, TimestampTZ        int64, microseconds since 1970-01-01 00:00 UTC
//	Interval                      IntervalValue
type Datum = any

// IntervalValue is PostgreSQL's interval: months, days and microseconds are kept
// apart because their lengths vary (a month is not 30 days, a day across a
// daylight-saving change is not 24 hours).
type IntervalValue struct {
	Months int32
	Days   int32
	Micros int64
}

// MicrosPerDay is the number of microseconds in a 24-hour day.
const MicrosPerDay = 86_400_000_000

// Duration approximates the interval as microseconds the way PostgreSQL
// compares intervals: a month is 30 days and a day is 24 hours.
func (iv IntervalValue) Duration() int64 {
	return (int64(iv.Months)*30+int64(iv.Days))*MicrosPerDay + iv.Micros
}
