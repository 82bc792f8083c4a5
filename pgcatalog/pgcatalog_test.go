package pgcatalog

import (
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sluicedb/sluice/catalog"
	"github.com/sluicedb/sluice/expr"
	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/types"
)

// testSnapshot is a catalog with one of each kind of object.
func testSnapshot(t *testing.T) *Snapshot {
	t.Helper()
	cat := catalog.New()
	for _, o := range []*catalog.Object{
		{Kind: catalog.Source, Name: "bids", Schema: types.Schema{{Name: "auction", Type: types.Int8}, {Name: "price", Type: types.Int8}, {Name: "date_time", Type: types.Timestamp}}},
		{Kind: catalog.Table, Name: "users", Schema: types.Schema{{Name: "id", Type: types.Int8, NotNull: true}, {Name: "name", Type: types.Varchar}}, PrimaryKey: []int{0}},
		{Kind: catalog.MaterializedView, Name: "hot", Schema: types.Schema{{Name: "auction", Type: types.Int8}, {Name: "n", Type: types.Int8}},
			DependsOn: []string{"bids"}, Query: "SELECT auction, count(*) AS n FROM bids GROUP BY auction"},
		{Kind: catalog.Sink, Name: "out", Schema: types.Schema{{Name: "auction", Type: types.Int8}}, DependsOn: []string{"hot"}},
	} {
		if err := cat.Add(o); err != nil {
			t.Fatal(err)
		}
	}
	return NewSnapshot(cat.All(), Session{User: "ada", Database: "shop", Settings: map[string]string{"server_version": "15.0 (Sluice test)", "TimeZone": "UTC"}})
}

// TestEveryRelationBuilds makes every relation's record: each row sets
// columns that exist, with Datums of their types.
func TestEveryRelationBuilds(t *testing.T) {
	s := testSnapshot(t)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	for _, r := range Relations() {
		rec := s.Record(mem, r)
		if int(rec.NumCols()) != len(r.Cols) {
			t.Errorf("%s: %d columns, want %d", r, rec.NumCols(), len(r.Cols))
		}
		if r.AlwaysEmpty() && rec.NumRows() != 0 {
			t.Errorf("%s is always empty but has %d rows", r, rec.NumRows())
		}
		rec.Release()
	}
}

func TestLookup(t *testing.T) {
	for _, c := range []struct {
		schema, name string
		oid          uint32
		ok           bool
	}{
		{"", "pg_class", 1259, true},
		{"pg_catalog", "pg_type", 1247, true},
		{"information_schema", "tables", 13425, true},
		{"", "tables", 0, false}, // information_schema is not on the search path
		{"public", "pg_class", 0, false},
		{"pg_catalog", "nope", 0, false},
	} {
		r, ok := Lookup(c.schema, c.name)
		if ok != c.ok || (ok && r.OID != c.oid) {
			t.Errorf("Lookup(%q, %q) = %v, %v; want OID %d, %v", c.schema, c.name, r, ok, c.oid, c.ok)
		}
	}
}

// column returns the values of col in the rows of relation name.
func column(t *testing.T, s *Snapshot, schema, name, col string) []types.Datum {
	t.Helper()
	r, ok := Lookup(schema, name)
	if !ok {
		t.Fatalf("no relation %s.%s", schema, name)
	}
	i := r.Cols.Index(col)
	var out []types.Datum
	for _, row := range s.Rows(r) {
		out = append(out, row[i])
	}
	return out
}

func TestClassKinds(t *testing.T) {
	s := testSnapshot(t)
	names := column(t, s, "pg_catalog", "pg_class", "relname")
	kinds := column(t, s, "pg_catalog", "pg_class", "relkind")
	got := map[string]types.Datum{}
	for i, n := range names {
		got[n.(string)] = kinds[i]
	}
	for name, want := range map[string]string{"bids": "s", "users": "r", "users_pkey": "i", "hot": "m", "out": "k", "pg_class": "r", "pg_roles": "v", "tables": "v"} {
		if got[name] != want {
			t.Errorf("relkind of %s = %v, want %s", name, got[name], want)
		}
	}
}

