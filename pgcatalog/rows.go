package pgcatalog

import (
	"github.com/sluicedb/sluice/catalog"
	"github.com/sluicedb/sluice/types"
)

// producers make the rows of the relations that have any, by qualified
// name. The other relations are empty: Sluice has no policies,
// publications, rules, inheritance, triggers, sequences, extensions,
// column defaults or comments on its objects.
var producers = map[string]func(s *Snapshot, add func(*row)){
	"pg_catalog.pg_namespace":              pgNamespace,
	"pg_catalog.pg_class":                  pgClass,
	"pg_catalog.pg_attribute":              pgAttribute,
	"pg_catalog.pg_type":                   pgType,
	"pg_catalog.pg_am":                     pgAm,
	"pg_catalog.pg_description":            pgDescription,
	"pg_catalog.pg_database":               pgDatabase,
	"pg_catalog.pg_proc":                   pgProc,
	"pg_catalog.pg_roles":                  pgRoles,
	"pg_catalog.pg_user":                   pgUser,
	"pg_catalog.pg_settings":               pgSettings,
	"pg_catalog.pg_index":                  pgIndex,
	"pg_catalog.pg_constraint":             pgConstraint,
	"pg_catalog.pg_tablespace":             pgTablespace,
	"pg_catalog.pg_tables":                 pgTables,
	"pg_catalog.pg_matviews":               pgMatviews,
	"pg_catalog.pg_indexes":                pgIndexes,
	"information_schema.schemata":          infoSchemata,
	"information_schema.tables":            infoTables,
	"information_schema.columns":           infoColumns,
	"information_schema.views":             infoViews,
	"information_schema.table_constraints": infoTableConstraints,
	"information_schema.key_column_usage":  infoKeyColumnUsage,
}

// rel returns the relation a producer fills; producers are registered
// under their relation's name, so it exists.
func rel(schema, name string) *Relation {
	for _, r := range definitions {
		if r.Schema == schema && r.Name == name {
			return r
		}
	}
	panic("pgcatalog: no relation " + schema + "." + name)
}

func pgNamespace(s *Snapshot, add func(*row)) {
	r := rel(schemaCatalog, "pg_namespace")
	for _, n := range namespaces {
		add(r.newRow().set("oid", oid(n.oid)).set("nspname", n.name).set("nspowner", oid(n.owner)))
	}
}

// storedKind reports whether relations of kind keep rows (and so have an
// access method and a file node).
func storedKind(kind byte) bool { return kind == 'r' || kind == 'm' || kind == 'i' }

func pgClass(s *Snapshot, add func(*row)) {
	r := rel(schemaCatalog, "pg_class")
	for _, c := range s.classes {
		row := r.newRow().
			set("oid", oid(c.oid)).set("relname", c.name).set("relnamespace", oid(c.namespace)).
			set("reltype", oid(0)).set("reloftype", oid(0)).set("relowner", oid(oidBootstrapUser)).
			set("relam", oid(0)).set("relfilenode", oid(0)).set("reltablespace", oid(0)).
			set("relpages", int32(0)).set("reltuples", float32(-1)).set("relallvisible", int32(0)).
			set("reltoastrelid", oid(0)).set("relhasindex", c.kind == 'r' && c.object != nil && len(c.object.PrimaryKey) > 0).
			set("relisshared", false).set("relpersistence", "p").set("relkind", string(c.kind)).
			set("relnatts", int16(len(c.cols))).set("relchecks", int16(0)).set("relhasrules", false).
			set("relhastriggers", false).set("relhassubclass", false).set("relrowsecurity", false).
			set("relforcerowsecurity", false).set("relispopulated", true).set("relreplident", "n").
			set("relispartition", false).set("relrewrite", oid(0)).set("relfrozenxid", int64(0)).set("relminmxid", int64(0))
		if c.system != nil && c.kind == 'r' {
			row.set("relam", oid(oidHeap))
		}
		if c.system == nil && storedKind(c.kind) {
			am := uint32(oidHeap)
			if c.kind == 'i' {
				am = oidBtree
			}
			row.set("relam", oid(am)).set("relfilenode", oid(c.oid))
		}
		if c.kind == 'r' && c.system == nil {
			row.set("relreplident", "d")
		}
		add(row)
	}
}

