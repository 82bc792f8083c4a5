package parser

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/sluicedb/sluice/pgerror"
)

// TestParseStatementForms is the specification of every statement form: the
// statement as written, and what Parse makes of it (see render for the
// notation; positions are 1-based characters, @n).
func TestParseStatementForms(t *testing.T) {
	tests := []struct{ sql, want string }{
		{`SELECT 1`,
			`PG SelectStmt: SELECT 1`},
		{`CREATE SOURCE bids (auction BIGINT, bidder BIGINT, price BIGINT, channel VARCHAR, date_time TIMESTAMP, WATERMARK FOR date_time AS date_time - INTERVAL '5' SECOND) WITH (connector = 'kafka', topic = 'bids', properties.bootstrap.server = '127.0.0.1:9092', scan.startup.mode = 'earliest') FORMAT PLAIN ENCODE JSON`,
			`CREATE SOURCE bids
  column auction pg_catalog.int8 @21
  column bidder pg_catalog.int8 @37
  column price pg_catalog.int8 @52
  column channel pg_catalog.varchar @66
  column date_time pg_catalog.timestamp @83
  watermark date_time @118 AS date_time - '5'::interval second
  option connector = kafka @170
  option topic = bids @191
  option properties.bootstrap.server = 127.0.0.1:9092 @207
  option scan.startup.mode = earliest @255
  format PLAIN ENCODE JSON ()`},
		{`create source if not exists "Nex"."Bids" with (connector='nexmark', nexmark.table.type = 'Bid', nexmark.event.rate = 1000, 'Quoted.Key' = E'a\x41b', n = -1.5, flag = TRUE, mode = Latest)`,
			`CREATE SOURCE IF NOT EXISTS Nex.Bids
  option connector = nexmark @48
  option nexmark.table.type = Bid @69
  option nexmark.event.rate = 1000 @97
  option Quoted.Key = aAb @124
  option n = -1.5 @150
  option flag = true @160
  option mode = latest @173`},
		{`CREATE SOURCE f (a int not null, b text) INCLUDE key AS k INCLUDE offset WITH (connector = 'file', path = '/tmp/x') FORMAT PLAIN ENCODE CSV (header = true, delimiter = ',')`,
			`CREATE SOURCE f
  column a pg_catalog.int4 NOT NULL @18
  column b text @34
  include key AS "k"
  include offset AS ""
  option connector = file @80
  option path = /tmp/x @100
  format PLAIN ENCODE CSV (header = true @142, delimiter = , @157)`},
		{`CREATE SOURCE s () WITH (connector = 'datagen')`,
			`CREATE SOURCE s
  option connector = datagen @26`},
		{`CREATE TABLE users (id BIGINT PRIMARY KEY, name VARCHAR, tier VARCHAR)`,
			`CREATE TABLE users
  column id pg_catalog.int8 NOT NULL PRIMARY KEY @21
  column name pg_catalog.varchar @44
  column tier pg_catalog.varchar @58
  primary key (id)`},
		{`CREATE TABLE IF NOT EXISTS s.t (a int, b numeric(10, 2) NOT NULL, c char(3), PRIMARY KEY (b, a))`,
			`CREATE TABLE IF NOT EXISTS s.t
  column a pg_catalog.int4 NOT NULL PRIMARY KEY @33
  column b pg_catalog.numeric(10,2) NOT NULL PRIMARY KEY @40
  column c pg_catalog.bpchar(3) @67
  primary key (b, a)`},
		{`CREATE TABLE readings (sensor INT, temp DOUBLE PRECISION, ts TIMESTAMP, WATERMARK FOR ts AS ts - INTERVAL '5 minutes') APPEND ONLY`,
			`CREATE TABLE readings
  column sensor pg_catalog.int4 @24
  column temp pg_catalog.float8 @36
  column ts pg_catalog.timestamp @59
  watermark ts @87 AS ts - '5 minutes'::interval
  APPEND ONLY`},
		{`CREATE TABLE k (id int primary key, v jsonb) WITH (connector = 'kafka', topic = 't') FORMAT UPSERT ENCODE JSON`,
			`CREATE TABLE k
  column id pg_catalog.int4 NOT NULL PRIMARY KEY @17
  column v jsonb @37
  primary key (id)
  option connector = kafka @52
  option topic = t @73
  format UPSERT ENCODE JSON ()`},
		{`CREATE TABLE e ()`,
			`CREATE TABLE e`},
		{`CREATE MATERIALIZED VIEW bid_stats AS SELECT window_start, window_end, auction, count(*) AS bids FROM TUMBLE(bids, date_time, INTERVAL '10' SECOND) GROUP BY window_start, window_end, auction`,
			`CREATE MATERIALIZED VIEW bid_stats
  query "SELECT window_start, window_end, auction, count(*) AS bids FROM TUMBLE(bids, date_time, INTERVAL '10' SECOND) GROUP BY window_start, window_end, auction"
  AS SELECT window_start, window_end, auction, count(*) AS bids FROM tumble(bids, date_time, '10'::interval second) GROUP BY window_start, window_end, auction`},
		{`CREATE MATERIALIZED VIEW IF NOT EXISTS w AS SELECT window_start, max(price) FROM HOP(bids, date_time, INTERVAL '2' SECOND, INTERVAL '10' SECOND) GROUP BY 1 EMIT ON WINDOW CLOSE`,
			`CREATE MATERIALIZED VIEW IF NOT EXISTS w
  query "SELECT window_start, max(price) FROM HOP(bids, date_time, INTERVAL '2' SECOND, INTERVAL '10' SECOND) GROUP BY 1"
  AS SELECT window_start, max(price) FROM hop(bids, date_time, '2'::interval second, '10'::interval second) GROUP BY 1
  EMIT ON WINDOW CLOSE`},
		{`create materialized view m as with x as (select 1 as a) select a from x union all select 2 with data`,
			`CREATE MATERIALIZED VIEW m
  query "with x as (select 1 as a) select a from x union all select 2"
  AS WITH x AS (SELECT 1 AS a) SELECT a FROM x UNION ALL SELECT 2`},
		{`CREATE SINK bid_stats_to_kafka FROM bid_stats WITH (connector = 'kafka', topic = 'bid_stats', properties.bootstrap.server = '127.0.0.1:9092', type = 'append-only') FORMAT PLAIN ENCODE JSON`,
			`CREATE SINK bid_stats_to_kafka
  FROM bid_stats
  option connector = kafka @53
  option topic = bid_stats @74
  option properties.bootstrap.server = 127.0.0.1:9092 @95
  option type = append-only @143
  format PLAIN ENCODE JSON ()`},
		{`CREATE SINK big_bids AS SELECT * FROM bids WHERE price > 1000000 WITH (connector = 'postgres', url = 'postgres://postgres@127.0.0.1:5432/test', table = 'big_bids', type = 'append-only')`,
			`CREATE SINK big_bids
  query "SELECT * FROM bids WHERE price > 1000000"
  AS SELECT * FROM bids WHERE price > 1000000
  option connector = postgres @72
  option url = postgres://postgres@127.0.0.1:5432/test @96
  option table = big_bids @145
  option type = append-only @165`},
		{`CREATE SINK IF NOT EXISTS w AS SELECT window_start, count(*) FROM TUMBLE(b, t, INTERVAL '1' MINUTE) GROUP BY 1 EMIT ON WINDOW CLOSE WITH (connector = 'file', path = '/tmp/out') FORMAT PLAIN ENCODE PARQUET`,
			`CREATE SINK IF NOT EXISTS w
  query "SELECT window_start, count(*) FROM TUMBLE(b, t, INTERVAL '1' MINUTE) GROUP BY 1"
  AS SELECT window_start, count(*) FROM tumble(b, t, '1'::interval minute) GROUP BY 1
  EMIT ON WINDOW CLOSE
  option connector = file @139
  option path = /tmp/out @159
  format PLAIN ENCODE PARQUET ()`},
		{`SHOW SOURCES`,
			`SHOW SOURCES`},
		{`show materialized views`,
			`SHOW MATERIALIZED VIEWS`},
		{`SHOW SINKS`,
			`SHOW SINKS`},
		{`SHOW TABLES`,
			`SHOW TABLES`},
		{`SHOW VIEWS`,
			`SHOW VIEWS`},
		{`SHOW SOURCE ERRORS`,
			`SHOW SOURCE ERRORS`},
		{`SHOW SOURCE ERRORS public.bids`,
			`SHOW SOURCE ERRORS public.bids`},
		{`SHOW search_path`,
			`PG VariableShowStmt: SHOW search_path`},
		{`SHOW ALL`,
			`PG VariableShowStmt: SHOW ALL`},
		{`DESCRIBE bids`,
			`DESCRIBE bids`},
		{`DESC public."Bids"`,
			`DESCRIBE public.Bids`},
		{`DROP SOURCE bids`,
			`DROP SOURCE bids`},
		{`DROP MATERIALIZED VIEW IF EXISTS a, s.b CASCADE`,
			`DROP MATERIALIZED VIEW IF EXISTS a, s.b CASCADE`},
		{`DROP TABLE t RESTRICT`,
			`DROP TABLE t`},
		{`DROP VIEW v`,
			`DROP VIEW v`},
		{`DROP SINK s`,
			`DROP SINK s`},
		{`DROP INDEX i`,
			`PG DropStmt: DROP INDEX i`},
		{`EXPLAIN SELECT 1`,
			`EXPLAIN [SELECT 1]
  PG SelectStmt: SELECT 1`},
		{`EXPLAIN VERBOSE CREATE MATERIALIZED VIEW v AS SELECT a FROM t EMIT ON WINDOW CLOSE`,
			`EXPLAIN VERBOSE [CREATE MATERIALIZED VIEW v AS SELECT a FROM t EMIT ON WINDOW CLOSE]
  CREATE MATERIALIZED VIEW v
    query "SELECT a FROM t"
    AS SELECT a FROM t
    EMIT ON WINDOW CLOSE`},
		{`EXPLAIN (VERBOSE, COSTS OFF) CREATE SINK s FROM v WITH (connector = 'kafka')`,
			`EXPLAIN VERBOSE [CREATE SINK s FROM v WITH (connector = 'kafka')]
  CREATE SINK s
    FROM v
    option connector = kafka @57`},
		{`EXPLAIN (verbose false) SELECT * FROM t`,
			`EXPLAIN [SELECT * FROM t]
  PG SelectStmt: SELECT * FROM t`},
		{`EXPLAIN VERBOSE INSERT INTO t VALUES (1)`,
			`EXPLAIN VERBOSE [INSERT INTO t VALUES (1)]
  PG InsertStmt: INSERT INTO t VALUES (1)`},
		{`FLUSH`,
			`FLUSH`},
		{`SUBSCRIBE TO bid_stats`,
			`SUBSCRIBE bid_stats`},
		{`subscribe s.v`,
			`SUBSCRIBE s.v`},
		{`SUBSCRIBE (SELECT auction, count(*) FROM bids GROUP BY auction)`,
			`SUBSCRIBE query "SELECT auction, count(*) FROM bids GROUP BY auction" AS SELECT auction, count(*) FROM bids GROUP BY auction`},
		{`DECLARE c CURSOR FOR SUBSCRIBE TO bid_stats`,
			`DECLARE c options=0x100
  SUBSCRIBE bid_stats`},
		{`DECLARE c BINARY NO SCROLL CURSOR WITH HOLD FOR SUBSCRIBE (SELECT 1)`,
			`DECLARE c options=0x125
  SUBSCRIBE query "SELECT 1" AS SELECT 1`},
		{`DECLARE c CURSOR FOR SELECT 1`,
			`PG DeclareCursorStmt: DECLARE c CURSOR FOR SELECT 1`},
		{`COPY (SUBSCRIBE bid_stats) TO STDOUT`,
			`COPY TO stdout=true file="" ()
  SUBSCRIBE bid_stats`},
		{`COPY (SUBSCRIBE TO (SELECT * FROM v)) TO STDOUT WITH (FORMAT csv, HEADER)`,
			`COPY TO stdout=true file="" (format csv, header )
  SUBSCRIBE query "SELECT * FROM v" AS SELECT * FROM v`},
		{`COPY t TO STDOUT`,
			`PG CopyStmt: COPY t TO STDOUT`},
		{`FETCH 10 c`,
			`FETCH 10 c options=0`},
		{`BEGIN`,
			`PG TransactionStmt: BEGIN`},
		{`INSERT INTO users VALUES (1, 'ada', 'gold')`,
			`PG InsertStmt: INSERT INTO users VALUES (1, 'ada', 'gold')`},
		{`UPDATE users SET tier = 'x' WHERE id = 1`,
			`PG UpdateStmt: UPDATE users SET tier = 'x' WHERE id = 1`},
		{`DELETE FROM users WHERE id = 1`,
			`PG DeleteStmt: DELETE FROM users WHERE id = 1`},
		{`SET search_path = public`,
			`PG VariableSetStmt: SET search_path TO public`},
		{`CREATE VIEW v AS SELECT 1`,
			`PG ViewStmt: CREATE VIEW v AS SELECT 1`},
		{`CREATE TEMP VIEW v AS SELECT 1`,
			`PG ViewStmt: CREATE TEMPORARY VIEW v AS SELECT 1`},
		{`SELECT * FROM TUMBLE(bids, date_time, INTERVAL '10' SECOND)`,
			`PG SelectStmt: SELECT * FROM tumble(bids, date_time, '10'::interval second)`},
	}
	for _, tt := range tests {
		t.Run(tt.sql, func(t *testing.T) {
			stmts, err := Parse(tt.sql)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if len(stmts) != 1 {
				t.Fatalf("Parse returned %d statements, want 1", len(stmts))
			}
			if got := render(t, stmts[0]); got != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tt.want)
			}
			if got := stmts[0].Text(); got != tt.sql {
				t.Errorf("Text() = %q, want the whole input", got)
			}
		})
	}
}

