// Package engine is a running Sluice instance: the catalog, the planner, the
// dataflows of materialized views, the stores of tables and views, and the
// coordinator that closes epochs. It executes statements for sessions and
// implements pgwire.Handler, so the wire server can hand it any client.
package engine
