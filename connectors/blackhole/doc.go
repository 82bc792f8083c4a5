// Package blackhole is a sink that accepts every change and keeps none: for
// benchmarks (the cost of a pipeline without the cost of its output) and for
// trying a query's sink-ability without an outside system.
package blackhole
