package sqllogictest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTestdataOnPostgres runs every record type against a real PostgreSQL.
func TestTestdataOnPostgres(t *testing.T) {
	connect := postgresConnector(t)
	RunGlob(t, "testdata/*.slt", connect, Options{Engine: "postgres"})
}

// TestRunFileReportsFailures proves the runner catches what it exists to
// catch: each script is wrong in one way and must be reported at its line.
func TestRunFileReportsFailures(t *testing.T) {
	connect := postgresConnector(t)
	tests := []struct {
		name   string
		script string
		want   []string // substrings of the failure report, in any order
	}{
		{
			name:   "wrong expected result",
			script: "query I\nSELECT * FROM (VALUES (1), (2)) v ORDER BY 1\n----\n1\n3\n",
			want:   []string{"case.slt:1: query result mismatch", "SELECT * FROM (VALUES (1), (2)) v", "    1\n", "    - 3\n", "    + 2"},
		},
		{
			name:   "wrong SQLSTATE",
			script: "statement error SQLSTATE 42P01\nSELEC 1\n",
			want:   []string{"case.slt:1: statement failed with the wrong error: expected SQLSTATE 42P01, got 42601", "(SQLSTATE 42601)"},
		},
		{
			name:   "statement succeeds but an error was expected",
			script: "statement error SQLSTATE 42P01\nSELECT 1\n",
			want:   []string{"case.slt:1: statement succeeded, expected an error with SQLSTATE 42P01"},
		},
		{
			name:   "query succeeds but an error was expected",
			script: "query error division by zero\nSELECT 1\n",
			want:   []string{"case.slt:1: query succeeded, expected an error with message matching /division by zero/"},
		},
		{
			name:   "error message does not match",
			script: "statement error permission denied\nSELECT 1 / 0\n",
			want:   []string{`message "division by zero" does not match /permission denied/`},
		},
		{
			name:   "statement fails",
			script: "\n# a comment first\nstatement ok\nSELECT * FROM missing_table\n",
			want:   []string{`case.slt:3: statement failed: ERROR: relation "missing_table" does not exist (SQLSTATE 42P01)`},
		},
		{
			name:   "wrong row count",
			script: "statement count 2\nSELECT 1\n",
			want:   []string{"statement affected 1 rows, expected 2"},
		},
		{
			name:   "query fails",
			script: "query I\nSELECT 1 / 0\n----\n1\n",
			want:   []string{"case.slt:1: query failed: ERROR: division by zero (SQLSTATE 22012)"},
		},
		{
			name:   "more columns than declared",
			script: "query I\nSELECT 1, 2\n----\n1 2\n",
			want:   []string{`query returned 2 columns but the record declares 1 ("I")`},
		},
		{
			name:   "value of the wrong kind",
			script: "query IB\nSELECT 2.5, 1\n----\n2.5 1\n",
			want:   []string{`row 1 column 1 is declared I but the server returned "2.5"`},
		},
		{
			name:   "float beyond the tolerance",
			script: "query R\nSELECT 0.1::float8\n----\n0.1000001\n",
			want:   []string{"- 0.1000001", "+ 0.1"},
		},
		{
			name:   "rows missing under rowsort",
			script: "query I rowsort\nSELECT * FROM (VALUES (2), (1)) v\n----\n1\n2\n3\n",
			want:   []string{"3 lines expected, 2 returned", "- 3"},
		},
		{
			name:   "eventually gives up",
			script: "query I eventually 100ms\nSELECT 1\n----\n2\n",
			want:   []string{"query result mismatch (still, after retrying for 100ms)", "- 2", "+ 1"},
		},
		{
			name:   "failing records do not stop the file",
			script: "statement ok\nSELEC 1\n\nstatement ok\nSELEC 2\n",
			want:   []string{"case.slt:1: statement failed", "case.slt:4: statement failed"},
		},
		{
			name:   "failures name a connection other than the default",
			script: "connection other\nstatement ok\nSELEC 1\n",
			want:   []string{"case.slt:2: statement failed", "SQL (on connection other):"},
		},
		{
			name:   "let needs one row",
			script: "let x\nSELECT 1 WHERE false\n",
			want:   []string{"let needs exactly one row of 1 columns, got 0 rows of 1 columns"},
		},
		{
			name:   "let refuses NULL",
			script: "let x\nSELECT NULL\n",
			want:   []string{"let: $x would be NULL"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, t.TempDir(), "case.slt", tt.script)
			got := recordRun(t, func(tb testing.TB) { RunFile(tb, path, connect, Options{Engine: "postgres"}) })
			if len(got.failures) == 0 {
				t.Fatalf("no failure reported for:\n%s", tt.script)
			}
			report := got.report()
			for _, w := range tt.want {
				if !strings.Contains(report, w) {
					t.Errorf("failure report lacks %q; report:\n%s", w, report)
				}
			}
		})
	}
}

