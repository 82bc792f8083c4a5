package postgres

import (
	"context"
	"fmt"
	"math/rand/v2"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/jackc/pgx/v5"

	"github.com/sluicedb/sluice/connectors"
	"github.com/sluicedb/sluice/internal/sqllogictest"
	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/types"
)

// testURL is the local PostgreSQL the tests write into.
const testURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// testTimeout bounds every test's work against the server.
const testTimeout = time.Minute

func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// requirePG skips the test when there is no local PostgreSQL, and returns
// an independent connection to it for setting up and checking tables.
func requirePG(t testing.TB) *pgx.Conn {
	t.Helper()
	sqllogictest.RequireService(t, "PostgreSQL", "127.0.0.1:5432")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cfg, err := pgx.ParseConfig(testURL)
	if err != nil {
		t.Fatal(err)
	}
	cfg.RuntimeParams["timezone"] = "UTC"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("connecting to %s: %v", testURL, err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

var nonIdent = regexp.MustCompile(`[^a-z0-9]+`)

// tableName returns a table name unique to the test, and drops the table
// and its progress rows when the test ends.
func tableName(t testing.TB, conn *pgx.Conn) string {
	t.Helper()
	name := strings.Trim(nonIdent.ReplaceAllString(strings.ToLower(t.Name()), "_"), "_")
	if len(name) > 40 {
		name = name[len(name)-40:]
	}
	name = fmt.Sprintf("t_%s_%08x", name, rand.Uint32())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := conn.Exec(ctx, "DROP TABLE IF EXISTS "+pgx.Identifier{name}.Sanitize()); err != nil {
			t.Errorf("dropping %s: %v", name, err)
		}
		if _, err := conn.Exec(ctx, "DELETE FROM "+progressTable+" WHERE table_name = $1", name); err != nil {
			t.Logf("cleaning the progress table: %v", err)
		}
	})
	return name
}

func exec(t testing.TB, conn *pgx.Conn, sql string) {
	t.Helper()
	if _, err := conn.Exec(testContext(t), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// sinkConfig is the configuration CREATE SINK ... WITH (table = table,
// url = testURL, extra...) would give.
func sinkConfig(t testing.TB, schema types.Schema, typ string, pk []int, table string, extra map[string]string) connectors.SinkConfig {
	t.Helper()
	opts := map[string]string{optURL: testURL, optTable: table}
	for k, v := range extra {
		opts[k] = v
	}
	validated, err := Connector().SinkOptions().Validate(opts)
	if err != nil {
		t.Fatal(err)
	}
	return connectors.SinkConfig{Name: "out", Schema: schema, Type: typ, PrimaryKey: pk,
		Options: validated, Alloc: memory.NewGoAllocator()}
}

func newSink(t testing.TB, cfg connectors.SinkConfig) *Sink {
	t.Helper()
	s, err := NewSink(testContext(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// record builds a record of schema from rows of Datums.
func record(t testing.TB, schema types.Schema, rows ...[]types.Datum) arrow.Record {
	t.Helper()
	b := array.NewRecordBuilder(memory.NewGoAllocator(), schema.Arrow())
	defer b.Release()
	for _, row := range rows {
		if len(row) != len(schema) {
			t.Fatalf("row %v has %d values for %d columns", row, len(row), len(schema))
		}
		for i, d := range row {
			types.Put(b.Field(i), d, schema[i].Type)
		}
	}
	return b.NewRecordBatch()
}

// batch is a SinkBatch of rows, each an insert ('+') or a delete ('-').
func batch(t testing.TB, schema types.Schema, kinds string, rows ...[]types.Datum) connectors.SinkBatch {
	t.Helper()
	if len(kinds) != len(rows) {
		t.Fatalf("%d kinds for %d rows", len(kinds), len(rows))
	}
	b := connectors.SinkBatch{Record: record(t, schema, rows...), Kinds: make([]connectors.RowKind, len(rows))}
	for i, k := range kinds {
		if k == '-' {
			b.Kinds[i] = connectors.RowDelete
		}
	}
	return b
}

func write(t testing.TB, s *Sink, b connectors.SinkBatch) {
	t.Helper()
	defer b.Record.Release()
	if err := s.Write(testContext(t), b); err != nil {
		t.Fatalf("write: %v", err)
	}
}

func commit(t testing.TB, s *Sink, epoch uint64) {
	t.Helper()
	if err := s.Commit(testContext(t), epoch); err != nil {
		t.Fatalf("commit %d: %v", epoch, err)
	}
}

// rows returns the result of sql as text, one line per row with the values
// separated by '|' (NULL for null), sorted.
func rows(t testing.TB, conn *pgx.Conn, sql string) []string {
	t.Helper()
	got, err := queryText(testContext(t), conn, sql)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return got
}

// queryText runs sql with the simple protocol, so that every value comes
// back in its text form, and returns the rows as rows does.
func queryText(ctx context.Context, conn *pgx.Conn, sql string) ([]string, error) {
	rs, err := conn.Query(ctx, sql, pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []string
	for rs.Next() {
		var vals []string
		for _, v := range rs.RawValues() {
			if v == nil {
				vals = append(vals, "NULL")
			} else {
				vals = append(vals, string(v))
			}
		}
		out = append(out, strings.Join(vals, "|"))
	}
	if err := rs.Err(); err != nil {
		return nil, err
	}
	sort.Strings(out)
	return out, nil
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

func equal(t testing.TB, what string, got, want []string) {
	t.Helper()
	got, want = sorted(got), sorted(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\ngot:\n  %s\nwant:\n  %s", what, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// wantCode fails unless err carries SQLSTATE code and its message
// mentions each of the words.
func wantCode(t testing.TB, err error, code string, words ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want SQLSTATE %s", code)
	}
	if got := pgerror.Code(err); got != code {
		t.Fatalf("got SQLSTATE %s (%v), want %s", got, err, code)
	}
	pe := pgerror.Convert(err)
	for _, w := range words {
		if !strings.Contains(pe.Message+" "+pe.Hint, w) {
			t.Errorf("error %q (hint %q) does not mention %q", pe.Message, pe.Hint, w)
		}
	}
}
