package engine_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sluicedb/sluice/connectors"
	"github.com/sluicedb/sluice/connectors/all"
	"github.com/sluicedb/sluice/engine"
	"github.com/sluicedb/sluice/internal/testserver"
)

// changelog is a scripted change-data-capture source: batches of
// (id, name) changes appended by the test, read from any position (the
// number of batches before it), outliving engine restarts as an upstream
// database does.
type changelog struct {
	mu      sync.Mutex
	batches []changeBatch
	more    chan struct{} // closed and replaced when a batch is appended
	opened  []string      // the position of every Open
	acked   string        // the last position acknowledged to the source
	// readerAcked is the last position a checkpoint acknowledged to a
	// reader (connectors.CheckpointedReader).
	readerAcked string
}

type changeBatch struct {
	ids   []int32
	names []string // "" is NULL
	kinds []connectors.RowKind
}

func newChangelog() *changelog { return &changelog{more: make(chan struct{})} }

func (c *changelog) add(b changeBatch) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.batches = append(c.batches, b)
	close(c.more)
	c.more = make(chan struct{})
}

func (c *changelog) connector() connectors.Connector {
	return connectors.Connector{Name: "changelog", Doc: "test", NewSource: func(context.Context, connectors.SourceConfig) (connectors.Source, error) {
		return c, nil
	}}
}

func (c *changelog) Splits(context.Context) ([]connectors.Split, error) {
	return []connectors.Split{{ID: "only"}}, nil
}

func (c *changelog) Open(_ context.Context, _ connectors.Split, pos connectors.Position) (connectors.Reader, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.opened = append(c.opened, string(pos))
	next := 0
	if pos != "" {
		var err error
		if next, err = strconv.Atoi(string(pos)); err != nil {
			return nil, err
		}
	}
	return &changelogReader{c: c, next: next}, nil
}

func (c *changelog) Acknowledge(_ context.Context, _ connectors.Split, pos connectors.Position) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.acked = string(pos)
	return nil
}

type changelogReader struct {
	c    *changelog
	next int
}

func (r *changelogReader) Next(ctx context.Context) (connectors.Batch, error) {
	for {
		r.c.mu.Lock()
		more := r.c.more
		if r.next < len(r.c.batches) {
			b := r.c.batches[r.next]
			r.c.mu.Unlock()
			r.next++
			return connectors.Batch{Record: b.record(), Kinds: b.kinds, Position: connectors.Position(strconv.Itoa(r.next))}, nil
		}
		r.c.mu.Unlock()
		select {
		case <-more:
		case <-ctx.Done():
			return connectors.Batch{}, ctx.Err()
		}
	}
}

func (r *changelogReader) Close() error { return nil }

func (r *changelogReader) Acknowledge(_ context.Context, pos connectors.Position) error {
	r.c.mu.Lock()
	defer r.c.mu.Unlock()
	r.c.readerAcked = string(pos)
	return nil
}

func (b changeBatch) record() arrow.Record {
	ids := array.NewInt32Builder(memory.DefaultAllocator)
	names := array.NewStringBuilder(memory.DefaultAllocator)
	for i, id := range b.ids {
		ids.Append(id)
		if b.names[i] == "" {
			names.AppendNull()
		} else {
			names.Append(b.names[i])
		}
	}
	schema := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true}}, nil)
	cols := []arrow.Array{ids.NewArray(), names.NewArray()}
	defer cols[0].Release()
	defer cols[1].Release()
	return array.NewRecord(schema, cols, int64(len(b.ids)))
}

var _ connectors.ChangelogSource = (*changelog)(nil)

const (
	ins = connectors.RowInsert
	del = connectors.RowDelete
)

// awaitRows polls query until it returns want (rows joined by "; ").
func awaitRows(t *testing.T, ctx context.Context, conn *pgx.Conn, query, want string) {
	t.Helper()
	var got string
	for {
		var rows []string
		for _, r := range queryText(t, ctx, conn, query) {
			rows = append(rows, strings.Join(r, " "))
		}
		if got = strings.Join(rows, "; "); got == want {
			return
		}
		if waitTick(ctx) != nil {
			t.Fatalf("%s = %q, want %q", query, got, want)
		}
	}
}

// A table fed by a changelog applies inserts, updates (a new image of a
// key) and deletes by primary key, in order, views on it follow, and a
// restart resumes after the last change the table holds.
func TestChangelogFedTable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	feed := newChangelog()
	registry := connectors.NewRegistry(feed.connector())
	opts := engine.Options{Connectors: registry, DataDir: filepath.Join(t.TempDir(), "data"), CheckpointInterval: time.Hour}

	first := testserver.StartWith(t, opts)
	conn := connect(t, ctx, first)
	exec(t, conn, `CREATE TABLE people (id INT PRIMARY KEY, name TEXT) WITH (connector = 'changelog')`)
	exec(t, conn, `CREATE MATERIALIZED VIEW by_name AS SELECT name, count(*) AS n FROM people GROUP BY name`)
	feed.add(changeBatch{ids: []int32{1, 2, 3}, names: []string{"ann", "bob", "ann"}, kinds: []connectors.RowKind{ins, ins, ins}})
	feed.add(changeBatch{ids: []int32{2, 3}, names: []string{"cy", ""}, kinds: []connectors.RowKind{ins, del}})
	// The same key twice in one batch, and a change that changes nothing.
	feed.add(changeBatch{ids: []int32{4, 4, 1}, names: []string{"ann", "bob", "ann"}, kinds: []connectors.RowKind{ins, ins, ins}})
	awaitRows(t, ctx, conn, "SELECT id, name FROM people ORDER BY id", "1 ann; 2 cy; 4 bob")
	awaitRows(t, ctx, conn, "SELECT name, n FROM by_name ORDER BY name", "ann 1; bob 1; cy 1")
	if err := first.Engine.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	// After the checkpoint, before the stop.
	feed.add(changeBatch{ids: []int32{1, 5}, names: []string{"", "dee"}, kinds: []connectors.RowKind{del, ins}})
	awaitRows(t, ctx, conn, "SELECT id, name FROM people ORDER BY id", "2 cy; 4 bob; 5 dee")
	first.Stop()

	feed.add(changeBatch{ids: []int32{6, 2}, names: []string{"eve", "cy"}, kinds: []connectors.RowKind{ins, del}})
	second := testserver.StartWith(t, opts)
	conn = connect(t, ctx, second)
	awaitRows(t, ctx, conn, "SELECT id, name FROM people ORDER BY id", "4 bob; 5 dee; 6 eve")
	awaitRows(t, ctx, conn, "SELECT name, n FROM by_name ORDER BY name", "bob 1; dee 1; eve 1")

	feed.mu.Lock()
	defer feed.mu.Unlock()
	if got, want := fmt.Sprint(feed.opened), "[ 4]"; got != want {
		t.Errorf("the feed was opened at %s, want %s: the first time from the start, after the restart after the 4 batches applied", got, want)
	}
	if feed.acked != "5" {
		t.Errorf("acknowledged position %q, want 5", feed.acked)
	}
}

