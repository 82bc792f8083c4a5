// Package sqllogictest runs sqllogictest files against any server that speaks
// the PostgreSQL wire protocol: Sluice itself, or a real PostgreSQL to tell a
// Sluice bug from a difference in behaviour. The format is the one of
// sqllogictest-rs, as used by RisingWave and DataFusion, with the extensions a
// streaming engine needs.
//
// A test calls RunGlob (one subtest per file) or RunFile with a function that
// opens connections. Queries run with the simple query protocol, so every value
// arrives in the text format and the expected results read exactly as psql
// prints them. With Options.Rewrite the runner replaces each mismatching
// expected block by what the server returned and leaves every other byte of the
// file alone, so new expectations are reviewed as a diff. Tests usually wire it
// to a flag of their own:
//
//	var rewrite = flag.Bool("rewrite", false, "rewrite expected results")
//	...
//	sqllogictest.RunGlob(t, "testdata/*.slt", connect, sqllogictest.Options{Rewrite: *rewrite, Engine: "sluice"})
//
// # Records
//
// Records are separated by blank lines. Lines starting with # between records
// are comments.
//
//	statement ok                     the statement must succeed
//	statement count <n>              ... and affect n rows (from the command tag)
//	statement error                  the statement must fail, with any error
//	statement error <regex>          ... with a message matching regex
//	statement error SQLSTATE <code>  ... with that SQLSTATE
//	statement error SQLSTATE <code> <regex>   both
//
// The SQL follows on the next lines, up to a blank line. It may hold several
// statements; they run as one simple-protocol query. The regex is Go syntax,
// unanchored, matched against the error's message alone (without severity and
// code). Prefer the SQLSTATE form: codes are the contract, messages are not.
//
//	query <types> [nosort|rowsort|valuesort] [eventually [<timeout>]] [<label>]
//	<SQL>
//	----
//	<expected rows>
//
// types has one letter per result column: I integer, T text, R floating point,
// B boolean (t or f), ? anything. Besides the count of columns, the runner
// checks that each value has the shape of its letter. Each expected row is one
// line with the values separated by one space; NULL is written NULL and the
// empty string (empty). Values are compared byte for byte, except R values,
// which are equal when within a relative difference of 1e-9.
//
// nosort (the default) compares rows in the order the server sent them;
// rowsort sorts actual and expected rows as strings; valuesort sorts all
// values on their own and expects one value per line. `control sortmode
// <mode>` changes the default for the rest of the file.
//
// eventually makes the runner retry the query, backing off from 10ms to 0.5s,
// until the result matches or the timeout (default 10s, or a Go duration such
// as 30s) has passed: streaming results arrive over time and there is no
// sleep record. A failing attempt (an error, or a relation that does not exist
// yet) is retried too; the last attempt is what a failure reports.
//
//	query error [SQLSTATE <code>] [<regex>]
//
// is the query form of statement error.
//
// # Other records
//
//	skipif <engine>      the next record is skipped on that engine
//	onlyif <engine>      the next record runs only on that engine
//	connection <name>    the next record runs on the named connection, opened
//	                     on first use; "default" is the file's first connection
//	let <name>[, <name>] binds variables to the columns of the single row the
//	                     SQL on the next lines returns; later SQL uses them as
//	                     $name or ${name}
//	include <glob>       runs the matching files (relative to this file's
//	                     directory, in lexical order) in place, sharing the
//	                     connections and variables
//	halt                 ignores the rest of the file (skipif/onlyif apply)
//	control sortmode <m> sets the file's default sort mode
//	hash-threshold <n>   accepted and ignored: results are always listed
//
// The engine is Options.Engine, such as "sluice" or "postgres". Only variables
// that a let record bound are substituted, so $1 and dollar quoting are left
// alone.
//
// # Failures
//
// A failure names the file and line of the record, the SQL, and what differed:
// the error with its SQLSTATE, or a line diff of expected against actual rows.
// A failing record does not stop the file: later records still run. A file
// that does not parse fails before anything runs, and a lost connection ends
// the file. Each execution is bounded by Options.StatementTimeout so that a
// hung server fails the record that hung.
//
// RequireService lets tests that need an external service skip when it is
// unreachable, or fail when SLUICE_TEST_SERVICES=required, as in CI.
package sqllogictest