// TestParseSplitsStatements checks that statements are cut at the ';'
// tokens only: not inside strings, quoted identifiers, dollar quotes or
// comments, and that each statement's text is its own, without the ';' and
// the comments around it.
func TestParseSplitsStatements(t *testing.T) {
	tests := []struct {
		sql  string
		want []string
	}{
		{"", nil},
		{"  \n\t ", nil},
		{"-- only a comment; still a comment", nil},
		{"/* a; b */ ; ;; -- c", nil},
		{"SELECT 1", []string{"SELECT 1"}},
		{"SELECT 1;", []string{"SELECT 1"}},
		{"SELECT 1; SELECT 2", []string{"SELECT 1", "SELECT 2"}},
		{"SELECT 'a;b'; SELECT 'it''s;'", []string{"SELECT 'a;b'", "SELECT 'it''s;'"}},
		{`SELECT "semi;colon" FROM t; SELECT E'\';'`, []string{`SELECT "semi;colon" FROM t`, `SELECT E'\';'`}},
		{"SELECT $$;$$; SELECT $tag$ $$; $tag$", []string{"SELECT $$;$$", "SELECT $tag$ $$; $tag$"}},
		{"SELECT 1 -- one; two\n; SELECT /* ; */ 2", []string{"SELECT 1", "SELECT /* ; */ 2"}},
		{"/* lead */ FLUSH /* trail */;\n-- next\nSHOW SOURCES", []string{"FLUSH", "SHOW SOURCES"}},
		{"CREATE SOURCE s WITH (connector = 'file', path = '/a;b') FORMAT PLAIN ENCODE CSV (delimiter = ';'); FLUSH",
			[]string{"CREATE SOURCE s WITH (connector = 'file', path = '/a;b') FORMAT PLAIN ENCODE CSV (delimiter = ';')", "FLUSH"}},
	}
	for _, tt := range tests {
		stmts, err := Parse(tt.sql)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.sql, err)
			continue
		}
		if stmts == nil {
			t.Errorf("Parse(%q) returned a nil slice, want an empty one", tt.sql)
		}
		var got []string
		for _, s := range stmts {
			got = append(got, s.Text())
		}
		if strings.Join(got, "\n") != strings.Join(tt.want, "\n") || len(got) != len(tt.want) {
			t.Errorf("Parse(%q) texts = %q, want %q", tt.sql, got, tt.want)
		}
	}
}