// Debezium change events read from a file (as from a Kafka topic) keep a
// table equal to the upstream table, deletes and key changes included.
func TestDebeziumEventsFeedATable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	path := filepath.Join(t.TempDir(), "changes.jsonl")
	write := func(lines ...string) {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.WriteString(strings.Join(lines, "\n") + "\n"); err != nil {
			t.Fatal(err)
		}
	}
	write(
		`{"before": null, "after": {"id": 1, "name": "ann", "balance": 10}, "op": "r"}`,
		`{"before": null, "after": {"id": 2, "name": "bob", "balance": 20}, "op": "c"}`,
		`{"payload": {"before": {"id": 2, "name": "bob", "balance": 20}, "after": {"id": 2, "name": "bob", "balance": 25}, "op": "u"}}`,
		`{"op": "c", "after": {"id": 3, "name": "cy", "balance": "lots"}}`, // a bad record: counted, skipped
	)
	srv := testserver.Start(t, all.Registry())
	conn := connect(t, ctx, srv)
	_, err := conn.Exec(ctx, fmt.Sprintf(`CREATE SOURCE s (id INT, name TEXT) WITH (connector = 'file', path = '%s') FORMAT DEBEZIUM ENCODE JSON`, path))
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "0A000" || !strings.Contains(pgErr.Hint, "CREATE TABLE") {
		t.Errorf("a source with FORMAT DEBEZIUM: %v, want 0A000 with a hint pointing to CREATE TABLE", err)
	}
	exec(t, conn, fmt.Sprintf(`CREATE TABLE accounts (id INT PRIMARY KEY, name TEXT, balance BIGINT)
		WITH (connector = 'file', path = '%s') FORMAT DEBEZIUM ENCODE JSON`, path))
	exec(t, conn, `CREATE MATERIALIZED VIEW total AS SELECT count(*) AS n, sum(balance) AS balance FROM accounts`)
	awaitRows(t, ctx, conn, "SELECT id, name, balance FROM accounts ORDER BY id", "1 ann 10; 2 bob 25")
	awaitRows(t, ctx, conn, "SELECT n, balance FROM total", "2 35")
	// A delete, and a key change (a delete of the old key, a create of the new).
	write(
		`{"before": {"id": 1}, "after": null, "op": "d"}`,
		`{"before": {"id": 2, "name": "bob", "balance": 25}, "after": null, "op": "d"}`,
		`{"before": null, "after": {"id": 4, "name": "bob", "balance": 25}, "op": "c"}`,
	)
	awaitRows(t, ctx, conn, "SELECT id, name, balance FROM accounts ORDER BY id", "4 bob 25")
	awaitRows(t, ctx, conn, "SELECT n, balance FROM total", "1 25")
	if got := sourceCounter(t, ctx, conn, "accounts", "error_rows"); got != 1 {
		t.Errorf("error_rows = %d, want the 1 bad record", got)
	}
}

// A reader of a system that keeps messages until told is told only once a
// checkpoint holding them is durable, with the position the checkpoint holds.
func TestReadersAreAcknowledgedAfterTheCheckpoint(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	feed := newChangelog()
	registry := connectors.NewRegistry(feed.connector())
	opts := engine.Options{Connectors: registry, DataDir: filepath.Join(t.TempDir(), "data"), CheckpointInterval: time.Hour}
	srv := testserver.StartWith(t, opts)
	conn := connect(t, ctx, srv)
	exec(t, conn, `CREATE SOURCE people (id INT, name TEXT) WITH (connector = 'changelog')`)
	exec(t, conn, `CREATE MATERIALIZED VIEW n AS SELECT count(*) AS n FROM people`)
	feed.add(changeBatch{ids: []int32{1, 2}, names: []string{"a", "b"}, kinds: []connectors.RowKind{ins, ins}})
	feed.add(changeBatch{ids: []int32{3}, names: []string{"c"}, kinds: []connectors.RowKind{ins}})
	awaitRows(t, ctx, conn, "SELECT n FROM n", "3")
	feed.mu.Lock()
	early := feed.readerAcked
	feed.mu.Unlock()
	if early != "" {
		t.Fatalf("acknowledged %q before any checkpoint", early)
	}
	if err := srv.Engine.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	feed.mu.Lock()
	defer feed.mu.Unlock()
	if feed.readerAcked != "2" {
		t.Errorf("after the checkpoint the reader was acknowledged %q, want 2 (after both batches)", feed.readerAcked)
	}
}
