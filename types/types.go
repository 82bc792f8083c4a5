package types

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
)

// T is a SQL type. It is a small comparable value so that it can be used as a
// map key and compared with ==.
type T uint16

// The scalar types. Unknown is the type of an untyped string literal before
// PostgreSQL's resolution rules give it one; Null is the type of a bare NULL.
const (
	Unknown T = iota
	Null
	Bool
	Int2
	Int4
	Int8
	Float4
	Float8
	// Numeric is PostgreSQL's arbitrary-precision NUMERIC. Sluice stores it as
	// a float64 for now: exact for integers up to 2^53 and to ~15 significant
	// digits otherwise. It keeps its own identity (OID 1700, its own
	// resolution rules) so that a decimal representation can replace the
	// storage without changing any plan or client-visible type.
	Numeric
	Text
	Varchar
	Bytea
	Date
	Time
	Timestamp
	TimestampTZ
	Interval
	JSONB
	numScalar
)

// PostgreSQL type OIDs, as pg_type knows them.
const (
	OIDBool        = 16
	OIDBytea       = 17
	OIDInt8        = 20
	OIDInt2        = 21
	OIDInt4        = 23
	OIDText        = 25
	OIDJSON        = 114
	OIDFloat4      = 700
	OIDFloat8      = 701
	OIDUnknown     = 705
	OIDVarchar     = 1043
	OIDDate        = 1082
	OIDTime        = 1083
	OIDTimestamp   = 1114
	OIDTimestampTZ = 1184
	OIDInterval    = 1186
	OIDNumeric     = 1700
	OIDJSONB       = 3802
)

type info struct {
	name  string // the SQL name PostgreSQL's format_type prints
	oid   uint32
	size  int16 // pg_type.typlen
	arrow arrow.DataType
}

var infos = [numScalar]info{
	Unknown:     {"unknown", OIDUnknown, -2, arrow.BinaryTypes.String},
	Null:        {"unknown", OIDUnknown, -2, arrow.Null},
	Bool:        {"boolean", OIDBool, 1, arrow.FixedWidthTypes.Boolean},
	Int2:        {"smallint", OIDInt2, 2, arrow.PrimitiveTypes.Int16},
	Int4:        {"integer", OIDInt4, 4, arrow.PrimitiveTypes.Int32},
	Int8:        {"bigint", OIDInt8, 8, arrow.PrimitiveTypes.Int64},
	Float4:      {"real", OIDFloat4, 4, arrow.PrimitiveTypes.Float32},
	Float8:      {"double precision", OIDFloat8, 8, arrow.PrimitiveTypes.Float64},
	Numeric:     {"numeric", OIDNumeric, -1, arrow.PrimitiveTypes.Float64},
	Text:        {"text", OIDText, -1, arrow.BinaryTypes.String},
	Varchar:     {"character varying", OIDVarchar, -1, arrow.BinaryTypes.String},
	Bytea:       {"bytea", OIDBytea, -1, arrow.BinaryTypes.Binary},
	Date:        {"date", OIDDate, 4, arrow.FixedWidthTypes.Date32},
	Time:        {"time without time zone", OIDTime, 8, arrow.FixedWidthTypes.Time64us},
	Timestamp:   {"timestamp without time zone", OIDTimestamp, 8, &arrow.TimestampType{Unit: arrow.Microsecond}},
	TimestampTZ: {"timestamp with time zone", OIDTimestampTZ, 8, &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}},
	Interval:    {"interval", OIDInterval, 16, arrow.FixedWidthTypes.MonthDayNanoInterval},
	JSONB:       {"jsonb", OIDJSONB, -1, arrow.BinaryTypes.String},
}

// String returns the type's name as PostgreSQL's format_type prints it.
func (t T) String() string {
	if t < numScalar {
		return infos[t].name
	}
	return fmt.Sprintf("type(%d)", uint16(t))
}

// OID is the PostgreSQL type OID clients see for the type.
func (t T) OID() uint32 { return infos[t].oid }

// Len is pg_type.typlen: the fixed size in bytes, or -1 for variable length.
func (t T) Len() int16 { return infos[t].size }

// Arrow is the Arrow data type that holds a column of this type.
func (t T) Arrow() arrow.DataType { return infos[t].arrow }

// FromOID maps a PostgreSQL type OID to a Sluice type; ok is false for an OID
// Sluice has no type for.
func FromOID(oid uint32) (T, bool) {
	for t := Bool; t < numScalar; t++ {
		if infos[t].oid == oid {
			return t, true
		}
	}
	if oid == OIDJSON {
		return JSONB, true
	}
	return Unknown, false
}

// IsNumeric reports whether t is one of the numeric types.
func (t T) IsNumeric() bool {
	switch t {
	case Int2, Int4, Int8, Float4, Float8, Numeric:
		return true
	}
	return false
}

// IsInteger reports whether t is SMALLINT, INTEGER or BIGINT.
func (t T) IsInteger() bool { return t == Int2 || t == Int4 || t == Int8 }

// IsString reports whether t is stored as an Arrow string (text, varchar,
// jsonb, and the unknown type of untyped literals).
func (t T) IsString() bool {
	return t == Text || t == Varchar || t == JSONB || t == Unknown
}

// IsTemporal reports whether t is a date, time or timestamp type.
func (t T) IsTemporal() bool {
	switch t {
	case Date, Time, Timestamp, TimestampTZ:
		return true
	}
	return false
}

// Column is a named, typed column of a relation or a result.
type Column struct {
	Name string
	Type T
	// NotNull is set for columns declared NOT NULL or part of a primary key.
	NotNull bool
}

// Schema is the ordered list of a relation's columns.
type Schema []Column

// Index returns the position of the column named name, or -1.
func (s Schema) Index(name string) int {
	for i, c := range s {
		if c.Name == name {
			return i
		}
	}
	return -1
}

// Arrow returns the Arrow schema of record batches holding rows of s.
func (s Schema) Arrow() *arrow.Schema {
	fields := make([]arrow.Field, len(s))
	for i, c := range s {
		fields[i] = arrow.Field{Name: c.Name, Type: c.Type.Arrow(), Nullable: !c.NotNull}
	}
	return arrow.NewSchema(fields, nil)
}

// Types returns the column types of s in order.
func (s Schema) Types() []T {
	ts := make([]T, len(s))
	for i, c := range s {
		ts[i] = c.Type
	}
	return ts
}
