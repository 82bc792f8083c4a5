package pgcatalog

import (
	"fmt"
	"strings"

	"github.com/sluicedb/sluice/types"
)

// The schemas, with PostgreSQL 15's OIDs.
const (
	schemaCatalog     = "pg_catalog"
	schemaPublic      = "public"
	schemaInformation = "information_schema"

	oidCatalog     = 11
	oidPublic      = 2200
	oidInformation = 13207
	oidToast       = 99
)

// Other fixed OIDs, as PostgreSQL 15 has them.
const (
	oidBootstrapUser    = 10   // the session's user stands in PostgreSQL's bootstrap superuser
	oidDatabaseOwner    = 6171 // pg_database_owner, owner of public
	oidDatabase         = 5    // the one database (PostgreSQL's "postgres")
	oidHeap             = 2
	oidBtree            = 403
	oidHash             = 405
	oidTablespace       = 1663
	oidGlobalSpace      = 1664
	oidLanguageInternal = 12
	oidDefaultCollation = 100
	oidCCollation       = 950
)

// indexFlag and constraintFlag derive the OIDs of a table's primary key
// index and constraint from the table's: Sluice's own OIDs start at 16384
// and stay far below 2^30.
const (
	indexFlag      = 1 << 30
	constraintFlag = 2 << 30
)

// SearchPath is where unqualified names are looked up: pg_catalog first
// (as PostgreSQL always does), then public, where every object of Sluice
// lives.
var SearchPath = []string{schemaCatalog, schemaPublic}

// A Relation is one of the virtual relations of pg_catalog and
// information_schema: its columns as PostgreSQL 15 has them, and how its
// rows are made from a Snapshot.
type Relation struct {
	Schema string
	Name   string
	// OID is the relation's OID in PostgreSQL 15 ('pg_class'::regclass).
	OID uint32
	// Kind is pg_class.relkind: 'r' for a catalog table, 'v' for a view.
	Kind byte
	Cols types.Schema

	// rows produces the rows; nil for the relations Sluice keeps empty
	// (it has no policies, publications, rules or inheritance).
	rows func(s *Snapshot, add func(*row))
	// index maps column names to positions.
	index map[string]int
}

// QualifiedName is schema.name.
func (r *Relation) QualifiedName() string { return r.Schema + "." + r.Name }

// AlwaysEmpty reports whether the relation never has rows in Sluice, so
// that a query that needs a row of it has no result whatever else it says.
func (r *Relation) AlwaysEmpty() bool { return r.rows == nil }

func (r *Relation) String() string { return r.QualifiedName() }

// relations maps schema.name to each relation, built once at init.
var relations = func() map[string]*Relation {
	m := make(map[string]*Relation, len(definitions))
	for _, r := range definitions {
		r.index = make(map[string]int, len(r.Cols))
		for i, c := range r.Cols {
			r.index[c.Name] = i
		}
		m[r.QualifiedName()] = r
	}
	return m
}()

// init gives the relations their producers. (Producers look relations up,
// so they cannot be part of relations' initializer.)
func init() {
	for name, p := range producers {
		r, ok := relations[name]
		if !ok {
			panic("pgcatalog: rows for undefined relation " + name)
		}
		r.rows = p
	}
}

// Lookup finds a system relation. With an empty schema the name is looked
// up in pg_catalog, as the search path does before public; information_schema
// must be named.
func Lookup(schema, name string) (*Relation, bool) {
	if schema == "" {
		schema = schemaCatalog
	}
	r, ok := relations[schema+"."+name]
	return r, ok
}

// IsSystemSchema reports whether schema holds system relations rather than
// Sluice's objects.
func IsSystemSchema(schema string) bool {
	return schema == schemaCatalog || schema == schemaInformation
}

// Relations lists every system relation, in a fixed order.
func Relations() []*Relation { return definitions }

// row is one row under construction, set by column name.
type row struct {
	rel    *Relation
	values []types.Datum
}

func (r *row) set(col string, v types.Datum) *row {
	i, ok := r.rel.index[col]
	if !ok {
		panic(fmt.Sprintf("pgcatalog: %s has no column %q", r.rel, col))
	}
	r.values[i] = v
	return r
}

// oid converts an OID to its Datum.
func oid(v uint32) types.Datum { return int64(v) }

// arrayOf renders elements as the canonical text of an array of t.
func arrayOf(t types.T, elems ...string) types.Datum {
	a := types.ArrayValue{Elems: elems}
	if len(elems) > 0 {
		a.Dims, a.Lower = []int{len(elems)}, []int{1}
	}
	return string(a.Append(nil, types.ArrayOf(t)))
}

// vector renders numbers as an int2vector or oidvector.
func vector(nums ...int64) types.Datum {
	parts := make([]string, len(nums))
	for i, n := range nums {
		parts[i] = fmt.Sprint(n)
	}
	return strings.Join(parts, " ")
}

// yesNo is information_schema's yes_or_no.
func yesNo(b bool) types.Datum {
	if b {
		return "YES"
	}
	return "NO"
}