// typeFactsOf returns pg_type's facts of t, deriving those of arrays from
// their elements' as PostgreSQL does.
func typeFactsOf(t types.T) typeFacts {
	if !t.IsArray() {
		return scalarTypes[t]
	}
	e := scalarTypes[t.Elem()]
	align := byte('i')
	if e.align == 'd' {
		align = 'd'
	}
	return typeFacts{typname: "_" + e.typname, typtype: 'b', category: 'A',
		input: oidArrayIn, output: oidArrayOut, receive: oidArrayRecv, send: oidArraySend,
		subscript: oidArraySubscriptHandler, align: align, storage: 'x', collation: e.collation}
}

// allTypes are the types pg_type lists: every scalar type, then the arrays.
var allTypes = func() []types.T {
	var out []types.T
	for t := types.Bool; t <= types.ACLItem; t++ {
		out = append(out, t)
	}
	for t := types.Bool; t <= types.ACLItem; t++ {
		if t.HasArray() {
			out = append(out, types.ArrayOf(t))
		}
	}
	return out
}()

func pgType(s *Snapshot, add func(*row)) {
	r := rel(schemaCatalog, "pg_type")
	for _, t := range allTypes {
		f := typeFactsOf(t)
		var elem, arr uint32
		switch {
		case t.IsArray(), t == types.Int2Vector, t == types.OidVector:
			elem = t.Elem().OID()
		case t == types.Name:
			elem = types.OIDChar // name is subscriptable as an array of char
		}
		if t.HasArray() {
			arr = types.ArrayOf(t).OID()
		}
		add(r.newRow().
			set("oid", oid(t.OID())).set("typname", f.typname).set("typnamespace", oid(oidCatalog)).
			set("typowner", oid(oidBootstrapUser)).set("typlen", t.Len()).set("typbyval", f.byval).
			set("typtype", string(f.typtype)).set("typcategory", string(f.category)).
			set("typispreferred", f.preferred).set("typisdefined", true).set("typdelim", ",").
			set("typrelid", oid(0)).set("typsubscript", oid(f.subscript)).set("typelem", oid(elem)).
			set("typarray", oid(arr)).set("typinput", oid(f.input)).set("typoutput", oid(f.output)).
			set("typreceive", oid(f.receive)).set("typsend", oid(f.send)).set("typmodin", oid(0)).
			set("typmodout", oid(0)).set("typanalyze", oid(0)).set("typalign", string(f.align)).
			set("typstorage", string(f.storage)).set("typnotnull", false).set("typbasetype", oid(0)).
			set("typtypmod", int32(-1)).set("typndims", int32(0)).set("typcollation", oid(f.collation)))
	}
}

func pgAttribute(s *Snapshot, add func(*row)) {
	r := rel(schemaCatalog, "pg_attribute")
	for _, c := range s.classes {
		for i, col := range c.cols {
			f := typeFactsOf(col.Type)
			dims := int32(0)
			if col.Type.IsArray() {
				dims = 1
			}
			add(r.newRow().
				set("attrelid", oid(c.oid)).set("attname", col.Name).set("atttypid", oid(col.Type.OID())).
				set("attstattarget", int32(-1)).set("attlen", col.Type.Len()).set("attnum", int16(i+1)).
				set("attndims", dims).set("attcacheoff", int32(-1)).set("atttypmod", int32(-1)).
				set("attbyval", f.byval).set("attalign", string(f.align)).set("attstorage", string(f.storage)).
				set("attcompression", "").set("attnotnull", col.NotNull).set("atthasdef", false).
				set("atthasmissing", false).set("attidentity", "").set("attgenerated", "").
				set("attisdropped", false).set("attislocal", true).set("attinhcount", int32(0)).
				set("attcollation", oid(f.collation)))
		}
	}
}

func pgAm(s *Snapshot, add func(*row)) {
	r := rel(schemaCatalog, "pg_am")
	for _, am := range []struct {
		oid           uint32
		name, handler string
		kind          string
	}{{oidHeap, "heap", "heap_tableam_handler", "t"}, {oidBtree, "btree", "bthandler", "i"}, {oidHash, "hash", "hashhandler", "i"}} {
		add(r.newRow().set("oid", oid(am.oid)).set("amname", am.name).set("amhandler", oid(0)).set("amtype", am.kind))
	}
}

