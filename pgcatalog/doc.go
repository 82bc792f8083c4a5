// Package pgcatalog is PostgreSQL's system catalog as Sluice shows it to
// clients: the relations of pg_catalog and information_schema that psql's
// describe commands, drivers and BI tools read, generated from Sluice's
// catalog and the session, and the lookups behind the system information
// functions (regclass names, pg_get_viewdef, pg_table_is_visible).
//
// Each Relation has the columns PostgreSQL 15 gives it (with the types
// mapped to Sluice's), its PostgreSQL OID, and a function that produces its
// rows from a Snapshot: Sluice's objects when the statement started, and
// the session's user, database and settings. The relations Sluice has
// nothing for (policies, publications, rules, inheritance, ...) are typed
// and empty; AlwaysEmpty says which.
//
// Identity is stable: system relations, schemas, types and the type I/O
// functions keep PostgreSQL's OIDs ('pg_class'::regclass is 1259); Sluice's
// objects keep the OID the catalog gave them, a table's primary key index
// and constraint derive theirs from the table's (plus 2^30 and 2^31), and
// Sluice's functions are numbered from 10000 in the order of their sorted
// signatures. Tables and materialized views have relkind 'r' and 'm';
// sources and sinks, which PostgreSQL has no kind for, have RisingWave's 's'
// and 'k'. Everything lives in schema public, owned by the session's user,
// who stands in PostgreSQL's bootstrap superuser (OID 10).
//
// Names resolve as with PostgreSQL's default search path: pg_catalog first,
// then public; information_schema must be named.
package pgcatalog
