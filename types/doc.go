// Package types defines Sluice's SQL types, how each is stored in Apache Arrow
// arrays, its PostgreSQL type OID, and the Go representation of a single value
// (a Datum) used for constants, parameters and row-at-a-time paths.
//
// Columnar data is always Arrow: a column of type T is an arrow.Array of
// T.Arrow(). The mapping is fixed so that every package can rely on it:
//
//	BOOLEAN                  arrow.Boolean
//	SMALLINT/INTEGER/BIGINT  arrow.Int16/Int32/Int64
//	REAL/DOUBLE PRECISION    arrow.Float32/Float64
//	NUMERIC                  arrow.Float64 (see Numeric)
//	TEXT/VARCHAR/JSONB       arrow.String
//	BYTEA                    arrow.Binary
//	DATE                     arrow.Date32 (days since 1970-01-01)
//	TIME                     arrow.Time64 (microseconds)
//	TIMESTAMP                arrow.Timestamp (microseconds, no zone)
//	TIMESTAMPTZ              arrow.Timestamp (microseconds, zone "UTC")
//	INTERVAL                 arrow.MonthDayNanoInterval
package types
