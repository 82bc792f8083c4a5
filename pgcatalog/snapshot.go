package pgcatalog

import (
	"sort"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sluicedb/sluice/catalog"
	"github.com/sluicedb/sluice/expr"
	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/types"
)

// Session is what the catalog shows of the session that reads it.
type Session struct {
	// User is the name the client connected as; it owns everything.
	User string
	// Database is the database the client named; Sluice has one, and
	// shows it under that name.
	Database string
	// Settings are the session's run-time parameters, as SHOW shows them.
	// Parameters it lacks take the defaults of pg_settings.
	Settings map[string]string
}

// Snapshot is the catalog as one statement sees it: Sluice's objects at the
// time the statement started, and its session. It implements
// expr.SystemCatalog. A Snapshot is read-only once made and may be shared by
// the goroutines of one statement.
type Snapshot struct {
	session Session
	// classes are the rows of pg_class: system relations, then Sluice's
	// objects in creation order, each table's primary key index after it.
	classes []*class
	byOID   map[uint32]*class
	// public maps names to Sluice's objects (and their indexes).
	public map[string]*class
}

// class is one relation of pg_class.
type class struct {
	oid       uint32
	name      string
	namespace uint32
	kind      byte
	cols      types.Schema
	system    *Relation       // for pg_catalog and information_schema relations
	object    *catalog.Object // for Sluice's objects, and the table of an index
	index     bool            // the primary key index of object
}

// Sluice's kinds of objects as pg_class.relkind: tables and materialized
// views as in PostgreSQL, sources and sinks with the letters RisingWave
// gives them.
func relkind(k catalog.Kind) byte {
	switch k {
	case catalog.Table:
		return 'r'
	case catalog.MaterializedView:
		return 'm'
	case catalog.Source:
		return 's'
	}
	return 'k'
}

// NewSnapshot takes objects (catalog.Catalog.All, in creation order) and
// the session.
func NewSnapshot(objects []*catalog.Object, session Session) *Snapshot {
	s := &Snapshot{session: session, byOID: map[uint32]*class{}, public: map[string]*class{}}
	add := func(c *class) {
		s.classes = append(s.classes, c)
		s.byOID[c.oid] = c
		if c.namespace == oidPublic {
			s.public[c.name] = c
		}
	}
	for _, r := range definitions {
		ns := uint32(oidCatalog)
		if r.Schema == schemaInformation {
			ns = oidInformation
		}
		add(&class{oid: r.OID, name: r.Name, namespace: ns, kind: r.Kind, cols: r.Cols, system: r})
	}
	for _, o := range objects {
		add(&class{oid: o.OID, name: o.Name, namespace: oidPublic, kind: relkind(o.Kind), cols: o.Schema, object: o})
		if o.Kind == catalog.Table && len(o.PrimaryKey) > 0 {
			var keyCols types.Schema
			for _, k := range o.PrimaryKey {
				keyCols = append(keyCols, o.Schema[k])
			}
			add(&class{oid: o.OID + indexFlag, name: pkeyName(o), namespace: oidPublic, kind: 'i', cols: keyCols, object: o, index: true})
		}
	}
	return s
}

// pkeyName is the name PostgreSQL gives a table's primary key.
func pkeyName(o *catalog.Object) string { return types.TruncateName(o.Name + "_pkey") }

// Record returns the rows of r as one Arrow record, allocated from mem.
func (s *Snapshot) Record(mem memory.Allocator, r *Relation) arrow.Record {
	schema := r.Cols.Arrow()
	bs := make([]array.Builder, len(r.Cols))
	for i, f := range schema.Fields() {
		bs[i] = array.NewBuilder(mem, f.Type)
	}
	n := 0
	if r.rows != nil {
		r.rows(s, func(rw *row) {
			for i, v := range rw.values {
				types.Put(bs[i], v, r.Cols[i].Type)
			}
			n++
		})
	}
	arrs := make([]arrow.Array, len(bs))
	for i, b := range bs {
		arrs[i] = b.NewArray()
		b.Release()
	}
	rec := array.NewRecord(schema, arrs, int64(n))
	for _, a := range arrs {
		a.Release()
	}
	return rec
}

// Rows returns the rows of r as Datums, for tests and small consumers.
func (s *Snapshot) Rows(r *Relation) [][]types.Datum {
	var out [][]types.Datum
	if r.rows != nil {
		r.rows(s, func(rw *row) { out = append(out, rw.values) })
	}
	return out
}

func (r *Relation) newRow() *row {
	return &row{rel: r, values: make([]types.Datum, len(r.Cols))}
}

var _ expr.SystemCatalog = (*Snapshot)(nil)

