// Package planner binds parsed SQL to the catalog and turns it into plans.
//
// Binding resolves names against the catalog and the FROM clause, and types
// every expression with PostgreSQL's rules (through package expr). The result
// is a plan.Node tree. A SELECT is planned for batch execution over a
// snapshot; the query of a materialized view is planned for streaming, which
// additionally derives for every aggregation whether its groups belong to
// event-time windows (so that their state can be freed once the watermark
// passes) and checks that every operator can run incrementally.
package planner
