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
	"oid": "oid", "name": "name", "bit": "bit", "xid": "xid", "aclitem": "aclitem", "varbit": "bit varying",
	"point": "point", "line": "line", "lseg": "lseg", "box": "box", "path": "path",
	"polygon": "polygon", "circle": "circle", "tsvector": "tsvector", "tsquery": "tsquery",
	"serial": "serial", "serial4": "serial", "bigserial": "bigserial", "serial8": "bigserial",
	"smallserial": "smallserial", "serial2": "smallserial", "regclass": "regclass",
	"regtype": "regtype", "regproc": "regproc", "regprocedure": "regprocedure",
	"regnamespace": "regnamespace", "int2vector": "int2vector", "oidvector": "oidvector",
	"pg_node_tree": "pg_node_tree", "int4range": "int4range", "int8range": "int8range", "numrange": "numrange",
	"tsrange": "tsrange", "tstzrange": "tstzrange", "daterange": "daterange",
	"jsonpath": "jsonpath", "pg_lsn": "pg_lsn", "txid_snapshot": "txid_snapshot",
}

// catalogTypeNames are the system catalog types, which casts and
// expressions may name (x::regclass, '{1}'::oid[]) but columns of sources
// and tables may not, yet. In a cast, "char" (which the grammar produces
// only for the quoted spelling) is the one-byte type.
var catalogTypeNames = map[string]types.T{
	"oid": types.Oid, "name": types.Name, "char": types.Char, "regproc": types.RegProc,
	"regprocedure": types.RegProcedure, "regclass": types.RegClass, "regtype": types.RegType,
	"regnamespace": types.RegNamespace, "xid": types.Xid, "int2vector": types.Int2Vector,
	"oidvector": types.OidVector, "pg_node_tree": types.PgNodeTree, "aclitem": types.ACLItem,
}

// ResolveTypeName maps a type name as PostgreSQL's grammar produces it in a
// column definition to a Sluice type. Array types are refused with 0A000
// for now, and so are the system catalog types; an unknown name is 42704,
// as in PostgreSQL. Errors point at the type name when its location is
// known.
func ResolveTypeName(tn *pg_query.TypeName) (types.T, error) {
	return resolveTypeName(tn, false)
}

// ResolveCastType is ResolveTypeName for the type of a cast or another
// expression: it also takes arrays (int2[], _int4) and the system catalog
// types (oid, regclass, "char", ...).
func ResolveCastType(tn *pg_query.TypeName) (types.T, error) {
	return resolveTypeName(tn, true)
}

func resolveTypeName(tn *pg_query.TypeName, cast bool) (types.T, error) {
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
	array := len(tn.ArrayBounds) > 0
	if cast && strings.HasPrefix(name, "_") && !array {
		// pg_type's name of an array type: _int4 is integer[].
		name, array = name[1:], true
	}
	e, ok := typeNames[name]
	if t, isCatalog := catalogTypeNames[name]; cast && isCatalog {
		e, ok = typeEntry{t: t}, true
	}
	if !ok {
		if display, known := unsupportedTypes[name]; known {
			return fail(pgerror.FeatureNotSupported, "type "+display+" is not supported")
		}
		return fail(pgerror.UndefinedObject, "type "+quoted(written)+" does not exist")
	}
	if len(tn.Typmods) > 0 && !e.typmods {
		return fail(pgerror.SyntaxError, "type modifier is not allowed for type "+quoted(name))
	}
	if array {
		if !cast || !e.t.HasArray() {
			return fail(pgerror.FeatureNotSupported, "array types are not supported yet: "+e.t.String()+"[]")
		}
		return types.ArrayOf(e.t), nil
	}
	return e.t, nil
}
