package parser

import (
	"errors"
	"strings"
	"testing"

	"github.com/sluicedb/sluice/pgerror"
)

// SQLSTATEs of the error table, short so that the table reads as a list.
const (
	syntax       = pgerror.SyntaxError           // 42601
	notSupported = pgerror.FeatureNotSupported   // 0A000
	badValue     = pgerror.InvalidParameterValue // 22023
	noColumn     = pgerror.UndefinedColumn       // 42703
	dupColumn    = pgerror.DuplicateColumn       // 42701
	badTable     = invalidTableDefinition        // 42P16
	badEscape    = pgerror.InvalidEscapeSequence // 22025
)

// TestParseErrors is the specification of what Parse refuses: the SQLSTATE
// and the 1-based character position the error points at, as PostgreSQL
// would report them (the message, which tests do not assert, follows each
// case as a comment). Positions in later statements count from the start of
// the whole string.
func TestParseErrors(t *testing.T) {
	tests := []struct {
		sql  string
		code string
		pos  int
	}{
		{`SELEC 1`, syntax, 1},                                           // syntax error at or near "SELEC"
		{`SELECT 1 +`, syntax, 11},                                       // syntax error at end of input
		{`SELECT 1 +; SELECT 2`, syntax, 11},                             // syntax error at or near ";"
		{`SELECT 1; SELECT 2 +; SELECT 3`, syntax, 21},                   // syntax error at or near ";"
		{`SELECT 'é', é +`, syntax, 16},                                  // syntax error at end of input
		{`SELECT 'abc`, syntax, 8},                                       // unterminated quoted string at or near "'abc"
		{`SELECT $$abc`, syntax, 8},                                      // unterminated dollar-quoted string at or near "$$abc"
		{`SELECT 1 /* unterminated`, syntax, 10},                         // unterminated /* comment at or near "/* unterminated"
		{`SELECT "`, syntax, 8},                                          // unterminated quoted identifier at or near """
		{`CREATE SOURCE s (a int) FORMAT PLAIN ENCODE JSON`, syntax, 25}, // syntax error at or near "FORMAT"
		{`CREATE SOURCE s (a int)`, syntax, 24},                          // syntax error at end of input
		{`CREATE SOURCE s (a int) WITH (connector = 'x') FORMAT XML ENCODE JSON`, badValue, 55},                                                  // unrecognized FORMAT "XML"
		{`CREATE SOURCE s (a int) WITH (connector = 'x') FORMAT PLAIN ENCODE YAML`, badValue, 68},                                                // unrecognized ENCODE "YAML"
		{`CREATE SOURCE s (a int) WITH (connector = 'x') FORMAT PLAIN JSON`, syntax, 61},                                                         // syntax error at or near "JSON"
		{`CREATE SOURCE s (a int) WITH (connector = 'x', topic = 'a', connector = 'y')`, badValue, 61},                                           // option "connector" specified more than once
		{`CREATE SOURCE s (a int, WATERMARK FOR b AS b - INTERVAL '1' SECOND) WITH (connector = 'x')`, noColumn, 39},                             // column "b" does not exist
		{`CREATE SOURCE s (a timestamp, WATERMARK FOR a AS a - INTERVAL '1' SECOND, WATERMARK FOR a AS a) WITH (connector = 'x')`, badTable, 89}, // multiple watermarks for column "a" are not allowed
		{`CREATE SOURCE s (a int, WATERMARK FOR a AS a -) WITH (connector = 'x')`, syntax, 47},                                                   // syntax error at or near ")"
		{`CREATE SOURCE s (a int, WATERMARK FOR a AS a FROM t) WITH (connector = 'x')`, syntax, 46},                                              // syntax error at or near "FROM"
		{`CREATE SOURCE s (a int, WATERMARK FOR a) WITH (connector = 'x')`, syntax, 40},                                                          // syntax error at or near ")"
		{`CREATE SOURCE s (a int, WATERMARK FOR a AS) WITH (connector = 'x')`, syntax, 43},                                                       // syntax error at or near ")"
		{`CREATE SOURCE s (a int,) WITH (connector = 'x')`, syntax, 24},                                                                          // syntax error at or near ")"
		{`CREATE SOURCE s (, a int) WITH (connector = 'x')`, syntax, 18},                                                                         // syntax error at or near ","
		{`CREATE SOURCE s (a int, b) WITH (connector = 'x')`, syntax, 26},                                                                        // syntax error at or near ")"
		{`CREATE SOURCE s (a int, b int4 +) WITH (connector = 'x')`, syntax, 32},                                                                 // syntax error at or near "+"
		{`CREATE SOURCE s (a int primary key) WITH (connector = 'x')`, notSupported, 24},                                                         // a source has no primary key
		{`CREATE SOURCE s (a int, primary key (a)) WITH (connector = 'x')`, notSupported, 25},                                                    // a source has no primary key
		{`CREATE SOURCE s (a int) INCLUDE header WITH (connector = 'x')`, badValue, 33},                                                          // unrecognized INCLUDE "header"
		{`CREATE SOURCE s (a int) INCLUDE key INCLUDE key WITH (connector = 'x')`, badValue, 45},                                                 // INCLUDE key specified more than once
		{`CREATE SOURCE s (a int) WITH (connector)`, syntax, 40},                                                                                 // syntax error at or near ")"
		{`CREATE SOURCE s (a int) WITH (connector = )`, syntax, 43},                                                                              // syntax error at or near ")"
		{`CREATE SOURCE s (a int) WITH ()`, syntax, 31},                                                                                          // syntax error at or near ")"
		{`CREATE SOURCE s (a int) WITH (connector = 'x') extra`, syntax, 48},                                                                     // syntax error at or near "extra"
		{`CREATE SOURCE select (a int) WITH (connector = 'x')`, syntax, 15},                                                                      // syntax error at or near "select"
		{`CREATE SOURCE a.b.c WITH (connector = 'x')`, notSupported, 15},                                                                         // cross-database references are not implemented: a.b.c
		{`CREATE SOURCE a.b.c.d WITH (connector = 'x')`, syntax, 15},                                                                             // improper qualified name (too many dotted names): a.b.c.d
		{`CREATE SOURCE s (a int WITH (connector = 'x')`, syntax, 46},                                                                            // syntax error at end of input
		{`CREATE TABLE t (a int, a text)`, dupColumn, 24},                                                                                        // column "a" specified more than once
		{`CREATE TABLE t (a int primary key, b int, primary key (b))`, badTable, 43},                                                             // multiple primary keys for table "t" are not allowed
		{`CREATE TABLE t (a int, primary key (b))`, noColumn, 24},                                                                                // column "b" named in key does not exist
		{`CREATE TABLE t (a int, b int, primary key (a, a))`, dupColumn, 31},                                                                     // column "a" appears twice in primary key constraint
		{`CREATE TABLE t (a int default 1)`, notSupported, 23},                                                                                   // DEFAULT constraints are not supported
		{`CREATE TABLE t (a int check (a > 0))`, notSupported, 23},                                                                               // CHECK constraints are not supported
		{`CREATE TABLE t (a int, unique (a))`, notSupported, 24},                                                                                 // UNIQUE constraints are not supported
		{`CREATE TABLE t (a int null not null)`, syntax, 28},                                                                                     // conflicting NULL/NOT NULL declarations for column "a" of table "t"
		{`CREATE TABLE t (a text collate "C")`, notSupported, 24},                                                                                // COLLATE is not supported
		{`CREATE TABLE t (like u)`, notSupported, 22},                                                                                            // CREATE TABLE ... LIKE is not supported
		{`CREATE TEMP TABLE t (a int)`, notSupported, 8},                                                                                         // TEMP tables are not supported
		{`CREATE UNLOGGED TABLE t (a int)`, notSupported, 8},                                                                                     // UNLOGGED tables are not supported
		{`CREATE TABLE t AS SELECT 1`, notSupported, 16},                                                                                         // CREATE TABLE AS is not supported
		{`CREATE TABLE t (a int) PARTITION BY RANGE (a)`, notSupported, 24},                                                                      // CREATE TABLE ... PARTITION is not supported
		{`CREATE TABLE t PARTITION OF u FOR VALUES IN (1)`, notSupported, 16},                                                                    // CREATE TABLE ... PARTITION OF is not supported
		{`CREATE TABLE t (a int) INCLUDE key`, notSupported, 24},                                                                                 // INCLUDE is only supported in CREATE SOURCE
		{`CREATE TABLE t`, syntax, 15},                                                                                                           // syntax error at end of input
		{`CREATE TABLE t (a int) APPEND`, syntax, 24},                                                                                            // syntax error at or near "APPEND"
		{`CREATE TABLE t (a int) WITH (x = 1, x = 2)`, badValue, 37},                                                                             // option "x" specified more than once
		{`CREATE MATERIALIZED VIEW v AS SELEC 1`, syntax, 31},                                                                                    // syntax error at or near "SELEC"
		{`CREATE MATERIALIZED VIEW v AS SELECT a FROM EMIT ON WINDOW CLOSE`, syntax, 45},                                                         // syntax error at or near "EMIT"
		{`CREATE MATERIALIZED VIEW v AS`, syntax, 30},                                                                                            // syntax error at end of input
		{`CREATE MATERIALIZED VIEW v AS INSERT INTO t VALUES (1)`, syntax, 31},                                                                   // syntax error at or near "INSERT"
		{`CREATE MATERIALIZED VIEW v AS SELECT 1 INTO x`, syntax, 45},                                                                            // SELECT ... INTO is not allowed here
		{`CREATE MATERIALIZED VIEW v (a) AS SELECT 1`, notSupported, 28},                                                                         // a column name list in CREATE MATERIALIZED VIEW is not supported
		{`CREATE MATERIALIZED VIEW v AS SELECT 1 WITH NO DATA`, notSupported, 40},                                                                // CREATE MATERIALIZED VIEW ... WITH NO DATA is not supported
		{`CREATE MATERIALIZED VIEW v SELECT 1`, syntax, 28},                                                                                      // syntax error at or near "SELECT"
		{`CREATE OR REPLACE MATERIALIZED VIEW v AS SELECT 1`, syntax, 19},                                                                        // syntax error at or near "MATERIALIZED"
		{`CREATE SINK s FROM v`, syntax, 21},                                                                                                     // syntax error at end of input
		{`CREATE SINK s FROM v FORMAT PLAIN ENCODE JSON`, syntax, 22},                                                                            // syntax error at or near "FORMAT"
		{`CREATE SINK s AS SELECT 1`, syntax, 26},                                                                                                // syntax error at end of input
		{`CREATE SINK s AS SELECT 1 FORMAT PLAIN ENCODE JSON`, syntax, 27},                                                                       // syntax error at or near "FORMAT"
		{`CREATE SINK s AS SELEC 1 WITH (connector = 'x')`, syntax, 18},                                                                          // syntax error at or near "SELEC"
		{`CREATE SINK s v WITH (connector = 'x')`, syntax, 15},                                                                                   // syntax error at or near "v"
		{`CREATE SINK s FROM v EMIT ON WINDOW CLOSE WITH (connector = 'x')`, syntax, 22},                                                         // syntax error at or near "EMIT"
		{`SHOW SOURCES extra`, syntax, 14},                                                                                                       // syntax error at or near "extra"
		{`SHOW SOURCE ERRORS a b`, syntax, 22},                                                                                                   // syntax error at or near "b"
		{`DESCRIBE`, syntax, 9},                                                                                                                  // syntax error at end of input
		{`DESCRIBE a b`, syntax, 12},                                                                                                             // syntax error at or near "b"
		{`DROP SOURCE`, syntax, 12},                                                                                                              // syntax error at end of input
		{`DROP SOURCE a,`, syntax, 15},                                                                                                           // syntax error at end of input
		{`DROP TABLE a CASCADE RESTRICT`, syntax, 22},                                                                                            // syntax error at or near "RESTRICT"
		{`EXPLAIN`, syntax, 8},                                                              // syntax error at end of input
		{`EXPLAIN ANALYZE SELECT 1`, notSupported, 9},                                       // EXPLAIN ANALYZE is not supported
		{`EXPLAIN ANALYZE CREATE MATERIALIZED VIEW v AS SELECT 1`, notSupported, 9},         // EXPLAIN ANALYZE is not supported
		{`EXPLAIN (FORMAT JSON) SELECT 1`, notSupported, 10},                                // EXPLAIN option "format" is not supported
		{`EXPLAIN (BOGUS) SELECT 1`, syntax, 10},                                            // unrecognized EXPLAIN option "bogus"
		{`EXPLAIN (VERBOSE maybe) CREATE SINK s FROM v WITH (connector = 'x')`, syntax, 10}, // verbose requires a Boolean value
		{`EXPLAIN CREATE TABLE t (a int)`, syntax, 27},                                      // syntax error at or near "int"
		{`EXPLAIN CREATE SOURCE s WITH (connector = 'x')`, syntax, 16},                      // syntax error at or near "SOURCE"
		{`EXPLAIN FLUSH`, syntax, 9},                                                        // syntax error at or near "FLUSH"
		{`EXPLAIN SUBSCRIBE v`, syntax, 9},                                                  // syntax error at or near "SUBSCRIBE"
		{`EXPLAIN CREATE MATERIALIZED VIEW v AS SELEC 1`, syntax, 39},                       // syntax error at or near "SELEC"
		{`FLUSH now`, syntax, 7},                                                            // syntax error at or near "now"
		{`SUBSCRIBE`, syntax, 10},                                                           // syntax error at end of input
		{`SUBSCRIBE TO v extra`, syntax, 16},                                                // syntax error at or near "extra"
		{`SUBSCRIBE (SELEC 1)`, syntax, 12},                                                 // syntax error at or near "SELEC"
		{`SUBSCRIBE (INSERT INTO t VALUES (1))`, syntax, 12},                                // syntax error at or near "INSERT"
		{`SUBSCRIBE (SELECT 1`, syntax, 20},                                                 // syntax error at end of input
		{`DECLARE c CURSOR FOR SUBSCRIBE`, syntax, 31},                                      // syntax error at end of input
		{`DECLARE c CURSR FOR SUBSCRIBE v`, syntax, 11},                                     // syntax error at or near "CURSR"
		{`COPY (SUBSCRIBE v) FROM STDIN`, syntax, 20},                                       // syntax error at or near "FROM"
		{`COPY (SUBSCRIBE v TO STDOUT`, syntax, 28},                                         // syntax error at end of input
		// Positions of errors in pieces of streaming statements count in
		// characters of the whole input, after multi-byte characters too.
		{`SELECT 'ü'; CREATE SOURCE s (a int, WATERMARK FOR a AS a -) WITH (connector = 'x')`, syntax, 59},
		{`SELECT 'ü'; CREATE TABLE t (a int, b numeric(1,))`, syntax, 48},
		{`SELECT 'ü'; CREATE MATERIALIZED VIEW v AS SELECT ü FROM EMIT ON WINDOW CLOSE`, syntax, 57},
		{`SELECT 'ü'; CREATE SOURCE s (ü int, WATERMARK FOR ä AS ä) WITH (connector = 'x')`, noColumn, 51},
		{`SELECT 'ü'; CREATE SOURCE s WITH (a = 'ü', a = 1)`, badValue, 44},
		{`SELECT 1 FROM a.b.c.d`, syntax, 15},          // improper qualified name (too many dotted names): a.b.c.d
		{`SELECT float(0) 1`, badValue, 14},            // precision for type float must be at least 1 bit
		{`CREATE TABLE t (a float(0))`, badValue, 25},  // precision for type float must be at least 1 bit
		{`SELECT 1 ORDER BY 1 ORDER BY 2`, syntax, 21}, // syntax error at or near "ORDER"
		{`SELECT U&'\zzzz'`, syntax, 11},
		{`SELECT E'\uzz'`, badEscape, 10}, // invalid Unicode escape
	}
	for _, tt := range tests {
		t.Run(tt.sql, func(t *testing.T) {
			stmts, err := Parse(tt.sql)
			if err == nil {
				t.Fatalf("Parse succeeded with %d statements, want error %s at %d", len(stmts), tt.code, tt.pos)
			}
			var pe *pgerror.Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %v (%T) is not a *pgerror.Error", err, err)
			}
			if pe.Code != tt.code || pe.Position != tt.pos {
				t.Errorf("error %s at %d (%q), want %s at %d", pe.Code, pe.Position, pe.Message, tt.code, tt.pos)
			}
			if stmts != nil {
				t.Errorf("Parse returned statements along with its error")
			}
		})
	}
}