func TestSystemCatalogLookups(t *testing.T) {
	s := testSnapshot(t)
	users, err := s.ObjectOID(expr.ClassRelation, "users")
	if err != nil || users != 16385 {
		t.Fatalf("users = %d, %v", users, err)
	}
	for _, c := range []struct {
		class, name string
		oid         int64
		code        string
	}{
		{expr.ClassRelation, "pg_class", 1259, ""},
		{expr.ClassRelation, "pg_catalog.pg_class", 1259, ""},
		{expr.ClassRelation, "information_schema.columns", 13295, ""},
		{expr.ClassRelation, "public.users", users, ""},
		{expr.ClassRelation, `"users"`, users, ""},
		{expr.ClassRelation, "Users", users, ""},
		{expr.ClassRelation, `"Users"`, 0, pgerror.UndefinedTable},
		{expr.ClassRelation, "nope", 0, pgerror.UndefinedTable},
		{expr.ClassType, "integer", 23, ""},
		{expr.ClassType, "int4", 23, ""},
		{expr.ClassType, "character varying(10)", 1043, ""},
		{expr.ClassType, "text[]", 1009, ""},
		{expr.ClassType, "nope", 0, pgerror.UndefinedObject},
		{expr.ClassNamespace, "public", 2200, ""},
		{expr.ClassNamespace, "nope", 0, "3F000"},
		{expr.ClassFunction, "array_in", 750, ""},
		{expr.ClassFunction, "lower", -1, ""},
		{expr.ClassFunction, "to_hex", 0, "42725"}, // to_hex(integer) and to_hex(bigint)
		{expr.ClassFunctionSignature, "upper(text)", -1, ""},
	} {
		got, err := s.ObjectOID(c.class, c.name)
		switch {
		case c.code != "":
			if pgerror.Code(err) != c.code {
				t.Errorf("ObjectOID(%s, %q) = %d, %v; want error %s", c.class, c.name, got, err, c.code)
			}
		case err != nil:
			t.Errorf("ObjectOID(%s, %q): %v", c.class, c.name, err)
		case c.oid >= 0 && got != c.oid:
			t.Errorf("ObjectOID(%s, %q) = %d, want %d", c.class, c.name, got, c.oid)
		}
	}
	for _, c := range []struct {
		class string
		oid   int64
		want  string
	}{
		{expr.ClassRelation, 1259, "pg_class"},
		{expr.ClassRelation, 13425, "information_schema.tables"},
		{expr.ClassRelation, users, "users"},
		{expr.ClassRelation, users + indexFlag, "users_pkey"},
		{expr.ClassType, 1043, "character varying"},
		{expr.ClassType, 1007, "integer[]"},
		{expr.ClassNamespace, 11, "pg_catalog"},
		{expr.ClassRole, 10, "ada"},
		{expr.ClassFunction, 750, "array_in"},
		{expr.ClassFunctionSignature, 750, "array_in(cstring, oid, integer)"},
	} {
		if got, ok := s.ObjectName(c.class, c.oid); !ok || got != c.want {
			t.Errorf("ObjectName(%s, %d) = %q, %v; want %q", c.class, c.oid, got, ok, c.want)
		}
	}
	if !s.Visible(expr.ClassRelation, users) || s.Visible(expr.ClassRelation, 13425) || !s.Visible(expr.ClassRelation, 1259) {
		t.Error("visibility: users and pg_class are visible, information_schema.tables is not")
	}
	for _, c := range []struct {
		kind string
		oid  int64
		want string
	}{
		{expr.DefView, users + 1, " SELECT auction, count(*) AS n FROM bids GROUP BY auction;"},
		{expr.DefIndex, users + indexFlag, "CREATE UNIQUE INDEX users_pkey ON public.users USING btree (id)"},
		{expr.DefConstraint, users + constraintFlag, "PRIMARY KEY (id)"},
	} {
		if got, ok := s.Definition(c.kind, c.oid); !ok || got != c.want {
			t.Errorf("Definition(%s, %d) = %q, %v; want %q", c.kind, c.oid, got, ok, c.want)
		}
	}
	if v, ok := s.Setting("timezone"); !ok || v != "UTC" {
		t.Errorf("Setting(timezone) = %q, %v", v, ok)
	}
	if v, ok := s.Setting("server_version_num"); !ok || v != "150000" {
		t.Errorf("Setting(server_version_num) = %q, %v", v, ok)
	}
}

func TestInformationSchemaLeavesOutSourcesAndSinks(t *testing.T) {
	s := testSnapshot(t)
	var public []string
	schemas := column(t, s, "information_schema", "tables", "table_schema")
	for i, n := range column(t, s, "information_schema", "tables", "table_name") {
		if schemas[i] == "public" {
			public = append(public, n.(string)+":"+column(t, s, "information_schema", "tables", "table_type")[i].(string))
		}
	}
	if got := strings.Join(public, " "); got != "users:BASE TABLE hot:VIEW" {
		t.Errorf("public tables: %s", got)
	}
}
