package sqllogictest

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Options tune a run.
type Options struct {
	// Rewrite makes Run rewrite the expected results in the files with what the
	// server returned (for reviewing as a diff), instead of failing.
	Rewrite bool
	// Engine is the name skipif and onlyif lines are matched against, such as
	// "sluice" or "postgres". When empty, every onlyif record is skipped and
	// every skipif record runs.
	Engine string
	// StatementTimeout bounds each execution of a statement or query, so that
	// a server that hangs fails the record instead of the whole test binary.
	// Zero means one minute.
	StatementTimeout time.Duration
}

const defaultStatementTimeout = time.Minute

// Polling bounds of `eventually` queries: the first retry comes quickly since
// streaming results usually arrive within milliseconds, later ones back off.
const (
	firstRetryDelay = 10 * time.Millisecond
	maxRetryDelay   = 500 * time.Millisecond
)

// RunGlob runs every file matching the glob as a subtest named by the file's path.
func RunGlob(t *testing.T, pattern string, connect func(ctx context.Context) (*pgx.Conn, error), opts Options) {
	t.Helper()
	files, err := filepath.Glob(pattern)
	if err != nil {
		t.Fatalf("sqllogictest: glob %q: %v", pattern, err)
	}
	if len(files) == 0 {
		t.Fatalf("sqllogictest: no file matches %q", pattern)
	}
	for _, file := range files {
		t.Run(file, func(t *testing.T) {
			RunFile(t, file, connect, opts)
		})
	}
}

// RunFile runs one file. connect opens a new connection (used at the start and for `connection` blocks).
func RunFile(t testing.TB, path string, connect func(ctx context.Context) (*pgx.Conn, error), opts Options) {
	t.Helper()
	p := newParser(opts.Engine)
	if err := p.parseFile(path); err != nil {
		t.Fatalf("sqllogictest: %v", err)
	}
	r := &runner{
		t:       t,
		opts:    opts,
		connect: connect,
		conns:   make(map[string]*pgx.Conn),
		vars:    make(map[string]string),
		edits:   make(map[*sourceFile][]edit),
	}
	if r.opts.StatementTimeout <= 0 {
		r.opts.StatementTimeout = defaultStatementTimeout
	}
	defer r.closeConnections()
	// Deferred so that the results gathered before a fatal failure (a lost
	// connection) are still written out.
	defer r.writeEdits()

	ctx := t.Context()
	if _, err := r.conn(ctx, ""); err != nil {
		t.Fatalf("sqllogictest: %s: %v", path, err)
	}
	for _, rec := range p.records {
		r.run(ctx, rec)
	}
}

// runner holds the state of one RunFile: the connections, the variables bound
// by let records, and the rewrites gathered so far.
type runner struct {
	t       testing.TB
	opts    Options
	connect func(ctx context.Context) (*pgx.Conn, error)
	conns   map[string]*pgx.Conn
	vars    map[string]string
	edits   map[*sourceFile][]edit
}

// conn returns the named connection, opening it on first use. "" names the
// connection the file starts with.
func (r *runner) conn(ctx context.Context, name string) (*pgx.Conn, error) {
	if c, ok := r.conns[name]; ok {
		return c, nil
	}
	c, err := r.connect(ctx)
	if err != nil {
		if name == "" {
			return nil, fmt.Errorf("open connection: %w", err)
		}
		return nil, fmt.Errorf("open connection %q: %w", name, err)
	}
	r.conns[name] = c
	return c, nil
}

func (r *runner) closeConnections() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, c := range r.conns {
		_ = c.Close(ctx) // nothing useful to do about a failed goodbye
	}
}

func (r *runner) run(ctx context.Context, rec *record) {
	// Every method between RunFile and t.Errorf is a helper, so that failures
	// point at the test that runs the file rather than at this package.
	r.t.Helper()
	conn, err := r.conn(ctx, rec.connection)
	if err != nil {
		r.t.Fatalf("%s: %v", rec.location(), err)
	}
	sql := r.substitute(rec.sql)
	switch {
	case rec.wantError != nil:
		r.runExpectingError(ctx, conn, rec, sql)
	case rec.kind == statementRecord:
		r.runStatement(ctx, conn, rec, sql)
	case rec.kind == queryRecord:
		r.runQuery(ctx, conn, rec, sql)
	case rec.kind == letRecord:
		r.runLet(ctx, conn, rec, sql)
	}
	if conn.IsClosed() {
		r.t.Fatalf("%s: connection lost; the rest of the file cannot run", rec.location())
	}
}

// result is what one statement returned. rows hold the raw text-format values,
// nil for NULL.
type result struct {
	columns int
	rows    [][][]byte
	tag     pgconn.CommandTag
}

