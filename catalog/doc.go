// Package catalog records the objects a Sluice instance has: sources, tables
// and materialized views, their schemas, the statement that created each and
// what each depends on.
//
// The catalog holds definitions only. Running state (readers, dataflows,
// stores) belongs to the engine, keyed by the same names. Every object keeps
// the text of its CREATE statement, so that persisting the catalog is a
// matter of writing those statements in creation order and replaying them.
//
// Names are unique across kinds, as PostgreSQL's relation names are within a
// schema. Object identifiers (OIDs) are assigned once and never reused, so
// that pg_catalog can expose them as stable relation OIDs.
package catalog
