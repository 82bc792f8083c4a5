package parser

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sluicedb/sluice/pgerror"
)

// FuzzParse checks that Parse never panics and keeps its contract on any
// input: an error is a *pgerror.Error pointing inside the input (or just past
// its end), and a statement's text is a piece of the input.
func FuzzParse(f *testing.F) {
	seeds := []string{
		"",
		"SELECT 1; SELECT 'a;b' -- c\n; /* ; */ SELECT $$;$$",
		"CREATE SOURCE bids (auction BIGINT, date_time TIMESTAMP, WATERMARK FOR date_time AS date_time - INTERVAL '5' SECOND) " +
			"WITH (connector = 'kafka', properties.bootstrap.server = '127.0.0.1:9092') FORMAT PLAIN ENCODE CSV (header = true, delimiter = ',')",
		"CREATE SOURCE IF NOT EXISTS s (a int) INCLUDE key AS k INCLUDE offset WITH ('k' = -1, b = E'\\n', c = U&'\\0041' UESCAPE '\\')",
		"CREATE TABLE t (id int PRIMARY KEY, b numeric(10,2) NOT NULL, PRIMARY KEY (b), WATERMARK FOR b AS b) APPEND ONLY WITH (x = 1) FORMAT UPSERT ENCODE JSON",
		"CREATE TABLE t (a int,,)",
		"CREATE MATERIALIZED VIEW v AS SELECT window_start, count(*) FROM TUMBLE(b, t, INTERVAL '10' SECOND) GROUP BY 1 EMIT ON WINDOW CLOSE",
		"CREATE MATERIALIZED VIEW v AS SELECT 1 WITH DATA",
		"CREATE SINK s FROM v WITH (connector = 'kafka') FORMAT PLAIN ENCODE JSON",
		"CREATE SINK s AS SELECT * FROM b EMIT ON WINDOW CLOSE WITH (connector = 'file')",
		"SHOW SOURCES; SHOW MATERIALIZED VIEWS; SHOW SOURCE ERRORS x; SHOW search_path",
		"DESCRIBE a.b; DESC \"X\"; DROP MATERIALIZED VIEW IF EXISTS a, b CASCADE; DROP INDEX i",
		"EXPLAIN (VERBOSE, COSTS OFF) CREATE SINK s FROM v WITH (a = 1); EXPLAIN ANALYZE SELECT 1",
		"EXPLAIN VERBOSE CREATE MATERIALIZED VIEW v AS SELECT 1 EMIT ON WINDOW CLOSE",
		"FLUSH; SUBSCRIBE TO v; SUBSCRIBE (SELECT 1)",
		"DECLARE c BINARY CURSOR WITH HOLD FOR SUBSCRIBE (SELECT 1); FETCH 10 c",
		"COPY (SUBSCRIBE TO v) TO STDOUT WITH (FORMAT csv)",
		"COPY (SUBSCRIBE",
		"SELECT 'é', é +",
		"SELECT U&\"\\0061\" FROM \"é\"",
		"SELECT 'abc",
		"CREATE SOURCE a.b.c.d WITH (x = 1)",
		"EXPLAIN (",
		"SUBSCRIBE ((((",
		"CREATE TABLE t (a int) WITH (x = 1, x = 2)",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		stmts, err := Parse(sql)
		if err != nil {
			var pe *pgerror.Error
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q) error %v (%T) is not a *pgerror.Error", sql, err, err)
			}
			if pe.Code == "" || pe.Message == "" {
				t.Fatalf("Parse(%q) error %#v lacks a code or message", sql, pe)
			}
			if pe.Position < 0 || pe.Position > utf8.RuneCountInString(sql)+1 {
				t.Fatalf("Parse(%q) error position %d is outside the input", sql, pe.Position)
			}
			return
		}
		for _, st := range stmts {
			if st == nil {
				t.Fatalf("Parse(%q) returned a nil statement", sql)
			}
			if st.Text() == "" || !strings.Contains(sql, st.Text()) {
				t.Fatalf("Parse(%q) statement text %q is not a piece of the input", sql, st.Text())
			}
			if pg, ok := st.(*PGStatement); ok && pg.Node == nil {
				t.Fatalf("Parse(%q) returned a PGStatement without a node", sql)
			}
		}
	})
}
