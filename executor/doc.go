// Package executor runs plans: continuously, as the dataflow of a
// materialized view, or to completion, as an ad-hoc query.
//
// Data moves as Chunks: an Arrow record plus an optional op per row (insert or
// delete; an update is a delete then an insert). An Operator processes a chunk
// and emits chunks; optional hooks react to watermarks (event time advanced),
// barriers (an epoch closed) and the end of a bounded input. Operators never
// read the wall clock and never start goroutines, so their output is a
// function of their input alone, which is what makes them testable with
// scripted inputs and, later, recoverable from checkpoints.
//
// A Dataflow runs a chain of operators on one goroutine. A view is one
// dataflow, or a tree of them cut at joins and UNION ALLs (StreamPlan): each
// branch forwards into a merging dataflow that aligns their barriers. A
// dataflow's input channel carries chunks, watermarks and barriers in one
// ordered stream:
//
//	source readers ─▶ WatermarkFilter ─▶ Project/Filter/Window ─▶ HashAgg ─▶ Materialize ─▶ views on this view
//	table changes  ─┘
//
// The Coordinator closes an epoch every few milliseconds: it injects a barrier
// into every root input (each source-fed dataflow, each table), waits until
// every dataflow has passed it, then commits the epoch in every view's Store
// at once. Aggregations emit the groups changed in an epoch when its barrier
// passes, so each group changes at most once per epoch. Readers hold the
// coordinator's read lock while they take snapshots, so a query sees every
// view at the same epoch.
//
// Event time: the WatermarkFilter evaluates the watermark row by row per
// split, drops late rows and emits watermarks downstream. A windowed HashAgg
// knows which group key holds the window's end; when the watermark passes it,
// the group is final: with EMIT ON WINDOW CLOSE it is emitted then, and in
// both modes its state is freed.
//
// RunBatch drives the same operators over snapshots for a SELECT.
package executor
