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
	// The types of PostgreSQL's system catalogs, which pg_catalog and
	// information_schema expose and which psql and BI tools cast to. Each
	// shares the storage of an original scalar type (see Physical): oid,
	// xid and the reg* types are an int64 holding the unsigned 32-bit
	// value; name, "char", the vectors, pg_node_tree and aclitem are a
	// string holding their text form.
	Oid
	RegProc
	RegProcedure
	RegClass
	RegType
	RegNamespace
	Xid
	Name
	Char // "char", one byte
	Int2Vector
	OidVector
	PgNodeTree
	ACLItem
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

	OIDChar         = 18
	OIDName         = 19
	OIDInt2Vector   = 22
	OIDRegProc      = 24
	OIDOid          = 26
	OIDXid          = 28
	OIDOidVector    = 30
	OIDPgNodeTree   = 194
	OIDACLItem      = 1033
	OIDRegProcedure = 2202
	OIDRegClass     = 2205
	OIDRegType      = 2206
	OIDRegNamespace = 4089
)

type info struct {
	name  string // the SQL name PostgreSQL's format_type prints
	oid   uint32
	size  int16 // pg_type.typlen
	arrow arrow.DataType
	// phys is the original scalar type whose storage the type shares.
	phys T
	// arrayOID is the OID of the type's array type (pg_type.typarray), 0
	// when it has none.
	arrayOID uint32
}

var infos = [numScalar]info{
	Unknown:      {"unknown", OIDUnknown, -2, arrow.BinaryTypes.String, Unknown, 0},
	Null:         {"unknown", OIDUnknown, -2, arrow.Null, Null, 0},
	Bool:         {"boolean", OIDBool, 1, arrow.FixedWidthTypes.Boolean, Bool, 1000},
	Int2:         {"smallint", OIDInt2, 2, arrow.PrimitiveTypes.Int16, Int2, 1005},
	Int4:         {"integer", OIDInt4, 4, arrow.PrimitiveTypes.Int32, Int4, 1007},
	Int8:         {"bigint", OIDInt8, 8, arrow.PrimitiveTypes.Int64, Int8, 1016},
	Float4:       {"real", OIDFloat4, 4, arrow.PrimitiveTypes.Float32, Float4, 1021},
	Float8:       {"double precision", OIDFloat8, 8, arrow.PrimitiveTypes.Float64, Float8, 1022},
	Numeric:      {"numeric", OIDNumeric, -1, arrow.PrimitiveTypes.Float64, Numeric, 1231},
	Text:         {"text", OIDText, -1, arrow.BinaryTypes.String, Text, 1009},
	Varchar:      {"character varying", OIDVarchar, -1, arrow.BinaryTypes.String, Varchar, 1015},
	Bytea:        {"bytea", OIDBytea, -1, arrow.BinaryTypes.Binary, Bytea, 1001},
	Date:         {"date", OIDDate, 4, arrow.FixedWidthTypes.Date32, Date, 1182},
	Time:         {"time without time zone", OIDTime, 8, arrow.FixedWidthTypes.Time64us, Time, 1183},
	Timestamp:    {"timestamp without time zone", OIDTimestamp, 8, &arrow.TimestampType{Unit: arrow.Microsecond}, Timestamp, 1115},
	TimestampTZ:  {"timestamp with time zone", OIDTimestampTZ, 8, &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, TimestampTZ, 1185},
	Interval:     {"interval", OIDInterval, 16, arrow.FixedWidthTypes.MonthDayNanoInterval, Interval, 1187},
	JSONB:        {"jsonb", OIDJSONB, -1, arrow.BinaryTypes.String, JSONB, 3807},
	Oid:          {"oid", OIDOid, 4, arrow.PrimitiveTypes.Int64, Int8, 1028},
	Name:         {"name", OIDName, 64, arrow.BinaryTypes.String, Text, 1003},
	Char:         {`"char"`, OIDChar, 1, arrow.BinaryTypes.String, Text, 1002},
	RegProc:      {"regproc", OIDRegProc, 4, arrow.PrimitiveTypes.Int64, Int8, 1008},
	RegProcedure: {"regprocedure", OIDRegProcedure, 4, arrow.PrimitiveTypes.Int64, Int8, 2207},
	RegClass:     {"regclass", OIDRegClass, 4, arrow.PrimitiveTypes.Int64, Int8, 2210},
	RegType:      {"regtype", OIDRegType, 4, arrow.PrimitiveTypes.Int64, Int8, 2211},
	RegNamespace: {"regnamespace", OIDRegNamespace, 4, arrow.PrimitiveTypes.Int64, Int8, 4090},
	Xid:          {"xid", OIDXid, 4, arrow.PrimitiveTypes.Int64, Int8, 1011},
	Int2Vector:   {"int2vector", OIDInt2Vector, -1, arrow.BinaryTypes.String, Text, 1006},
	OidVector:    {"oidvector", OIDOidVector, -1, arrow.BinaryTypes.String, Text, 1013},
	PgNodeTree:   {"pg_node_tree", OIDPgNodeTree, -1, arrow.BinaryTypes.String, Text, 0},
	ACLItem:      {"aclitem", OIDACLItem, 12, arrow.BinaryTypes.String, Text, 1034},
}

