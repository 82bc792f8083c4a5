// Package expr binds scalar SQL expressions with PostgreSQL 15's typing
// rules and evaluates them over Arrow record batches.
//
// Binding: the constructors (Operator, Function, NewCast, Coerce,
// CommonType, NewCase, NewCoalesce, NewNullIf, NewIn) apply PostgreSQL 15's
// rules and return errors as *pgerror.Error with PostgreSQL's SQLSTATE and
// wording. Overloads are chosen as func_select_candidate does, over a
// catalog that mirrors pg_operator and pg_proc among Sluice's types,
// including PostgreSQL's cross-type operators (int2 + int8, date <
// timestamptz), because they decide what resolution picks: real + numeric
// is double precision in PostgreSQL because float48pl exists. Implicit,
// assignment and explicit casts follow pg_cast plus the automatic I/O casts
// to and from text. Untyped string literals (Const of type Unknown) are
// parsed into the type their context gives them at bind time, so that
// `ts > '2026-01-01'` compares against a timestamp constant; parameters of
// unknown type take the type their context needs (the Param node is
// updated in place, which is how the binder learns inferred parameter
// types).
//
// Folding: Operator and Function return calls as they are. Call Fold on the
// complete bound expression, as PostgreSQL's planner runs
// eval_const_expressions after parsing: calls on constants become
// constants (so `1/0` fails at bind time with 22012), a strict function of
// a NULL constant is NULL, CASE drops arms whose condition is constantly
// false before computing their results, COALESCE stops at its first
// non-NULL constant. now() and the other statement-time functions are never
// folded. NewCase, NewCoalesce, NewNullIf and NewIn fold what they build.
//
// Syntax the binder maps onto functions: EXTRACT(f FROM x) is
// Function("extract", 'f', x) (numeric, as in PostgreSQL 14+), date_part is
// double precision; POSITION(a IN b) is Function("position", b, a);
// SUBSTRING(s FROM a FOR b) is Function("substring", s, a, b); TRIM([BOTH |
// LEADING | TRAILING] [c] FROM s) is btrim, ltrim or rtrim of (s[, c]);
// CURRENT_TIMESTAMP is Function("now"), CURRENT_DATE, LOCALTIMESTAMP and
// LOCALTIME are Function("current_date"), ("localtimestamp"),
// ("localtime"); `a LIKE b ESCAPE c` is Operator("~~", a,
// Function("like_escape", b, c)); `x BETWEEN a AND b` is And of >= and <=,
// NOT BETWEEN is Or of < and >; IS [NOT] DISTINCT FROM are the operators
// OpIsDistinctFrom and OpIsNotDistinctFrom; GREATEST, LEAST, COALESCE and
// NULLIF may be called through Function too.
//
// Evaluation: Compile turns an expression into a Program, once; Eval runs
// it over an Arrow record batch, a column at a time. Each resolved overload
// has a kernel chosen at compile time: a typed loop over the arrays' raw
// values and validity bitmaps, with no per-row interface dispatch, boxing or
// allocation. Constants are arrays of one value that kernels read as
// scalars (x + 1 does not build a column of ones). Integer overflow,
// division by zero, float overflow and underflow and invalid casts raise
// PostgreSQL's errors; the loops detect them without a branch per row and
// look for the failing rows only in a batch that has one.
//
// Failures and laziness: in strict mode (EvalContext.Lenient false) the
// first failing row fails the batch. In lenient mode (streaming) a failing
// row evaluates to NULL as a whole, is counted in EvalContext.Errors, and
// the first error is kept in FirstErr; Filter drops such rows. AND and OR
// evaluate their later arguments only for the rows the earlier ones left
// undecided, CASE evaluates a condition only for the rows no earlier
// condition took and a result only for the rows that take its arm, and
// COALESCE evaluates an argument only for the rows still NULL, so that, as
// in PostgreSQL, `CASE WHEN x <> 0 THEN 1/x END` and `x <> 0 AND 1/x > 0`
// never fail on x = 0. (The arms are computed as whole columns over the
// batch; rows that do not need a value simply cannot fail.)
//
// Subqueries: a Subquery node holds the plan of its inner query, which
// this package sees only as a SubPlan (package plan imports expr), and
// evaluates it by calling back into the executor through
// EvalContext.Subqueries. The rows it gets back are reduced to an
// expression without a subquery (a constant, an IN list, an OR or AND of
// comparisons) that is evaluated like any other, a column at a time. An
// uncorrelated subquery runs once per statement, a correlated one once per
// distinct combination of its outer values in a batch, in both cases only
// when some row needs its value. Inside the inner plan, a column of the
// enclosing query is an outer reference (OuterRef), bound to a constant
// (BindOuter) before each run. subquery.go has the details.
//
// The system catalog: the casts and operators of oid, name, "char", the
// reg* types and arrays, `x op ANY/ALL (array)` (NewArrayCompare),
// ARRAY[...] (NewArrayConstructor), subscripts (NewSubscript), and the
// system information functions clients call (version(), current_setting,
// pg_get_viewdef, format_type, has_table_privilege, ...; see syscat.go).
// Those that read the session or the catalog evaluate against
// EvalContext.Catalog, a SystemCatalog the engine gives each ad-hoc query;
// they are never folded at plan time, and fail with 0A000 where no catalog
// is given (materialized views). Arrays are taken apart a row at a time
// (types.ParseArray): they belong to catalog queries, not hot paths.
//
// Semantics worth knowing: text compares byte by byte, the order of the C
// collation (and of C.UTF-8); there is no other collation. NUMERIC is held
// in a float64 (see types.Numeric): arithmetic has float64 precision,
// rounding functions work on the shortest decimal representation, and
// division results are not PostgreSQL's exact decimals. The session time
// zone is UTC, so timestamptz behaves like timestamp. Regular expressions
// are Go's RE2, which agrees with PostgreSQL's on common syntax but has no
// back-references or lookaround. Errors about constant arguments (an
// unknown date_trunc unit, a bad regular expression) are reported at bind
// time; PostgreSQL reports them at the first row.
package expr
