package pgcatalog

import (
	"sort"
	"strings"

	"github.com/sluicedb/sluice/catalog"
	"github.com/sluicedb/sluice/types"
)

// information_schema, as PostgreSQL 15 computes it for a superuser, over
// the relations that can be queried: tables, materialized views (listed as
// VIEW, so that BI tools offer them) and the system relations. Sources and
// sinks are not relations one can SELECT from, so they are left out.

func lower(s string) string { return strings.ToLower(s) }

func infoSchemata(s *Snapshot, add func(*row)) {
	r := rel(schemaInformation, "schemata")
	ns := append(namespaces[:0:0], namespaces...)
	sort.Slice(ns, func(i, j int) bool { return ns[i].name < ns[j].name })
	for _, n := range ns {
		owner, _ := s.roleName(n.owner)
		add(r.newRow().set("catalog_name", s.session.Database).set("schema_name", n.name).set("schema_owner", owner))
	}
}

// queryable reports whether a class is a relation information_schema
// shows: a table, a view or a materialized view.
func queryable(c *class) bool { return c.kind == 'r' || c.kind == 'v' || c.kind == 'm' }

func infoTables(s *Snapshot, add func(*row)) {
	r := rel(schemaInformation, "tables")
	for _, c := range s.classes {
		if !queryable(c) {
			continue
		}
		kind := "VIEW"
		if c.kind == 'r' {
			kind = "BASE TABLE"
		}
		insertable := c.kind == 'r' && (c.object == nil || c.object.Kind == catalog.Table)
		add(r.newRow().
			set("table_catalog", s.session.Database).set("table_schema", schemaOf(c)).set("table_name", c.name).
			set("table_type", kind).set("is_insertable_into", yesNo(insertable)).set("is_typed", "NO"))
	}
}

func infoColumns(s *Snapshot, add func(*row)) {
	r := rel(schemaInformation, "columns")
	for _, c := range s.classes {
		if !queryable(c) {
			continue
		}
		for i, col := range c.cols {
			t := col.Type
			f := typeFactsOf(t)
			row := r.newRow().
				set("table_catalog", s.session.Database).set("table_schema", schemaOf(c)).set("table_name", c.name).
				set("column_name", col.Name).set("ordinal_position", int32(i+1)).set("is_nullable", yesNo(!col.NotNull)).
				set("data_type", infoDataType(t)).set("udt_catalog", s.session.Database).set("udt_schema", schemaCatalog).
				set("udt_name", f.typname).set("dtd_identifier", itoa(i+1)).set("is_self_referencing", "NO").
				set("is_identity", "NO").set("identity_cycle", "NO").set("is_generated", "NEVER").
				set("is_updatable", yesNo(c.kind == 'r'))
			switch t {
			case types.Text, types.Varchar:
				row.set("character_octet_length", int32(1073741824))
			case types.Name:
				row.set("collation_catalog", s.session.Database).set("collation_schema", schemaCatalog).set("collation_name", "C")
			}
			if p, radix, scale, ok := numericPrecision(t); ok {
				row.set("numeric_precision_radix", radix)
				if p >= 0 {
					row.set("numeric_precision", p)
				}
				if scale >= 0 {
					row.set("numeric_scale", scale)
				}
			}
			switch t {
			case types.Date:
				row.set("datetime_precision", int32(0))
			case types.Time, types.Timestamp, types.TimestampTZ, types.Interval:
				row.set("datetime_precision", int32(6))
			}
			add(row)
		}
	}
}

// infoDataType is information_schema's data_type: ARRAY for arrays (and
// the vectors), the SQL name otherwise.
func infoDataType(t types.T) string {
	if t.IsArray() || t == types.Int2Vector || t == types.OidVector {
		return "ARRAY"
	}
	return t.String()
}

// numericPrecision is numeric_precision, its radix and numeric_scale of the
// numeric types (-1 where they are NULL), as PostgreSQL reports them for
// columns without a type modifier.
func numericPrecision(t types.T) (precision, radix, scale int32, ok bool) {
	switch t {
	case types.Int2:
		return 16, 2, 0, true
	case types.Int4:
		return 32, 2, 0, true
	case types.Int8:
		return 64, 2, 0, true
	case types.Float4:
		return 24, 2, -1, true
	case types.Float8:
		return 53, 2, -1, true
	case types.Numeric:
		return -1, 10, -1, true
	}
	return 0, 0, 0, false
}

func infoViews(s *Snapshot, add func(*row)) {
	r := rel(schemaInformation, "views")
	for _, c := range s.classes {
		if c.kind != 'm' {
			continue
		}
		def, _ := s.Definition("viewdef", int64(c.oid))
		add(r.newRow().
			set("table_catalog", s.session.Database).set("table_schema", schemaOf(c)).set("table_name", c.name).
			set("view_definition", def).set("check_option", "NONE").set("is_updatable", "NO").
			set("is_insertable_into", "NO").set("is_trigger_updatable", "NO").
			set("is_trigger_deletable", "NO").set("is_trigger_insertable_into", "NO"))
	}
}

// userTables calls f for each of Sluice's tables.
func (s *Snapshot) userTables(f func(t *catalog.Object)) {
	for _, c := range s.classes {
		if c.object != nil && !c.index && c.object.Kind == catalog.Table {
			f(c.object)
		}
	}
}

func infoTableConstraints(s *Snapshot, add func(*row)) {
	r := rel(schemaInformation, "table_constraints")
	constraint := func(t *catalog.Object, name, kind string) {
		add(r.newRow().
			set("constraint_catalog", s.session.Database).set("constraint_schema", schemaPublic).
			set("constraint_name", name).set("table_catalog", s.session.Database).
			set("table_schema", schemaPublic).set("table_name", t.Name).set("constraint_type", kind).
			set("is_deferrable", "NO").set("initially_deferred", "NO").set("enforced", "YES"))
	}
	s.userTables(func(t *catalog.Object) {
		// PostgreSQL shows each NOT NULL column as a CHECK constraint
		// named after the OIDs and the column number.
		for i, c := range t.Schema {
			if c.NotNull {
				constraint(t, itoa(oidPublic)+"_"+itoa(int(t.OID))+"_"+itoa(i+1)+"_not_null", "CHECK")
			}
		}
		if len(t.PrimaryKey) > 0 {
			constraint(t, pkeyName(t), "PRIMARY KEY")
		}
	})
}

func infoKeyColumnUsage(s *Snapshot, add func(*row)) {
	r := rel(schemaInformation, "key_column_usage")
	s.userTables(func(t *catalog.Object) {
		for i, k := range t.PrimaryKey {
			add(r.newRow().
				set("constraint_catalog", s.session.Database).set("constraint_schema", schemaPublic).
				set("constraint_name", pkeyName(t)).set("table_catalog", s.session.Database).
				set("table_schema", schemaPublic).set("table_name", t.Name).
				set("column_name", t.Schema[k].Name).set("ordinal_position", int32(i+1)))
		}
	})
}