// TestInvalidEncoding checks that input PostgreSQL would refuse before
// parsing (a NUL byte, malformed UTF-8) is refused with its code, 22021.
func TestInvalidEncoding(t *testing.T) {
	for _, sql := range []string{"SELECT 'a\x00'", "SELECT 'é\xff'", "SELECT \xc3"} {
		_, err := Parse(sql)
		var pe *pgerror.Error
		if !errors.As(err, &pe) || pe.Code != characterNotInRepertoire {
			t.Errorf("Parse(%q) = %v, want a 22021 error", sql, err)
		}
	}
}

// TestDeepStatements checks that statements whose tree would be too deep
// for pg_query (which would crash the process) are refused with
// PostgreSQL's "stack depth limit exceeded", and that long but flat
// statements are not.
func TestDeepStatements(t *testing.T) {
	deep := map[string]string{
		"operators":      "SELECT 1" + strings.Repeat("+1", 6000),
		"casts":          "SELECT 1" + strings.Repeat("::int", 6000),
		"set operations": "SELECT 1, 2" + strings.Repeat(" UNION SELECT 1, 2", 6000),
		"joins":          "SELECT * FROM a" + strings.Repeat(" JOIN a ON a.x = 1", 6000),
		"case operands":  "SELECT 1" + strings.Repeat(" + CASE WHEN true THEN 1 END", 6000),
		"watermark":      "CREATE SOURCE s (a int, WATERMARK FOR a AS a" + strings.Repeat("+1", 6000) + ") WITH (x = 1)",
		"view":           "CREATE MATERIALIZED VIEW v AS SELECT 1" + strings.Repeat("+(1)", 6000) + " EMIT ON WINDOW CLOSE",
	}
	for name, sql := range deep {
		_, err := Parse(sql)
		if code := pgerror.Code(err); code != statementTooComplex {
			t.Errorf("%s: error %v (%s), want stack depth limit exceeded", name, err, code)
		}
	}
	// Nesting in parentheses is bounded by the grammar itself.
	for _, n := range []int{3000, 20000} {
		sql := "SELECT " + strings.Repeat("(1 + ", n) + "1" + strings.Repeat(")", n)
		if _, err := Parse(sql); err != nil && pgerror.Code(err) != syntax && pgerror.Code(err) != statementTooComplex {
			t.Errorf("%d nested parentheses: %v", n, err)
		}
	}
	flat := map[string]string{
		"conjunction": "SELECT * FROM t WHERE " + strings.Repeat("a + 1 = 2 AND ", 10000) + "true",
		"values":      "INSERT INTO t VALUES " + strings.Repeat("(1 + 1, 'x'::text), ", 10000) + "(1, 'y')",
		"in list":     "SELECT 1 WHERE 1 IN (" + strings.Repeat("1 + 1, ", 10000) + "1)",
		"case":        "SELECT CASE" + strings.Repeat(" WHEN a = 1 THEN b + 1", 10000) + " END",
	}
	for name, sql := range flat {
		if _, err := Parse(sql); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