// TestRunFileRejectsMalformedFiles: a file that does not parse fails as a
// whole, at the offending line, before any connection is opened.
func TestRunFileRejectsMalformedFiles(t *testing.T) {
	tests := []struct {
		name   string
		script string
		want   string
	}{
		{"unknown record", "statement ok\nSELECT 1\n\nfrobnicate now\n", `case.slt:4: unknown record "frobnicate"`},
		{"sleep", "sleep 1s\n", "case.slt:1: sleep is not supported: use `query <types> <sortmode> eventually"},
		{"unknown column type", "query IX\nSELECT 1, 2\n", `case.slt:1: query: unknown column type 'X'`},
		{"results after a statement", "statement ok\nSELECT 1\n----\n1\n", "case.slt:1: only `query <types>` records have a ---- results section"},
		{"results after query error", "query error\nSELECT 1\n----\n1\n", "case.slt:1: only `query <types>` records"},
		{"bad SQLSTATE", "statement error SQLSTATE 123\nSELECT 1\n", `case.slt:1: SQLSTATE must be followed by a five-character code, got "123"`},
		{"bad regex", "statement error (unclosed\nSELECT 1\n", "case.slt:1: error pattern:"},
		{"record without SQL", "statement ok\n\nstatement ok\nSELECT 1\n", "case.slt:1: record has no SQL"},
		{"unknown statement mode", "statement maybe\nSELECT 1\n", `case.slt:1: unknown statement mode "maybe"`},
		{"two sort modes", "query I rowsort nosort\nSELECT 1\n", "case.slt:1: query: more than one sort mode"},
		{"unknown sort mode", "control sortmode shuffle\n", `case.slt:1: unknown sort mode "shuffle"`},
		{"condition at end of file", "# nothing follows\nskipif sluice\n", "case.slt:2: file ends after a skipif"},
		{"include matches nothing", "include nothing_*.slt\n", "case.slt:1: include"},
		{"bad variable name", "let 1x\nSELECT 1\n", `case.slt:1: let: "1x" is not a variable name`},
		{"error in a record that is skipped", "onlyif sluice\nquery Z\nSELECT 1\n", "case.slt:2: query: unknown column type 'Z'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, t.TempDir(), "case.slt", tt.script)
			got := recordRun(t, func(tb testing.TB) { RunFile(tb, path, unreachableConnect(t), Options{Engine: "postgres"}) })
			if !got.fatal {
				t.Fatalf("malformed file not rejected; failures: %q", got.failures)
			}
			if report := got.report(); !strings.Contains(report, tt.want) {
				t.Errorf("report lacks %q:\n%s", tt.want, report)
			}
		})
	}
}

func TestRunFileRejectsIncludeCycles(t *testing.T) {
	dir := t.TempDir()
	a := writeFile(t, dir, "a.slt", "include b.slt\n")
	writeFile(t, dir, "b.slt", "statement ok\nSELECT 1\n\ninclude a.slt\n")
	got := recordRun(t, func(tb testing.TB) { RunFile(tb, a, unreachableConnect(t), Options{}) })
	if !got.fatal || !strings.Contains(got.report(), "include cycle") {
		t.Errorf("include cycle not rejected: %q", got.failures)
	}
}