// arrayFlag marks an array type: ArrayOf(e) is e|arrayFlag. It lies above
// the scalar types and the pseudo-types package expr keeps for overload
// signatures.
const arrayFlag T = 0x4000

// arrayInfo is the info of every array type but for its name and OIDs.
var arrayInfo = info{size: -1, arrow: arrow.BinaryTypes.String, phys: Text}

func (t T) info() info {
	if t.IsArray() {
		in := arrayInfo
		e := t.Elem()
		in.name = e.String() + "[]"
		in.oid = e.info().arrayOID
		return in
	}
	return infos[t]
}

// ArrayOf is the type of arrays of elem, which must have one (HasArray).
func ArrayOf(elem T) T { return elem | arrayFlag }

// IsArray reports whether t is an array type.
func (t T) IsArray() bool { return t&arrayFlag != 0 && t&^arrayFlag < numScalar }

// Elem is the element type of an array type, and of int2vector (smallint)
// and oidvector (oid), which PostgreSQL subscripts like arrays. It is
// Unknown for other types.
func (t T) Elem() T {
	switch {
	case t.IsArray():
		return t &^ arrayFlag
	case t == Int2Vector:
		return Int2
	case t == OidVector:
		return Oid
	}
	return Unknown
}

// HasArray reports whether t has an array type, as pg_type.typarray says.
func (t T) HasArray() bool { return t < numScalar && infos[t].arrayOID != 0 }

// Physical is the original scalar type whose Arrow storage and Datum form t
// shares: Int8 for oid, xid and the reg* types (an int64 holding the
// unsigned 32-bit value), Text for name, "char", the vectors, pg_node_tree,
// aclitem and every array type (which hold their canonical text form), and
// t itself for the other types. Code that works on storage (row codecs,
// gathers, builders) switches on t.Physical().
func (t T) Physical() T { return t.info().phys }

// IsCatalog reports whether t is one of the system catalog types or an
// array: types that queries use but that sources and tables do not store
// yet.
func (t T) IsCatalog() bool { return t.IsArray() || (t >= Oid && t < numScalar) }

// String returns the type's name as PostgreSQL's format_type prints it.
func (t T) String() string {
	if t < numScalar || t.IsArray() {
		return t.info().name
	}
	return fmt.Sprintf("type(%d)", uint16(t))
}

// OID is the PostgreSQL type OID clients see for the type.
func (t T) OID() uint32 { return t.info().oid }

// Len is pg_type.typlen: the fixed size in bytes, or -1 for variable length.
func (t T) Len() int16 { return t.info().size }

// Arrow is the Arrow data type that holds a column of this type.
func (t T) Arrow() arrow.DataType { return t.info().arrow }

// FromOID maps a PostgreSQL type OID to a Sluice type; ok is false for an OID
// Sluice has no type for.
func FromOID(oid uint32) (T, bool) {
	for t := Bool; t < numScalar; t++ {
		if infos[t].oid == oid {
			return t, true
		}
		if infos[t].arrayOID == oid {
			return ArrayOf(t), true
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