// TestParseMultiStatementKinds checks a script mixing streaming and
// PostgreSQL statements comes back in order with the right types.
func TestParseMultiStatementKinds(t *testing.T) {
	sql := `
CREATE TABLE users (id BIGINT PRIMARY KEY, name VARCHAR);
INSERT INTO users VALUES (1, 'a;b');
CREATE MATERIALIZED VIEW v AS SELECT count(*) FROM users EMIT ON WINDOW CLOSE;
FLUSH;
SELECT $$ ; $$ FROM v; -- done`
	stmts, err := Parse(sql)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, s := range stmts {
		kinds = append(kinds, strings.TrimPrefix(strings.SplitN(render(t, s), "\n", 2)[0], "PG "))
	}
	want := []string{
		"CREATE TABLE users",
		"InsertStmt: INSERT INTO users VALUES (1, 'a;b')",
		"CREATE MATERIALIZED VIEW v",
		"FLUSH",
		"SelectStmt: SELECT ' ; ' FROM v",
	}
	if strings.Join(kinds, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(kinds, "\n"), strings.Join(want, "\n"))
	}
}

// TestLocationsAreCharacterOffsetsInTheInput checks the invariant that every
// location in a returned node is a 0-based character offset into the string
// given to Parse, also after multi-byte characters, in later statements, and
// inside the pieces parsed out of streaming statements.
func TestLocationsAreCharacterOffsetsInTheInput(t *testing.T) {
	sql := "SELECT 'ünïcödé'; SELECT colA, 42 FROM tbl;\n" +
		"CREATE SOURCE «s» WITH (connector = 'x'); " +
		"CREATE TABLE t (é int, ts timestamp, WATERMARK FOR ts AS ts - INTERVAL '1' SECOND);" +
		"CREATE MATERIALIZED VIEW v AS SELECT colB FROM tbl2 EMIT ON WINDOW CLOSE;" +
		"CREATE SINK k AS SELECT colC FROM tbl3 WITH (connector = 'x');" +
		"EXPLAIN CREATE MATERIALIZED VIEW w AS SELECT colD FROM tbl4;" +
		"SUBSCRIBE (SELECT colE FROM tbl5)"
	stmts, err := Parse(sql)
	if err != nil {
		t.Fatal(err)
	}
	runes := []rune(sql)
	at := func(loc int32) string {
		if loc < 0 || int(loc) >= len(runes) {
			t.Fatalf("location %d outside the input", loc)
		}
		return strings.ToLower(string(runes[loc:]))
	}
	checked := map[string]bool{}
	var walk func(m protoreflect.Message)
	walk = func(m protoreflect.Message) {
		switch n := m.Interface().(type) {
		case *pg_query.ColumnRef:
			name := n.Fields[0].GetString_().GetSval()
			if !strings.HasPrefix(at(n.Location), name) {
				t.Errorf("ColumnRef %s at %d points at %.10q", name, n.Location, at(n.Location))
			}
			checked[name] = true
		case *pg_query.RangeVar:
			if !strings.HasPrefix(at(n.Location), n.Relname) {
				t.Errorf("RangeVar %s at %d points at %.10q", n.Relname, n.Location, at(n.Location))
			}
			checked[n.Relname] = true
		case *pg_query.A_Const:
			if iv := n.GetIval(); iv != nil && iv.Ival == 42 && !strings.HasPrefix(at(n.Location), "42") {
				t.Errorf("constant 42 at %d points at %.10q", n.Location, at(n.Location))
			}
			if sv := n.GetSval(); sv != nil && !strings.HasPrefix(at(n.Location), "'") {
				t.Errorf("string constant at %d points at %.10q", n.Location, at(n.Location))
			}
		}
		m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			switch {
			case fd.Kind() != protoreflect.MessageKind:
			case fd.IsList():
				for i := 0; i < v.List().Len(); i++ {
					walk(v.List().Get(i).Message())
				}
			default:
				walk(v.Message())
			}
			return true
		})
	}
	var visit func(st Statement)
	visit = func(st Statement) {
		switch s := st.(type) {
		case *PGStatement:
			walk(s.Node.ProtoReflect())
		case *CreateTable:
			for _, c := range s.Columns {
				if got := at(int32(c.Pos - 1)); !strings.HasPrefix(got, c.Name) {
					t.Errorf("column %s Pos %d points at %.10q", c.Name, c.Pos, got)
				}
				if got := at(c.Type.Location); !strings.HasPrefix(got, "int") && !strings.HasPrefix(got, "timestamp") {
					t.Errorf("type of %s at %d points at %.10q", c.Name, c.Type.Location, got)
				}
			}
			walk(s.Watermarks[0].Expr.ProtoReflect())
		case *CreateSource:
			if got := at(int32(s.Options[0].Pos - 1)); !strings.HasPrefix(got, "connector") {
				t.Errorf("option Pos %d points at %.10q", s.Options[0].Pos, got)
			}
		case *CreateMaterializedView:
			walk(s.Query.ProtoReflect())
		case *CreateSink:
			walk(s.Query.ProtoReflect())
		case *Explain:
			visit(s.Statement)
		case *Subscribe:
			walk(s.Query.ProtoReflect())
		}
	}
	for _, st := range stmts {
		visit(st)
	}
	for _, name := range []string{"cola", "tbl", "ts", "colb", "tbl2", "colc", "tbl3", "cold", "tbl4", "cole", "tbl5"} {
		if !checked[name] {
			t.Errorf("no node named %s was checked", name)
		}
	}
	if Position(-1) != 0 || Position(0) != 1 {
		t.Errorf("Position(-1), Position(0) = %d, %d; want 0, 1", Position(-1), Position(0))
	}
}

