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
//
// The system catalog types (oid, name, "char", regclass and the other reg*
// types, xid, int2vector, oidvector, pg_node_tree, aclitem) and arrays exist
// for pg_catalog, information_schema and the queries clients run over them.
// Each shares the storage of one of the types above, its Physical type: the
// unsigned 32-bit ones are an arrow.Int64 (Datum int64), the others an
// arrow.String holding their canonical text form (Datum string). An array
// type is ArrayOf(elem); its values are stored as PostgreSQL prints them,
// {1,2} or [0:1]={1,2}, so equal arrays are equal strings; ParseArray takes
// one apart. Ordering arrays compares that text, not the elements as
// PostgreSQL does. A list representation can replace this without changing
// any type's identity.
package types
