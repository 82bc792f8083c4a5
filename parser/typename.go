package parser

import (
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/types"
)

// typeEntry is how a type name resolves: to a Sluice type, and whether the
// name takes modifiers such as varchar(20).
type typeEntry struct {
	t       types.T
	typmods bool
}

// typeNames maps the names PostgreSQL's grammar produces (pg_type names,
// found bare or qualified with pg_catalog) and the SQL spellings of the same
// types to Sluice types. Modifiers are accepted and ignored: Sluice does not
// enforce varchar lengths or numeric precision (NUMERIC is stored as a
// float64, see types.Numeric).
//
// CHAR(n) (bpchar) maps to TEXT: Sluice has no blank-padded type, so values
// keep their trailing spaces and compare as text. The internal one-byte
// "char" type maps to TEXT too.
var typeNames = map[string]typeEntry{
	"bool": {types.Bool, false}, "boolean": {types.Bool, false},
	"int2": {types.Int2, false}, "smallint": {types.Int2, false},
	"int4": {types.Int4, false}, "int": {types.Int4, false}, "integer": {types.Int4, false},
	"int8": {types.Int8, false}, "bigint": {types.Int8, false},
	"float4": {types.Float4, false}, "real": {types.Float4, false},
	"float8": {types.Float8, false}, "double precision": {types.Float8, false},
	"numeric": {types.Numeric, true}, "decimal": {types.Numeric, true},
	"text":    {types.Text, false},
	"varchar": {types.Varchar, true}, "character varying": {types.Varchar, true},
	"bpchar": {types.Text, true}, "char": {types.Text, true}, "character": {types.Text, true},
	"bytea":       {types.Bytea, false},
	"date":        {types.Date, false},
	"time":        {types.Time, true},
	"timestamp":   {types.Timestamp, true},
	"timestamptz": {types.TimestampTZ, true}, "timestamp with time zone": {types.TimestampTZ, true},
	"interval": {types.Interval, true},
	"jsonb":    {types.JSONB, false}, "json": {types.JSONB, false},
}

// unsupportedTypes are PostgreSQL types Sluice does not have; naming one is
// "not supported" rather than "does not exist".
var unsupportedTypes = map[string]string{
	"timetz": "time with time zone", "uuid": "uuid", "inet": "inet", "cidr": "cidr",
	"macaddr": "macaddr", "macaddr8": "macaddr8", "money": "money", "xml": "xml",
	"oid": "oid", "name": "name", "bit": "bit", "varbit": "bit varying",
	"point": "point", "line": "line", "lseg": "lseg", "box": "box", "path": "path",
	"polygon": "polygon", "circle": "circle", "tsvector": "tsvector", "tsquery": "tsquery",
	"serial": "serial", "serial4": "serial", "bigserial": "bigserial", "serial8": "bigserial",
	"smallserial": "smallserial", "serial2": "smallserial", "regclass": "regclass",
	"int4range": "int4range", "int8range": "int8range", "numrange": "numrange",
	"tsrange": "tsrange", "tstzrange": "tstzrange", "daterange": "daterange",
	"jsonpath": "jsonpath", "pg_lsn": "pg_lsn", "txid_snapshot": "txid_snapshot",
}

// ResolveTypeName maps a type name as PostgreSQL's grammar produces it (in
// a column definition or a cast) to a Sluice type. Array types are refused
// with 0A000 for now; an unknown name is 42704, as in PostgreSQL. Errors
// point at the type name when its location is known.
func ResolveTypeName(tn *pg_query.TypeName) (types.T, error) {
	if tn == nil {
		return types.Unknown, pgerror.New(pgerror.InternalError, "resolve type name: nil")
	}
	pos := Position(tn.Location)
	parts := make([]string, 0, len(tn.Names))
	for _, n := range tn.Names {
		parts = append(parts, n.GetString_().GetSval())
	}
	written := strings.Join(parts, ".")
	fail := func(code, msg string) (types.T, error) {
		return types.Unknown, &pgerror.Error{Code: code, Message: msg, Position: pos}
	}
	if tn.PctType {
		return fail(pgerror.FeatureNotSupported, "type references with %TYPE are not supported")
	}
	if tn.Setof {
		return fail(pgerror.FeatureNotSupported, "SETOF types are not supported")
	}
	name := ""
	switch {
	case len(parts) == 1:
		name = parts[0]
	case len(parts) == 2 && parts[0] == "pg_catalog":
		name = parts[1]
	default:
		return fail(pgerror.UndefinedObject, "type "+quoted(written)+" does not exist")
	}
	e, ok := typeNames[name]
	if !ok {
		if display, known := unsupportedTypes[name]; known {
			return fail(pgerror.FeatureNotSupported, "type "+display+" is not supported")
		}
		return fail(pgerror.UndefinedObject, "type "+quoted(written)+" does not exist")
	}
	if len(tn.Typmods) > 0 && !e.typmods {
		return fail(pgerror.SyntaxError, "type modifier is not allowed for type "+quoted(name))
	}
	if len(tn.ArrayBounds) > 0 {
		return fail(pgerror.FeatureNotSupported, "array types are not supported yet: "+e.t.String()+"[]")
	}
	return e.t, nil
}
