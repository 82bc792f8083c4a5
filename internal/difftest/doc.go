// Package difftest is the differential test of Sluice's correctness
// contract: once its inputs are quiet, a materialized view equals what
// PostgreSQL computes for the same SELECT over every row received, minus the
// rows that arrived late.
//
// A run is a list of seeds. For each, a fresh Sluice gets:
//
//   - a stream: the APPEND ONLY table ev (k INT, g TEXT, v BIGINT,
//     f DOUBLE PRECISION, ts TIMESTAMP) with WATERMARK FOR ts AS
//     ts - INTERVAL 'd' SECOND, fed by INSERT batches of 1 to 200 rows in a
//     fixed arrival order (Generate, Batches). The rows mix in-order times,
//     disorder within the delay, times exactly at the watermark and one
//     microsecond below it, far-late rows, duplicate times, window
//     boundaries, times before 1970, NULLs, negative and large numbers,
//     NaN and infinities;
//   - a keyed table kv changed by INSERT, UPDATE and DELETE statements
//     (KeyedWorkload);
//   - every view of the matrix (Matrix), most created before the first row
//     and some part-way through (CreationPoints), since a view created late
//     must end up the same.
//
// After FLUSH each view is read and compared (Compare) with its PostgreSQL
// equivalent run over temporary tables: ev holds the rows the watermark
// simulation kept (Simulate), kv the result of the same statements. The
// simulation follows dialect.md to the letter: row by row in arrival order,
// the watermark is the largest event time so far minus d, a row below it is
// late, a row at it is not, and the first row never is. SHOW TABLES must
// report the same late rows and final watermark.
//
// The matrix is a table of Case values: the view's SELECT for Sluice, the
// batch query for PostgreSQL (TUMBLE as date_bin, HOP as generate_series
// over the windows containing a row, SESSION as lag and a running sum), the
// emit mode, and the feature the case needs. An EMIT ON WINDOW CLOSE case
// expects only the windows that end at or before the final watermark. A
// view on a view names its input as {view:name} in the PostgreSQL query,
// which then inlines that case's own query. Adding a query is adding an
// entry. Features that may be missing (SESSION windows, UPDATE and DELETE)
// are probed once per run; their cases are skipped while Sluice answers
// 0A000 or a syntax error, and switch on when the feature lands. A case
// that finds a Sluice bug keeps its place with KnownBug set, which skips it
// with the bug's description (Options.KnownBugs runs it anyway).
//
// Results are compared as multisets of rows in the text format, read with
// the simple query protocol: column names and types must match, values by
// their text except floating-point and non-integral numeric values, equal
// within a relative Tolerance (PostgreSQL's numeric avg is exact, Sluice's
// NUMERIC is a float64). Rows are sorted by the harness rather than by
// either server, so collations and float ties do not matter; text in
// PostgreSQL's tables is COLLATE "C", the byte order Sluice uses.
//
// Everything derives from the seed, so a failure, which prints the seed, the
// stream's parameters, both queries and the missing and extra rows, replays
// exactly. The engine's TestDifferential wires it to flags:
//
//	go test ./engine -run TestDifferential -difftest.seed=N
package difftest