func pgDescription(s *Snapshot, add func(*row)) {
	r := rel(schemaCatalog, "pg_description")
	nsClass := rel(schemaCatalog, "pg_namespace").OID
	for _, n := range namespaces {
		if n.desc != "" {
			add(r.newRow().set("objoid", oid(n.oid)).set("classoid", oid(nsClass)).set("objsubid", int32(0)).set("description", n.desc))
		}
	}
}

func pgDatabase(s *Snapshot, add func(*row)) {
	r := rel(schemaCatalog, "pg_database")
	add(r.newRow().
		set("oid", oid(oidDatabase)).set("datname", s.session.Database).set("datdba", oid(oidBootstrapUser)).
		set("encoding", int32(6)).set("datlocprovider", "c").set("datistemplate", false).
		set("datallowconn", true).set("datconnlimit", int32(-1)).set("datfrozenxid", int64(0)).
		set("datminmxid", int64(1)).set("dattablespace", oid(oidTablespace)).
		set("datcollate", "C.UTF-8").set("datctype", "C.UTF-8"))
}

func pgProc(s *Snapshot, add func(*row)) {
	r := rel(schemaCatalog, "pg_proc")
	for _, p := range procs {
		add(r.newRow().
			set("oid", oid(p.oid)).set("proname", p.name).set("pronamespace", oid(oidCatalog)).
			set("proowner", oid(oidBootstrapUser)).set("prolang", oid(oidLanguageInternal)).
			set("procost", float32(1)).set("prorows", float32(0)).set("provariadic", oid(0)).
			set("prosupport", oid(0)).set("prokind", "f").set("prosecdef", false).
			set("proleakproof", false).set("proisstrict", true).set("proretset", false).
			set("provolatile", "i").set("proparallel", "s").set("pronargs", int16(len(p.args))).
			set("pronargdefaults", int16(0)).set("prorettype", oid(p.ret)).set("proargtypes", p.argVector()).
			set("prosrc", p.name))
	}
}

// roles are the session's user, a superuser, and pg_database_owner.
func (s *Snapshot) roles(each func(oid uint32, name string, login bool)) {
	each(oidDatabaseOwner, "pg_database_owner", false)
	each(oidBootstrapUser, s.session.User, true)
}

func pgRoles(s *Snapshot, add func(*row)) {
	r := rel(schemaCatalog, "pg_roles")
	s.roles(func(o uint32, name string, login bool) {
		add(r.newRow().
			set("rolname", name).set("rolsuper", login).set("rolinherit", true).set("rolcreaterole", login).
			set("rolcreatedb", login).set("rolcanlogin", login).set("rolreplication", login).
			set("rolconnlimit", int32(-1)).set("rolpassword", "********").set("rolbypassrls", login).
			set("oid", oid(o)))
	})
}

func pgUser(s *Snapshot, add func(*row)) {
	r := rel(schemaCatalog, "pg_user")
	s.roles(func(o uint32, name string, login bool) {
		if !login {
			return
		}
		add(r.newRow().
			set("usename", name).set("usesysid", oid(o)).set("usecreatedb", true).set("usesuper", true).
			set("userepl", true).set("usebypassrls", true).set("passwd", "********"))
	})
}

func pgSettings(s *Snapshot, add func(*row)) {
	r := rel(schemaCatalog, "pg_settings")
	for _, name := range s.sortedSettings() {
		value, _ := s.Setting(name)
		row := r.newRow().set("name", name).set("setting", value).set("source", "default").
			set("pending_restart", false).set("context", "user").set("vartype", "string")
		if d, ok := settingByName[lower(name)]; ok {
			row.set("category", d.category).set("short_desc", d.desc).set("context", d.context).
				set("vartype", d.vartype).set("boot_val", d.def).set("reset_val", d.def)
			if d.unit != "" {
				row.set("unit", d.unit)
			}
			if d.min != "" {
				row.set("min_val", d.min).set("max_val", d.max)
			}
			if value != d.def {
				row.set("source", "session")
			}
		}
		add(row)
	}
}

// primaryKeys calls f for every table with a primary key, with its index.
func (s *Snapshot) primaryKeys(f func(table *catalog.Object, index *class)) {
	for _, c := range s.classes {
		if c.index {
			f(c.object, c)
		}
	}
}