// exec runs sql with the simple query protocol, so every value comes back in
// the text format, exactly as psql shows it. When sql holds several
// statements, the result of the last one is returned.
func (r *runner) exec(ctx context.Context, conn *pgx.Conn, sql string) (*result, error) {
	ctx, cancel := context.WithTimeout(ctx, r.opts.StatementTimeout)
	defer cancel()
	mrr := conn.PgConn().Exec(ctx, sql)
	last := &result{}
	var firstErr error
	for mrr.NextResult() {
		rr := mrr.ResultReader()
		// The column count comes from the row description, which a result
		// with no rows has too.
		res := &result{columns: len(rr.FieldDescriptions())}
		for rr.NextRow() {
			values := rr.Values() // reused by the next row
			row := make([][]byte, len(values))
			for i, v := range values {
				if v != nil {
					row[i] = append([]byte{}, v...)
				}
			}
			res.rows = append(res.rows, row)
		}
		var err error
		res.tag, err = rr.Close()
		if err != nil && firstErr == nil {
			firstErr = err
		}
		last = res
	}
	if err := mrr.Close(); err != nil && firstErr == nil {
		firstErr = err
	}
	if firstErr != nil {
		return nil, firstErr
	}
	return last, nil
}

func (r *runner) runStatement(ctx context.Context, conn *pgx.Conn, rec *record, sql string) {
	r.t.Helper()
	res, err := r.exec(ctx, conn, sql)
	if err != nil {
		r.fail(rec, sql, "statement failed: "+describeError(err))
		return
	}
	if rec.wantCount >= 0 {
		if got := res.tag.RowsAffected(); got != rec.wantCount {
			r.fail(rec, sql, fmt.Sprintf("statement affected %d rows, expected %d (command tag %q)", got, rec.wantCount, res.tag.String()))
		}
	}
}

func (r *runner) runExpectingError(ctx context.Context, conn *pgx.Conn, rec *record, sql string) {
	r.t.Helper()
	_, err := r.exec(ctx, conn, sql)
	if err == nil {
		want := "an error"
		if rec.wantError.sqlstate != "" || rec.wantError.pattern != nil {
			want = "an error with " + rec.wantError.String()
		}
		r.fail(rec, sql, fmt.Sprintf("%s succeeded, expected %s", recordNoun(rec), want))
		return
	}
	if problem := mismatchedError(rec.wantError, err); problem != "" {
		r.fail(rec, sql, fmt.Sprintf("%s failed with the wrong error: %s", recordNoun(rec), problem), "got:\n"+indent(describeError(err)))
	}
}

func recordNoun(rec *record) string {
	if rec.kind == queryRecord {
		return "query"
	}
	return "statement"
}

// mismatchedError says how err fails want, or returns "" when it satisfies it.
func mismatchedError(want *errorExpectation, err error) string {
	code, message := "", err.Error()
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		code, message = pgErr.Code, pgErr.Message
	}
	var problems []string
	if want.sqlstate != "" && code != want.sqlstate {
		if code == "" {
			problems = append(problems, fmt.Sprintf("expected SQLSTATE %s, got an error without one", want.sqlstate))
		} else {
			problems = append(problems, fmt.Sprintf("expected SQLSTATE %s, got %s", want.sqlstate, code))
		}
	}
	if want.pattern != nil && !want.pattern.MatchString(message) {
		problems = append(problems, fmt.Sprintf("message %q does not match /%s/", message, want.pattern))
	}
	return strings.Join(problems, "; ")
}

// describeError renders an error with its SQLSTATE, as psql would plus the code.
func describeError(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		s := fmt.Sprintf("%s: %s (SQLSTATE %s)", pgErr.Severity, pgErr.Message, pgErr.Code)
		if pgErr.Detail != "" {
			s += "\n  DETAIL: " + pgErr.Detail
		}
		if pgErr.Hint != "" {
			s += "\n  HINT: " + pgErr.Hint
		}
		return s
	}
	return err.Error()
}

// queryOutcome is the result of one evaluation of a query record.
type queryOutcome struct {
	err     error  // the query failed
	problem string // the result has the wrong shape for the record's types
	lines   []string
	cells   [][]string
	matched bool
}

