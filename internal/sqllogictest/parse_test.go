package sqllogictest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// summarize renders the records of a parse as one line each, so that a test
// reads as the specification of what the parser makes of a script.
func summarize(records []*record) []string {
	var out []string
	for _, r := range records {
		var b strings.Builder
		fmt.Fprintf(&b, "%d ", r.line)
		switch r.kind {
		case statementRecord:
			b.WriteString("statement")
		case queryRecord:
			b.WriteString("query")
		case letRecord:
			fmt.Fprintf(&b, "let %s", strings.Join(r.letNames, ","))
		}
		if r.wantError != nil {
			fmt.Fprintf(&b, " error(%s)", r.wantError)
		}
		if r.wantCount >= 0 {
			fmt.Fprintf(&b, " count=%d", r.wantCount)
		}
		if r.types != "" {
			fmt.Fprintf(&b, " %s %s", r.types, []string{"nosort", "rowsort", "valuesort"}[r.sort])
		}
		if r.eventually > 0 {
			fmt.Fprintf(&b, " eventually=%s", r.eventually)
		}
		if r.label != "" {
			fmt.Fprintf(&b, " label=%s", r.label)
		}
		if r.connection != "" {
			fmt.Fprintf(&b, " on=%s", r.connection)
		}
		fmt.Fprintf(&b, " sql=%q", r.sql)
		if r.kind == queryRecord && r.wantError == nil {
			fmt.Fprintf(&b, " expected=%q results=[%d,%d) marker=%v", r.expected, r.resultsStart, r.resultsEnd, r.hasMarker)
		}
		out = append(out, b.String())
	}
	return out
}

func TestParse(t *testing.T) {
	tests := []struct {
		name   string
		engine string
		script string
		want   []string
	}{
		{
			name:   "statements",
			script: "statement ok\nCREATE TABLE t (a int)\n\nstatement count 3\nINSERT INTO t\nVALUES (1), (2), (3)\n",
			want: []string{
				`1 statement sql="CREATE TABLE t (a int)"`,
				`4 statement count=3 sql="INSERT INTO t\nVALUES (1), (2), (3)"`,
			},
		},
		{
			name: "error expectations",
			script: "statement error\nS\n\nstatement error relation .* does not exist\nS\n\n" +
				"statement error SQLSTATE 42P01\nS\n\nstatement error SQLSTATE 42601 at or near \"x\"\nS\n\nquery error SQLSTATE 22012\nS\n",
			want: []string{
				`1 statement error(any error) sql="S"`,
				`4 statement error(message matching /relation .* does not exist/) sql="S"`,
				`7 statement error(SQLSTATE 42P01) sql="S"`,
				`10 statement error(SQLSTATE 42601 and message matching /at or near "x"/) sql="S"`,
				`13 query error(SQLSTATE 22012) sql="S"`,
			},
		},
		{
			name:   "query options",
			script: "query IT rowsort eventually 30s my_label\nS\n----\n1 a\n\nquery R eventually\nS\n----\n1.5\n\nquery ?B valuesort\nS\n",
			want: []string{
				`1 query IT rowsort eventually=30s label=my_label sql="S" expected=["1 a"] results=[3,4) marker=true`,
				`6 query R nosort eventually=10s sql="S" expected=["1.5"] results=[8,9) marker=true`,
				`11 query ?B valuesort sql="S" expected=[] results=[12,12) marker=false`,
			},
		},
		{
			name:   "an empty results section ends at the blank line or the end of the file",
			script: "query I\nS\n----\n\nquery I\nS\n----",
			want: []string{
				`1 query I nosort sql="S" expected=[] results=[3,3) marker=true`,
				`5 query I nosort sql="S" expected=[] results=[7,7) marker=true`,
			},
		},
		{
			name:   "comments, hash-threshold and carriage returns",
			script: "# intro\r\nhash-threshold 10\r\n\r\n  # indented comment\r\nquery I\r\nS\r\n----\r\n1\r\n",
			want:   []string{`5 query I nosort sql="S" expected=["1"] results=[7,8) marker=true`},
		},
		{
			name:   "control sortmode sets the default for later queries",
			script: "query I\nA\n\ncontrol sortmode rowsort\n\nquery I\nB\n\nquery I nosort\nC\n",
			want: []string{
				`1 query I nosort sql="A" expected=[] results=[2,2) marker=false`,
				`6 query I rowsort sql="B" expected=[] results=[7,7) marker=false`,
				`9 query I nosort sql="C" expected=[] results=[10,10) marker=false`,
			},
		},
		{
			name:   "conditions against the engine",
			engine: "sluice",
			script: "skipif sluice\nstatement ok\nA\n\nonlyif postgres\nstatement ok\nB\n\nonlyif sluice\nstatement ok\nC\n\nskipif postgres\nstatement ok\nD\n",
			want:   []string{`10 statement sql="C"`, `14 statement sql="D"`},
		},
		{
			name:   "without an engine onlyif never matches",
			script: "onlyif sluice\nstatement ok\nA\n\nskipif sluice\nstatement ok\nB\n",
			want:   []string{`6 statement sql="B"`},
		},
		{
			name:   "connection applies to one record; default names the first connection",
			script: "connection other\nstatement ok\nA\n\nstatement ok\nB\n\nconnection default\nstatement ok\nC\n",
			want:   []string{`2 statement on=other sql="A"`, `5 statement sql="B"`, `9 statement sql="C"`},
		},
		{
			name:   "let",
			script: "let $a, b\nSELECT 1, 2\n",
			want:   []string{`1 let a,b sql="SELECT 1, 2"`},
		},
		{
			name:   "halt ignores the rest of the file unless a condition excludes it",
			engine: "postgres",
			script: "onlyif sluice\nhalt\n\nstatement ok\nA\n\nhalt\n\nnot a record\n",
			want:   []string{`4 statement sql="A"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, t.TempDir(), "case.slt", tt.script)
			p := newParser(tt.engine)
			if err := p.parseFile(path); err != nil {
				t.Fatalf("parse: %v", err)
			}
			if got := summarize(p.records); !slices.Equal(got, tt.want) {
				t.Errorf("records:\n  got  %s\n  want %s", strings.Join(got, "\n       "), strings.Join(tt.want, "\n       "))
			}
		})
	}
}

func TestParseInclude(t *testing.T) {
	dir := t.TempDir()
	main := writeFile(t, dir, "main.slt", "statement ok\nA\n\ninclude parts/*.slt\n\nstatement ok\nD\n")
	writeFile(t, dir, "parts/2.slt", "statement ok\nC\n")
	writeFile(t, dir, "parts/1.slt", "control sortmode rowsort\n\nstatement ok\nB\n\nhalt\n\nstatement ok\nnever\n")
	p := newParser("")
	if err := p.parseFile(main); err != nil {
		t.Fatalf("parse: %v", err)
	}
	var got []string
	for _, r := range p.records {
		got = append(got, fmt.Sprintf("%s:%d %s", strings.TrimPrefix(r.file.path, dir+"/"), r.line, r.sql))
	}
	// Files run in lexical order; halt ends only the file it is in.
	want := []string{"main.slt:1 A", "parts/1.slt:3 B", "parts/2.slt:1 C", "main.slt:6 D"}
	if !slices.Equal(got, want) {
		t.Errorf("records: got %q, want %q", got, want)
	}
}