// Setting implements expr.SystemCatalog.
func (s *Snapshot) Setting(name string) (string, bool) {
	for k, v := range s.session.Settings {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	if d, ok := settingByName[strings.ToLower(name)]; ok {
		return d.value(s), true
	}
	return "", false
}

// User implements expr.SystemCatalog.
func (s *Snapshot) User() string { return s.session.User }

// Database implements expr.SystemCatalog.
func (s *Snapshot) Database() string { return s.session.Database }

// namespaces are the schemas, in pg_namespace's order.
var namespaces = []struct {
	oid   uint32
	name  string
	owner uint32
	desc  string
}{
	{oidToast, "pg_toast", oidBootstrapUser, "reserved schema for TOAST tables"},
	{oidCatalog, schemaCatalog, oidBootstrapUser, "system catalog schema"},
	{oidPublic, schemaPublic, oidDatabaseOwner, "standard public schema"},
	{oidInformation, schemaInformation, oidBootstrapUser, ""},
}

func namespaceName(oid uint32) (string, bool) {
	for _, n := range namespaces {
		if n.oid == oid {
			return n.name, true
		}
	}
	return "", false
}

func namespaceOID(name string) (uint32, bool) {
	for _, n := range namespaces {
		if n.name == name {
			return n.oid, true
		}
	}
	return 0, false
}

// roleName names the roles: the session's user is the bootstrap superuser.
func (s *Snapshot) roleName(oid uint32) (string, bool) {
	switch oid {
	case oidBootstrapUser:
		return s.session.User, true
	case oidDatabaseOwner:
		return "pg_database_owner", true
	}
	return "", false
}

// ObjectName implements expr.SystemCatalog.
func (s *Snapshot) ObjectName(class string, oid64 int64) (string, bool) {
	oid := uint32(oid64)
	switch class {
	case expr.ClassRelation:
		c, ok := s.byOID[oid]
		if !ok {
			return "", false
		}
		if s.visible(c) {
			return quoteIdent(c.name), true
		}
		ns, _ := namespaceName(c.namespace)
		return quoteIdent(ns) + "." + quoteIdent(c.name), true
	case expr.ClassType:
		if t, ok := types.FromOID(oid); ok && oid != types.OIDJSON {
			return t.String(), true
		}
		if p, ok := pseudoTypes[oid]; ok {
			return p, true
		}
	case expr.ClassFunction:
		if p, ok := procByOID[oid]; ok {
			return quoteIdent(p.name), true
		}
	case expr.ClassFunctionSignature:
		if p, ok := procByOID[oid]; ok {
			return quoteIdent(p.name) + "(" + p.identityArgs() + ")", true
		}
	case expr.ClassNamespace:
		if name, ok := namespaceName(oid); ok {
			return quoteIdent(name), true
		}
	case expr.ClassRole:
		if name, ok := s.roleName(oid); ok {
			return quoteIdent(name), true
		}
	case expr.ClassDatabase:
		if oid == oidDatabase {
			return quoteIdent(s.session.Database), true
		}
	}
	return "", false
}

func quoteIdent(s string) string { return string(expr.AppendQuotedIdent(nil, s)) }

// visible reports whether a relation is found by its bare name: it is in
// pg_catalog, or in public and not hidden by a pg_catalog relation of the
// same name.
func (s *Snapshot) visible(c *class) bool {
	switch c.namespace {
	case oidCatalog:
		return true
	case oidPublic:
		_, hidden := Lookup(schemaCatalog, c.name)
		return !hidden
	}
	return false
}

// Visible implements expr.SystemCatalog.
func (s *Snapshot) Visible(class string, oid int64) bool {
	switch class {
	case expr.ClassRelation:
		c, ok := s.byOID[uint32(oid)]
		return ok && s.visible(c)
	case expr.ClassType:
		_, ok := types.FromOID(uint32(oid))
		_, pseudo := pseudoTypes[uint32(oid)]
		return ok || pseudo
	case expr.ClassFunction:
		_, ok := procByOID[uint32(oid)]
		return ok
	}
	return false
}

// ObjectOID implements expr.SystemCatalog.
func (s *Snapshot) ObjectOID(class, name string) (int64, error) {
	switch class {
	case expr.ClassRelation:
		parts, err := expr.ParseIdent(name, true)
		if err != nil {
			return 0, err
		}
		if c, ok := s.relationByName(parts); ok {
			return int64(c.oid), nil
		}
		return 0, pgerror.New(pgerror.UndefinedTable, "relation \"%s\" does not exist", name)
	case expr.ClassNamespace:
		parts, err := expr.ParseIdent(name, true)
		if err != nil {
			return 0, err
		}
		if len(parts) == 1 {
			if oid, ok := namespaceOID(parts[0]); ok {
				return int64(oid), nil
			}
		}
		return 0, types.ErrUnknownRegName(types.RegNamespace, name)
	case expr.ClassType:
		t, err := parseTypeName(name)
		if err != nil {
			return 0, err
		}
		return int64(t.OID()), nil
	case expr.ClassFunction:
		return functionByName(name)
	case expr.ClassFunctionSignature:
		return functionBySignature(name)
	case expr.ClassRole:
		if name == s.session.User {
			return oidBootstrapUser, nil
		}
		if name == "pg_database_owner" {
			return oidDatabaseOwner, nil
		}
		return 0, pgerror.New(pgerror.UndefinedObject, "role \"%s\" does not exist", name)
	}
	return 0, pgerror.New(pgerror.FeatureNotSupported, "cannot look up names of %s", class)
}

// relationByName resolves [schema.]name the way PostgreSQL does.
func (s *Snapshot) relationByName(parts []string) (*class, bool) {
	switch len(parts) {
	case 1:
		for _, schema := range SearchPath {
			if c, ok := s.relationIn(schema, parts[0]); ok {
				return c, true
			}
		}
	case 2:
		return s.relationIn(parts[0], parts[1])
	case 3:
		if parts[0] == s.session.Database {
			return s.relationIn(parts[1], parts[2])
		}
	}
	return nil, false
}

func (s *Snapshot) relationIn(schema, name string) (*class, bool) {
	if schema == schemaPublic {
		c, ok := s.public[name]
		return c, ok
	}
	if r, ok := Lookup(schema, name); ok {
		return s.byOID[r.OID], true
	}
	return nil, false
}

// Definition implements expr.SystemCatalog.
func (s *Snapshot) Definition(kind string, oid64 int64) (string, bool) {
	oid := uint32(oid64)
	switch kind {
	case expr.DefView:
		c, ok := s.byOID[oid]
		if !ok || c.object == nil || c.index || (c.kind != 'm' && c.kind != 'k') || c.object.Query == "" {
			return "", false
		}
		return " " + strings.TrimSuffix(strings.TrimSpace(c.object.Query), ";") + ";", true
	case expr.DefIndex, expr.DefIndexPretty:
		c, ok := s.byOID[oid]
		if !ok || !c.index {
			return "", false
		}
		table := "public." + quoteIdent(c.object.Name)
		if t := s.byOID[c.object.OID]; kind == expr.DefIndexPretty && s.visible(t) {
			table = quoteIdent(c.object.Name)
		}
		return "CREATE UNIQUE INDEX " + quoteIdent(c.name) + " ON " + table + " USING btree (" + columnList(c.cols) + ")", true
	case expr.DefConstraint:
		if oid < constraintFlag {
			return "", false
		}
		c, ok := s.byOID[oid-constraintFlag+indexFlag]
		if !ok || !c.index {
			return "", false
		}
		return "PRIMARY KEY (" + columnList(c.cols) + ")", true
	case expr.DefFunctionResult, expr.DefFunctionArguments, expr.DefFunctionIdentityArguments:
		p, ok := procByOID[oid]
		if !ok {
			return "", false
		}
		if kind == expr.DefFunctionResult {
			return typeNameOf(p.ret), true
		}
		return p.identityArgs(), true
	}
	return "", false
}

func columnList(cols types.Schema) string {
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = quoteIdent(c.Name)
	}
	return strings.Join(names, ", ")
}