func (r *runner) evaluate(ctx context.Context, conn *pgx.Conn, rec *record, sql string) queryOutcome {
	res, err := r.exec(ctx, conn, sql)
	if err != nil {
		return queryOutcome{err: err}
	}
	if res.columns != len(rec.types) {
		return queryOutcome{problem: fmt.Sprintf("query returned %d columns but the record declares %d (%q)", res.columns, len(rec.types), rec.types)}
	}
	rows := make([][]string, len(res.rows))
	for i, raw := range res.rows {
		row := make([]string, len(raw))
		for j, v := range raw {
			row[j] = formatValue(v)
		}
		rows[i] = row
	}
	if err := checkColumnKinds(rec.types, rows); err != nil {
		return queryOutcome{problem: err.Error()}
	}
	out := queryOutcome{}
	out.lines, out.cells = resultLines(rows, rec.sort)
	m := lineMatcher{types: rec.types, mode: rec.sort}
	out.matched = m.resultsMatch(sortExpected(rec.expected, rec.sort), out.lines, out.cells)
	return out
}

func (r *runner) runQuery(ctx context.Context, conn *pgx.Conn, rec *record, sql string) {
	r.t.Helper()
	deadline := time.Now().Add(rec.eventually)
	delay := firstRetryDelay
	for {
		out := r.evaluate(ctx, conn, rec, sql)
		if out.matched {
			return
		}
		if rec.eventually == 0 || conn.IsClosed() || !time.Now().Before(deadline) || !waitOrDone(ctx, min(delay, time.Until(deadline))) {
			r.reportQuery(rec, sql, out)
			return
		}
		delay = min(2*delay, maxRetryDelay)
	}
}

// waitOrDone waits for d and reports whether ctx is still live.
func waitOrDone(ctx context.Context, d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func (r *runner) reportQuery(rec *record, sql string, out queryOutcome) {
	r.t.Helper()
	retried := ""
	if rec.eventually > 0 {
		retried = fmt.Sprintf(" (still, after retrying for %s)", rec.eventually)
	}
	switch {
	case out.err != nil:
		r.fail(rec, sql, "query failed"+retried+": "+describeError(out.err))
	case out.problem != "":
		r.fail(rec, sql, out.problem+retried)
	case r.opts.Rewrite:
		r.edits[rec.file] = append(r.edits[rec.file], edit{
			start: rec.resultsStart, end: rec.resultsEnd, addMarker: !rec.hasMarker, lines: out.lines,
		})
	default:
		expected := sortExpected(rec.expected, rec.sort)
		m := lineMatcher{types: rec.types, mode: rec.sort}
		diff := lineDiff(expected, out.lines, func(i, j int) bool {
			return m.match(expected[i], out.lines[j], out.cells[j])
		})
		counts := ""
		if len(expected) != len(out.lines) {
			counts = fmt.Sprintf(": %d lines expected, %d returned", len(expected), len(out.lines))
		}
		r.fail(rec, sql, "query result mismatch"+retried+counts,
			"diff (-expected +actual):\n"+indent(strings.TrimSuffix(diff, "\n")))
	}
}

func (r *runner) runLet(ctx context.Context, conn *pgx.Conn, rec *record, sql string) {
	r.t.Helper()
	res, err := r.exec(ctx, conn, sql)
	if err != nil {
		r.fail(rec, sql, "let query failed: "+describeError(err))
		return
	}
	if len(res.rows) != 1 || res.columns != len(rec.letNames) {
		r.fail(rec, sql, fmt.Sprintf("let needs exactly one row of %d columns, got %d rows of %d columns", len(rec.letNames), len(res.rows), res.columns))
		return
	}
	for i, name := range rec.letNames {
		v := res.rows[0][i]
		if v == nil {
			r.fail(rec, sql, fmt.Sprintf("let: $%s would be NULL", name))
			return
		}
		r.vars[name] = string(v)
	}
}

var variableReference = regexp.MustCompile(`\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))`)

// substitute replaces $name and ${name} by the values let records bound.
// References to names never bound are left alone, so positional parameters
// and dollar quoting reach the server untouched.
func (r *runner) substitute(sql string) string {
	if len(r.vars) == 0 {
		return sql
	}
	return variableReference.ReplaceAllStringFunc(sql, func(ref string) string {
		m := variableReference.FindStringSubmatch(ref)
		name := m[1] + m[2]
		if v, ok := r.vars[name]; ok {
			return v
		}
		return ref
	})
}

// fail reports a failed record: where it is, what went wrong, the SQL it ran,
// and any details that need room of their own, such as a diff.
func (r *runner) fail(rec *record, sql, headline string, details ...string) {
	r.t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s\nSQL", rec.location(), headline)
	if rec.connection != "" {
		fmt.Fprintf(&b, " (on connection %s)", rec.connection)
	}
	b.WriteString(":\n" + indent(sql))
	for _, d := range details {
		b.WriteString("\n" + d)
	}
	r.t.Errorf("%s", b.String())
}

func indent(text string) string {
	return "    " + strings.ReplaceAll(text, "\n", "\n    ")
}
