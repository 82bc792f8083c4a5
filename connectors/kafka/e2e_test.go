package kafka

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedb/sluice/connectors"
	"github.com/sluicedb/sluice/engine"
	"github.com/sluicedb/sluice/internal/testserver"
)

// awaitCommitted reads topic with read_committed until msg ("key => value")
// arrives.
func awaitCommitted(t *testing.T, addr, topic, msg string) {
	t.Helper()
	cl := kclient(t, addr, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(100*time.Millisecond), kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	ctx := testContext(t)
	var seen []string
	for !slices.Contains(seen, msg) {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("waiting for %s in topic %s (read %v): %v", msg, topic, seen, ctx.Err())
		}
		for _, e := range fs.Errors() {
			t.Fatalf("consume %s: %v", topic, e.Err)
		}
		fs.EachRecord(func(r *kgo.Record) { seen = append(seen, message(r)) })
	}
}

// A sink's epoch delivered just before Sluice stops is still listed as
// undelivered in the last checkpoint, so the restarted Sluice delivers it
// again; the topic holds it once.
func TestEndToEndExactlyOnceAcrossRestarts(t *testing.T) {
	_, addr := startCluster(t, 2, []string{"totals"})
	dir := t.TempDir()
	ctx := testContext(t)
	start := func() (*testserver.Server, *pgx.Conn) {
		srv := testserver.StartWith(t, engine.Options{DataDir: dir, CheckpointInterval: time.Hour,
			Connectors: connectors.NewRegistry(Connector())})
		conn, err := srv.Connect(ctx)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close(context.Background()) })
		return srv, conn
	}
	exec := func(conn *pgx.Conn, sql string) {
		t.Helper()
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	checkpoint := func(srv *testserver.Server, conn *pgx.Conn) {
		t.Helper()
		exec(conn, "FLUSH")
		if err := srv.Engine.Checkpoint(ctx); err != nil {
			t.Fatal(err)
		}
	}

	srv, sl := start()
	exec(sl, "CREATE TABLE t (id INT PRIMARY KEY, k INT, x INT)")
	exec(sl, "CREATE MATERIALIZED VIEW v AS SELECT k, sum(x) AS total FROM t GROUP BY k")
	exec(sl, fmt.Sprintf(`CREATE SINK totals FROM v WITH (connector = 'kafka', topic = 'totals',
		properties.bootstrap.server = '%s', type = 'upsert', primary_key = 'k',
		sink.delivery.guarantee = 'exactly-once') FORMAT PLAIN ENCODE JSON`, addr))
	exec(sl, "INSERT INTO t VALUES (1, 1, 10), (2, 2, 20)")
	checkpoint(srv, sl)
	first := []string{`{"k":1} => {"k":1,"total":10}`, `{"k":2} => {"k":2,"total":20}`}
	for _, m := range first {
		awaitCommitted(t, addr, "totals", m)
	}
	srv.Stop()

	srv, sl = start()
	exec(sl, "INSERT INTO t VALUES (3, 1, 5)")
	checkpoint(srv, sl)
	// The new epoch comes after the one redelivered at start-up: once it
	// is in, the topic holds all there will be before it.
	last := `{"k":1} => {"k":1,"total":15}`
	awaitCommitted(t, addr, "totals", last)
	var got []string
	for _, r := range readRecords(t, addr, "totals", 2, kgo.ReadCommitted()) {
		got = append(got, message(r))
	}
	if want := sorted(append(first, last)); !slices.Equal(sorted(got), want) {
		t.Errorf("after the restart the topic holds\n%s\nwant\n%s", strings.Join(sorted(got), "\n"), strings.Join(want, "\n"))
	}
}
