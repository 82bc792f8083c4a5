package parser

import (
	"errors"
	"testing"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/types"
)

// columnType parses CREATE TABLE t (a <spelling>) and returns a's type name,
// so that the test sees exactly what PostgreSQL's grammar produces.
func columnType(t *testing.T, spelling string) *pg_query.TypeName {
	t.Helper()
	stmts, err := Parse("CREATE TABLE t (a " + spelling + ")")
	if err != nil {
		t.Fatalf("Parse type %q: %v", spelling, err)
	}
	return stmts[0].(*CreateTable).Columns[0].Type
}

func TestResolveTypeName(t *testing.T) {
	tests := []struct {
		spelling string
		want     types.T
	}{
		{"bool", types.Bool}, {"boolean", types.Bool}, {"pg_catalog.bool", types.Bool},
		{"int2", types.Int2}, {"smallint", types.Int2},
		{"int", types.Int4}, {"integer", types.Int4}, {"int4", types.Int4}, {"pg_catalog.int4", types.Int4},
		{"int8", types.Int8}, {"bigint", types.Int8},
		{"float4", types.Float4}, {"real", types.Float4}, {"float(24)", types.Float4},
		{"float8", types.Float8}, {"double precision", types.Float8}, {"float", types.Float8}, {"float(25)", types.Float8},
		{"numeric", types.Numeric}, {"numeric(10,2)", types.Numeric}, {"decimal(5)", types.Numeric}, {"dec", types.Numeric},
		{"text", types.Text}, {"TEXT", types.Text},
		{"varchar", types.Varchar}, {"varchar(20)", types.Varchar}, {"character varying(3)", types.Varchar},
		{"char", types.Text}, {"char(3)", types.Text}, {"character(2)", types.Text}, {"bpchar", types.Text}, {`"char"`, types.Text},
		{"bytea", types.Bytea},
		{"date", types.Date},
		{"time", types.Time}, {"time(3)", types.Time}, {"time without time zone", types.Time},
		{"timestamp", types.Timestamp}, {"timestamp(6)", types.Timestamp}, {"timestamp without time zone", types.Timestamp},
		{"timestamptz", types.TimestampTZ}, {"timestamp with time zone", types.TimestampTZ}, {"timestamptz(3)", types.TimestampTZ},
		{"interval", types.Interval}, {"interval day to second", types.Interval}, {"interval(3)", types.Interval},
		{"jsonb", types.JSONB}, {"json", types.JSONB},
	}
	for _, tt := range tests {
		got, err := ResolveTypeName(columnType(t, tt.spelling))
		if err != nil || got != tt.want {
			t.Errorf("ResolveTypeName(%s) = %v, %v; want %v", tt.spelling, got, err, tt.want)
		}
	}
}

func TestResolveTypeNameErrors(t *testing.T) {
	tests := []struct {
		spelling string
		code     string
		message  string
	}{
		{"foo", pgerror.UndefinedObject, `type "foo" does not exist`},
		{`"Int4"`, pgerror.UndefinedObject, `type "Int4" does not exist`},
		{"myschema.int4", pgerror.UndefinedObject, `type "myschema.int4" does not exist`},
		{"int[]", pgerror.FeatureNotSupported, "array types are not supported yet: integer[]"},
		{"text array", pgerror.FeatureNotSupported, "array types are not supported yet: text[]"},
		{"varchar(10)[3]", pgerror.FeatureNotSupported, "array types are not supported yet: character varying[]"},
		{"text(5)", pgerror.SyntaxError, `type modifier is not allowed for type "text"`},
		{"time with time zone", pgerror.FeatureNotSupported, "type time with time zone is not supported"},
		{"uuid", pgerror.FeatureNotSupported, "type uuid is not supported"},
		{"serial", pgerror.FeatureNotSupported, "type serial is not supported"},
		{"bit(3)", pgerror.FeatureNotSupported, "type bit is not supported"},
	}
	for _, tt := range tests {
		_, err := ResolveTypeName(columnType(t, tt.spelling))
		var pe *pgerror.Error
		if !errors.As(err, &pe) {
			t.Errorf("ResolveTypeName(%s) error = %v, want a *pgerror.Error", tt.spelling, err)
			continue
		}
		// The error points at the type name: CREATE TABLE t (a <here>.
		if pe.Code != tt.code || pe.Message != tt.message || pe.Position != 19 {
			t.Errorf("ResolveTypeName(%s) = %s %q at %d; want %s %q at 19", tt.spelling, pe.Code, pe.Message, pe.Position, tt.code, tt.message)
		}
	}
	if _, err := ResolveTypeName(nil); pgerror.Code(err) != pgerror.InternalError {
		t.Errorf("ResolveTypeName(nil) = %v, want an internal error", err)
	}
}

func TestResolveCastType(t *testing.T) {
	tests := []struct {
		spelling string
		want     types.T
	}{
		{"int4", types.Int4}, {"int[]", types.ArrayOf(types.Int4)}, {"pg_catalog.int2[]", types.ArrayOf(types.Int2)},
		{"text array", types.ArrayOf(types.Text)}, {"_int4", types.ArrayOf(types.Int4)}, {"_text", types.ArrayOf(types.Text)},
		{"oid", types.Oid}, {"pg_catalog.regclass", types.RegClass}, {"regtype", types.RegType},
		{`"char"`, types.Char}, {`pg_catalog."char"`, types.Char}, {"char(1)", types.Text}, {"name", types.Name},
		{`"char"[]`, types.ArrayOf(types.Char)}, {"aclitem[]", types.ArrayOf(types.ACLItem)}, {"int2vector", types.Int2Vector},
	}
	for _, tt := range tests {
		got, err := ResolveCastType(columnType(t, tt.spelling))
		if err != nil || got != tt.want {
			t.Errorf("ResolveCastType(%s) = %v, %v; want %v", tt.spelling, got, err, tt.want)
		}
	}
	// Columns do not take them yet.
	for _, spelling := range []string{"oid", "regclass", "name"} {
		if _, err := ResolveTypeName(columnType(t, spelling)); pgerror.Code(err) != pgerror.FeatureNotSupported {
			t.Errorf("ResolveTypeName(%s) = %v, want 0A000", spelling, err)
		}
	}
	if _, err := ResolveCastType(columnType(t, "pg_node_tree[]")); pgerror.Code(err) != pgerror.FeatureNotSupported {
		t.Errorf("pg_node_tree[] = %v, want 0A000 (it has no array type)", err)
	}
}