// TestIdentifiers checks PostgreSQL's folding, quoting and truncation of
// names.
func TestIdentifiers(t *testing.T) {
	long := strings.Repeat("x", 70)
	longUnicode := strings.Repeat("é", 40) // 80 bytes; cut at a character boundary
	tests := []struct {
		sql  string
		want ObjectName
	}{
		{"DESCRIBE Bids", ObjectName{Name: "bids"}},
		{`DESCRIBE "Bids"`, ObjectName{Name: "Bids"}},
		{`DESCRIBE "a""b"`, ObjectName{Name: `a"b`}},
		{`DESCRIBE Public."My Table"`, ObjectName{Schema: "public", Name: "My Table"}},
		{`DESCRIBE U&"d\0061t\+000061"`, ObjectName{Name: "data"}},
		{`DESCRIBE U&"d!0061t!+000061" UESCAPE '!'`, ObjectName{Name: "data"}},
		{"DESCRIBE ÉTÉ", ObjectName{Name: "ÉtÉ"}}, // only ASCII letters fold, as in PostgreSQL
		{"DESCRIBE s.select", ObjectName{Schema: "s", Name: "select"}},
		{"DESCRIBE source", ObjectName{Name: "source"}},
		{"DESCRIBE " + long, ObjectName{Name: long[:63]}},
		{`DESCRIBE "` + longUnicode + `"`, ObjectName{Name: longUnicode[:62]}},
	}
	for _, tt := range tests {
		stmts, err := Parse(tt.sql)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.sql, err)
			continue
		}
		if got := stmts[0].(*Describe).Name; got != tt.want {
			t.Errorf("Parse(%q) name = %#v, want %#v", tt.sql, got, tt.want)
		}
		if !utf8.ValidString(tt.want.Name) {
			t.Errorf("test expectation %q is not valid UTF-8", tt.want.Name)
		}
	}
	names := map[ObjectName]string{
		{Name: "bids"}:                 "bids",
		{Schema: "s", Name: "Bids"}:    `s."Bids"`,
		{Name: `a"b`}:                  `"a""b"`,
		{Name: "_x1$"}:                 "_x1$",
		{Name: "1x"}:                   `"1x"`,
		{Schema: "My S", Name: "my_t"}: `"My S".my_t`,
	}
	for n, want := range names {
		if got := n.String(); got != want {
			t.Errorf("%#v.String() = %s, want %s", n, got, want)
		}
	}
}