// Description implements expr.SystemCatalog: the comments PostgreSQL has on
// its schemas. Sluice has no COMMENT ON, so its objects have none.
func (s *Snapshot) Description(class string, oid int64, subid int32) (string, bool) {
	if (class == "" || class == "pg_namespace") && subid == 0 {
		for _, n := range namespaces {
			if int64(n.oid) == oid && n.desc != "" {
				return n.desc, true
			}
		}
	}
	return "", false
}

// sortedSettings lists every setting the session sees, by name.
func (s *Snapshot) sortedSettings() []string {
	seen := map[string]bool{}
	var names []string
	for _, d := range settingDefs {
		seen[strings.ToLower(d.name)] = true
		names = append(names, d.name)
	}
	for k := range s.session.Settings {
		if !seen[strings.ToLower(k)] {
			seen[strings.ToLower(k)] = true
			names = append(names, k)
		}
	}
	sort.Slice(names, func(i, j int) bool { return strings.ToLower(names[i]) < strings.ToLower(names[j]) })
	return names
}

// typeNameOf names a type OID as format_type does, pseudo-types included.
func typeNameOf(oid uint32) string {
	if p, ok := pseudoTypes[oid]; ok {
		return p
	}
	return string(expr.AppendFormatType(nil, int64(oid), -1))
}

func itoa(n int) string { return strconv.Itoa(n) }
