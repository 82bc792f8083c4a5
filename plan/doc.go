// Package plan is the data the planner produces and the executor runs: a tree
// of relational operators with typed output schemas. Plans are data so that
// EXPLAIN can print them, golden tests can pin them, and the executor can be
// built from them without knowing SQL.
//
// The same tree serves both modes. In batch mode (an ad-hoc SELECT) the leaves
// read a snapshot and every operator sees a bounded input. In streaming mode
// (a materialized view) the leaves are live inputs, chunks carry insert and
// delete operations, and the planner has derived each node's stream Kind.
package plan
