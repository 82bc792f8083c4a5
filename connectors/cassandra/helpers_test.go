package cassandra

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sluicedb/sluice/connectors"
	"github.com/sluicedb/sluice/internal/cqltest"
	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/types"
)

func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// cassandra starts a test server with keyspace ks and the tables of ddl
// (CQL statements separated by semicolons).
func cassandra(t testing.TB, ddl string) *cqltest.Server {
	t.Helper()
	srv := cqltest.Start(t, cqltest.Options{})
	if err := srv.Exec("CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1};" + ddl); err != nil {
		t.Fatal(err)
	}
	return srv
}

// sinkConfig is the configuration CREATE SINK ... WITH (cassandra.url =
// srv, cassandra.keyspace = 'ks', cassandra.table = table, extra...) would
// give.
func sinkConfig(t testing.TB, srv *cqltest.Server, schema types.Schema, typ string, pk []int, table string, extra map[string]string) connectors.SinkConfig {
	t.Helper()
	opts := map[string]string{optURL: srv.Addr(), optKeyspace: "ks", optTable: table}
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
	s.backoff = time.Millisecond // retries need not wait in tests
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

// tableRows returns the rows of ks.table as text, the columns in the order
// given, values as fmt prints them ('|' between them, NULL for null),
// sorted.
func tableRows(t testing.TB, srv *cqltest.Server, table string, cols ...string) []string {
	t.Helper()
	rows, err := srv.Rows("ks", table)
	if err != nil {
		t.Fatal(err)
	}
	return format(rows, cols)
}

func format(rows []map[string]any, cols []string) []string {
	var out []string
	for _, r := range rows {
		vals := make([]string, len(cols))
		for i, c := range cols {
			switch v := r[c].(type) {
			case nil:
				vals[i] = "NULL"
			case time.Time:
				vals[i] = v.Format("2006-01-02 15:04:05.999")
			default:
				vals[i] = fmt.Sprint(v)
			}
		}
		out = append(out, strings.Join(vals, "|"))
	}
	sort.Strings(out)
	return out
}

func equal(t testing.TB, what string, got, want []string) {
	t.Helper()
	want = append([]string(nil), want...)
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\ngot:\n  %s\nwant:\n  %s", what, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// wantCode fails unless err carries SQLSTATE code and its message or hint
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