func pgIndex(s *Snapshot, add func(*row)) {
	r := rel(schemaCatalog, "pg_index")
	s.primaryKeys(func(t *catalog.Object, ix *class) {
		keys := make([]int64, len(t.PrimaryKey))
		zeros := make([]int64, len(t.PrimaryKey))
		colls := make([]int64, len(t.PrimaryKey))
		for i, k := range t.PrimaryKey {
			keys[i] = int64(k + 1)
			colls[i] = int64(typeFactsOf(t.Schema[k].Type).collation)
		}
		add(r.newRow().
			set("indexrelid", oid(ix.oid)).set("indrelid", oid(t.OID)).set("indnatts", int16(len(keys))).
			set("indnkeyatts", int16(len(keys))).set("indisunique", true).set("indnullsnotdistinct", false).
			set("indisprimary", true).set("indisexclusion", false).set("indimmediate", true).
			set("indisclustered", false).set("indisvalid", true).set("indcheckxmin", false).
			set("indisready", true).set("indislive", true).set("indisreplident", false).
			set("indkey", vector(keys...)).set("indcollation", vector(colls...)).
			set("indclass", vector(zeros...)).set("indoption", vector(zeros...)))
	})
}

func pgConstraint(s *Snapshot, add func(*row)) {
	r := rel(schemaCatalog, "pg_constraint")
	s.primaryKeys(func(t *catalog.Object, ix *class) {
		keys := make([]string, len(t.PrimaryKey))
		for i, k := range t.PrimaryKey {
			keys[i] = itoa(k + 1)
		}
		add(r.newRow().
			set("oid", oid(t.OID+constraintFlag)).set("conname", ix.name).set("connamespace", oid(oidPublic)).
			set("contype", "p").set("condeferrable", false).set("condeferred", false).
			set("convalidated", true).set("conrelid", oid(t.OID)).set("contypid", oid(0)).
			set("conindid", oid(ix.oid)).set("conparentid", oid(0)).set("confrelid", oid(0)).
			set("confupdtype", " ").set("confdeltype", " ").set("confmatchtype", " ").
			set("conislocal", true).set("coninhcount", int32(0)).set("connoinherit", true).
			set("conkey", arrayOf(types.Int2, keys...)))
	})
}

func pgTablespace(s *Snapshot, add func(*row)) {
	r := rel(schemaCatalog, "pg_tablespace")
	add(r.newRow().set("oid", oid(oidTablespace)).set("spcname", "pg_default").set("spcowner", oid(oidBootstrapUser)))
	add(r.newRow().set("oid", oid(oidGlobalSpace)).set("spcname", "pg_global").set("spcowner", oid(oidBootstrapUser)))
}

// schemaOf names a class's schema.
func schemaOf(c *class) string {
	name, _ := namespaceName(c.namespace)
	return name
}

func pgTables(s *Snapshot, add func(*row)) {
	r := rel(schemaCatalog, "pg_tables")
	for _, c := range s.classes {
		if c.kind != 'r' {
			continue
		}
		add(r.newRow().
			set("schemaname", schemaOf(c)).set("tablename", c.name).set("tableowner", s.session.User).
			set("hasindexes", c.object != nil && len(c.object.PrimaryKey) > 0).set("hasrules", false).
			set("hastriggers", false).set("rowsecurity", false))
	}
}

func pgMatviews(s *Snapshot, add func(*row)) {
	r := rel(schemaCatalog, "pg_matviews")
	for _, c := range s.classes {
		if c.kind != 'm' {
			continue
		}
		def, _ := s.Definition("viewdef", int64(c.oid))
		add(r.newRow().
			set("schemaname", schemaOf(c)).set("matviewname", c.name).set("matviewowner", s.session.User).
			set("hasindexes", false).set("ispopulated", true).set("definition", def))
	}
}

func pgIndexes(s *Snapshot, add func(*row)) {
	r := rel(schemaCatalog, "pg_indexes")
	s.primaryKeys(func(t *catalog.Object, ix *class) {
		def, _ := s.Definition("indexdef", int64(ix.oid))
		add(r.newRow().
			set("schemaname", schemaPublic).set("tablename", t.Name).set("indexname", ix.name).set("indexdef", def))
	})
}