// TestRewrite: rewrite mode replaces only the expected blocks that differ,
// adds a missing results section, and keeps every other byte.
func TestRewrite(t *testing.T) {
	connect := postgresConnector(t)
	const before = "# Comments,   odd spacing and blank lines survive.\n" +
		"\n" +
		"\n" +
		"query I   nosort\n" +
		"SELECT * FROM (VALUES (1), (2)) v ORDER BY 1\n" +
		"----\n" +
		"1\n" +
		"3\n" +
		"4\n" +
		"\n" +
		"# Within the tolerance: left as written.\n" +
		"query R\n" +
		"SELECT 1.0::float8 / 3\n" +
		"----\n" +
		"0.33333333333333331\n" +
		"\n" +
		"statement ok\n" +
		"SELECT 1\n" +
		"\n" +
		"query IT rowsort\n" +
		"SELECT * FROM (VALUES (2, 'b'), (1, '')) v\n" +
		"----\n" +
		"\n" +
		"query T\n" +
		"SELECT NULL::text\n" +
		"\n" +
		"query I valuesort\n" +
		"SELECT * FROM (VALUES (3), (1)) v\n" +
		"----\n" +
		"1\n" +
		"3\n" +
		"\n" +
		"query I\n" +
		"SELECT 42" // no newline at the end of the file
	const after = "# Comments,   odd spacing and blank lines survive.\n" +
		"\n" +
		"\n" +
		"query I   nosort\n" +
		"SELECT * FROM (VALUES (1), (2)) v ORDER BY 1\n" +
		"----\n" +
		"1\n" +
		"2\n" +
		"\n" +
		"# Within the tolerance: left as written.\n" +
		"query R\n" +
		"SELECT 1.0::float8 / 3\n" +
		"----\n" +
		"0.33333333333333331\n" +
		"\n" +
		"statement ok\n" +
		"SELECT 1\n" +
		"\n" +
		"query IT rowsort\n" +
		"SELECT * FROM (VALUES (2, 'b'), (1, '')) v\n" +
		"----\n" +
		"1 (empty)\n" +
		"2 b\n" +
		"\n" +
		"query T\n" +
		"SELECT NULL::text\n" +
		"----\n" +
		"NULL\n" +
		"\n" +
		"query I valuesort\n" +
		"SELECT * FROM (VALUES (3), (1)) v\n" +
		"----\n" +
		"1\n" +
		"3\n" +
		"\n" +
		"query I\n" +
		"SELECT 42\n" +
		"----\n" +
		"42"
	path := writeFile(t, t.TempDir(), "rewrite.slt", before)

	got := recordRun(t, func(tb testing.TB) { RunFile(tb, path, connect, Options{Rewrite: true}) })
	if len(got.failures) > 0 {
		t.Fatalf("rewrite mode reported failures:\n%s", got.report())
	}
	content, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(content) != after {
		t.Errorf("rewritten file differs from the expectation:\n%s", lineDiff(
			strings.Split(after, "\n"), strings.Split(string(content), "\n"),
			func(i, j int) bool { return strings.Split(after, "\n")[i] == strings.Split(string(content), "\n")[j] }))
	}

	// The rewritten file passes as is.
	got = recordRun(t, func(tb testing.TB) { RunFile(tb, path, connect, Options{}) })
	if len(got.failures) > 0 {
		t.Errorf("rewritten file fails:\n%s", got.report())
	}
}

// TestRewriteKeepsFailuresThatCannotBeRewritten: an error is not a result, so
// rewrite mode still reports it.
func TestRewriteKeepsFailuresThatCannotBeRewritten(t *testing.T) {
	connect := postgresConnector(t)
	const script = "query I\nSELECT 1 / 0\n----\n1\n"
	path := writeFile(t, t.TempDir(), "case.slt", script)
	got := recordRun(t, func(tb testing.TB) { RunFile(tb, path, connect, Options{Rewrite: true}) })
	if !strings.Contains(got.report(), "query failed: ERROR: division by zero") {
		t.Errorf("failing query not reported in rewrite mode: %q", got.failures)
	}
	if content, _ := os.ReadFile(path); string(content) != script {
		t.Errorf("file changed although nothing could be rewritten:\n%s", content)
	}
}

// TestRewriteIncludedFile: expected results are rewritten in the file that
// holds them, not in the file that includes it.
func TestRewriteIncludedFile(t *testing.T) {
	connect := postgresConnector(t)
	dir := t.TempDir()
	main := writeFile(t, dir, "main.slt", "include sub/*.slt\n")
	sub := writeFile(t, dir, filepath.Join("sub", "inner.slt"), "query T\nSELECT 'new'\n----\nold\n")
	got := recordRun(t, func(tb testing.TB) { RunFile(tb, main, connect, Options{Rewrite: true}) })
	if len(got.failures) > 0 {
		t.Fatalf("rewrite mode reported failures:\n%s", got.report())
	}
	if content, _ := os.ReadFile(sub); string(content) != "query T\nSELECT 'new'\n----\nnew\n" {
		t.Errorf("included file not rewritten:\n%s", content)
	}
	if content, _ := os.ReadFile(main); string(content) != "include sub/*.slt\n" {
		t.Errorf("including file changed:\n%s", content)
	}
}