// TestOptionValues checks the literal forms an option value can take.
func TestOptionValues(t *testing.T) {
	stmts, err := Parse(`CREATE SINK s FROM v WITH (
		a = 'plain', b = 'it''s', c = E'tab\there', d = $$dollar 'quoted'$$, e = U&'\0041',
		f = 42, g = -7, h = +1.5e3, i = true, j = OFF, k = "Quoted", 'key.with.Dots' = 'x',
		l = 'con'
		'tinued')`)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, o := range stmts[0].(*CreateSink).Options {
		got[o.Key] = o.Value
	}
	want := map[string]string{
		"a": "plain", "b": "it's", "c": "tab\there", "d": "dollar 'quoted'", "e": "A",
		"f": "42", "g": "-7", "h": "+1.5e3", "i": "true", "j": "off", "k": "Quoted",
		"key.with.Dots": "x", "l": "continued",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("option %s = %q, want %q", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d options, want %d: %v", len(got), len(want), got)
	}
}

// TestErrorsAreTyped checks that every error Parse returns is a
// *pgerror.Error, whatever the statement.
func TestErrorsAreTyped(t *testing.T) {
	_, err := Parse("SELECT 1; CREATE SOURCE s WITH (); SELECT 2")
	var pe *pgerror.Error
	if !errors.As(err, &pe) || pe.Code != pgerror.SyntaxError || pe.Position != 33 {
		t.Fatalf("err = %#v, want a 42601 *pgerror.Error at 33", err)
	}
}
