package engine_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sluicedb/sluice/connectors"
	"github.com/sluicedb/sluice/connectors/all"
	"github.com/sluicedb/sluice/engine"
	"github.com/sluicedb/sluice/internal/testserver"
	"github.com/sluicedb/sluice/types"
)

// recoveryViews exercise every operator that keeps state across epochs:
// windowed and plain aggregates (with min/max over a retracting input and
// count(DISTINCT)), EMIT ON WINDOW CLOSE, sessions, Top-N, a join with a
// table that changes, and a view over a view.
var recoveryViews = []struct{ name, query, order string }{
	{"tumble_stats", `SELECT window_start, window_end, k, count(*) AS n, sum(v) AS total, min(v) AS lo, max(v) AS hi, avg(v) AS mean
		FROM TUMBLE(events, ts, INTERVAL '10' SECOND) GROUP BY window_start, window_end, k`, "window_start, k"},
	{"eowc_counts", `SELECT window_start, k, count(*) AS n FROM TUMBLE(events, ts, INTERVAL '10' SECOND)
		GROUP BY window_start, k EMIT ON WINDOW CLOSE`, "window_start, k"},
	{"totals", `SELECT k, count(*) AS n, sum(v) AS total, count(DISTINCT v % 7) AS residues, stddev(v) AS sd FROM events GROUP BY k`, "k"},
	{"sessions", `SELECT k, window_start, window_end, count(*) AS n FROM SESSION(events, ts, INTERVAL '3' SECOND)
		GROUP BY k, window_start, window_end`, "k, window_start"},
	{"top3", `SELECT * FROM (SELECT k, v, ts, ROW_NUMBER() OVER (PARTITION BY k ORDER BY v DESC, ts) AS rn FROM events) t
		WHERE rn <= 3`, "k, rn"},
	{"by_name", `SELECT d.name, count(*) AS n, max(e.v) AS hi FROM events e JOIN dims d ON e.k = d.k GROUP BY d.name`, "name"},
	{"extremes", `SELECT min(lo) AS lo, max(hi) AS hi, sum(n) AS n FROM tumble_stats`, "lo"},
	{"by_name_kinds", `SELECT name, count(*) AS kinds FROM dims GROUP BY name`, "name"},
	{"kind_counts", `SELECT kinds, count(*) AS names FROM by_name_kinds GROUP BY kinds`, "kinds"},
	{"near_pairs", `SELECT a.k, count(*) AS n FROM events a JOIN events b ON a.k = b.k
		AND b.ts BETWEEN a.ts - INTERVAL '2' SECOND AND a.ts + INTERVAL '2' SECOND GROUP BY a.k`, "k"},
	{"window_pairs", `SELECT a.window_start, a.k, count(*) AS n FROM TUMBLE(events, ts, INTERVAL '10' SECOND) a
		JOIN TUMBLE(events, ts, INTERVAL '10' SECOND) b ON a.k = b.k AND a.window_start = b.window_start
		GROUP BY a.window_start, a.k`, "window_start, k"},
	{"running", `SELECT k, ts, v, sum(v) OVER (PARTITION BY k ORDER BY ts, v) AS running, lag(v) OVER (PARTITION BY k ORDER BY ts, v) AS prev,
		rank() OVER (PARTITION BY k ORDER BY ts, v) AS r FROM events`, "k, ts, v"},
	{"best_per_window", `SELECT * FROM (SELECT window_start, k, v, ROW_NUMBER() OVER (PARTITION BY window_start ORDER BY v DESC, k) AS rn
		FROM TUMBLE(events, ts, INTERVAL '10' SECOND)) t WHERE rn <= 2`, "window_start, rn"},
}

func createRecoveryPipeline(t *testing.T, conn *pgx.Conn, path string) {
	t.Helper()
	exec(t, conn, `CREATE TABLE dims (k INT PRIMARY KEY, name TEXT)`)
	exec(t, conn, `INSERT INTO dims VALUES (0, 'zero'), (1, 'one'), (2, 'two'), (3, 'three'), (4, 'four'), (5, 'five')`)
	exec(t, conn, fmt.Sprintf(`CREATE SOURCE events (k INT, v BIGINT, ts TIMESTAMP, WATERMARK FOR ts AS ts - INTERVAL '5' SECOND)
		WITH (connector = 'file', path = '%s') FORMAT PLAIN ENCODE JSON`, path))
	for _, v := range recoveryViews {
		exec(t, conn, "CREATE MATERIALIZED VIEW "+v.name+" AS "+v.query)
	}
}

// changeDims is what happens to the table after the checkpoint, before the
// crash: an update, a delete and inserts.
const changeDims = `UPDATE dims SET name = 'uno' WHERE k = 1;
	DELETE FROM dims WHERE k = 2;
	INSERT INTO dims VALUES (6, 'six'), (7, 'seven'), (8, 'one')`

// A view restored from a checkpoint, whose source resumes at the checkpoint's
// position and whose table sends what changed after it, ends equal to a view
// that never stopped: nothing read before the checkpoint is counted twice,
// nothing after it is lost.
func TestRecoveryFromCheckpointIsExactlyOnce(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	events := outOfOrderEvents(11, 4000)
	dir := t.TempDir()
	path := filepath.Join(dir, "events.jsonl")
	dataDir := filepath.Join(dir, "data")
	opts := engine.Options{Connectors: all.Registry(), DataDir: dataDir, CheckpointInterval: time.Hour}

	// Before the last checkpoint: 1,500 events in three parts, each followed
	// by a checkpoint, so that the last two write only what changed (groups
	// and rows added, changed, and freed as windows close), and the table's
	// first rows.
	writeJSONLines(t, path, events[:500], false)
	first := testserver.StartWith(t, opts)
	conn := connect(t, ctx, first)
	createRecoveryPipeline(t, conn, path)
	for _, upTo := range []int{500, 1000, 1500} {
		if upTo > 500 {
			writeJSONLines(t, path, events[upTo-500:upTo], true)
		}
		waitForSource(t, ctx, conn, "events", int64(upTo))
		exec(t, conn, "FLUSH")
		if err := first.Engine.Checkpoint(ctx); err != nil {
			t.Fatalf("checkpoint: %v", err)
		}
	}
	// After it: more events and table changes, all visible, then a stop
	// that takes no checkpoint, so they exist only in the inputs.
	writeJSONLines(t, path, events[1500:3000], true)
	exec(t, conn, changeDims)
	waitForSource(t, ctx, conn, "events", 3000)
	exec(t, conn, "FLUSH")
	conn.Close(ctx)
	first.Stop()

	// While it is down, more events arrive.
	writeJSONLines(t, path, events[3000:], true)
	second := testserver.StartWith(t, opts)
	conn = connect(t, ctx, second)
	// The source resumes after the 1,500 events of the checkpoint.
	waitForSource(t, ctx, conn, "events", 2500)
	exec(t, conn, "FLUSH")

	// The same pipeline over the same inputs, never stopped.
	reference := testserver.Start(t, all.Registry())
	ref := connect(t, ctx, reference)
	createRecoveryPipeline(t, ref, path)
	exec(t, ref, changeDims)
	waitForSource(t, ctx, ref, "events", 4000)
	exec(t, ref, "FLUSH")

	for _, v := range recoveryViews {
		q := "SELECT * FROM " + v.name + " ORDER BY " + v.order
		got, want := queryText(t, ctx, conn, q), queryText(t, ctx, ref, q)
		if len(want) == 0 {
			t.Fatalf("%s: the reference view is empty; the test proves nothing", v.name)
		}
		compareRows(t, v.name+" after recovery", got, want)
	}
}

func connect(t *testing.T, ctx context.Context, srv *testserver.Server) *pgx.Conn {
	t.Helper()
	conn, err := srv.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// recorder is a sink that keeps what it is given in memory, across engine
// restarts, and records its last committed epoch with the rows, as an
// EpochRecorder sink does in its outside system. While down it refuses
// every commit; with loseAck it commits an epoch but reports a failure, as
// when a connection drops after the commit.
type recorder struct {
	mu        sync.Mutex
	rows      []string
	last      uint64
	down      bool
	loseAck   int // the number of commits still to report as failed
	delivered int // commits that took effect
}

func (r *recorder) connector() connectors.Connector {
	return connectors.Connector{Name: "recorder", Sink: &connectors.SinkSpec{
		Types: []string{"append-only"}, Guarantee: "exactly-once",
		NewSink: func(_ context.Context, cfg connectors.SinkConfig) (connectors.Sink, error) {
			return &recorderSink{r: r, types: cfg.Schema.Types()}, nil
		},
	}}
}

type recorderSink struct {
	r       *recorder
	types   []types.T
	pending []string
}

func (s *recorderSink) Write(_ context.Context, b connectors.SinkBatch) error {
	for i := 0; i < int(b.Record.NumRows()); i++ {
		var row []string
		for c, col := range b.Record.Columns() {
			row = append(row, string(types.AppendText(nil, col, i, s.types[c])))
		}
		s.pending = append(s.pending, strings.Join(row, "|"))
	}
	return nil
}

func (s *recorderSink) Commit(_ context.Context, epoch uint64) error {
	r := s.r
	r.mu.Lock()
	defer r.mu.Unlock()
	rows := s.pending
	s.pending = nil
	if r.down {
		return fmt.Errorf("recorder is down")
	}
	if epoch <= r.last {
		return nil // already holds it
	}
	r.rows = append(r.rows, rows...)
	r.last = epoch
	r.delivered++
	if r.loseAck > 0 {
		r.loseAck--
		return fmt.Errorf("connection lost after the commit")
	}
	return nil
}

func (s *recorderSink) LastCommitted(context.Context) (uint64, error) {
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	return s.r.last, nil
}

func (s *recorderSink) Close() error { return nil }

func (r *recorder) snapshot() (rows []string, delivered int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.rows...), r.delivered
}

// A sink is given an epoch only once a checkpoint holds it; the epochs a
// crash leaves undelivered are in the checkpoint and are delivered after the
// restart, and one the sink already holds (its acknowledgement lost) is not
// delivered again: the sink ends with exactly the view's rows.
func TestSinkDeliveryAcrossRestartIsExactlyOnce(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	events := outOfOrderEvents(12, 3000)
	dir := t.TempDir()
	path := filepath.Join(dir, "events.jsonl")
	rec := &recorder{down: true}
	registry := connectors.NewRegistry(append(all.Registry().All(), rec.connector())...)
	opts := engine.Options{Connectors: registry, DataDir: filepath.Join(dir, "data"), CheckpointInterval: time.Hour}
	const pipeline = `CREATE SOURCE events (k INT, v BIGINT, ts TIMESTAMP, WATERMARK FOR ts AS ts - INTERVAL '5' SECOND)
		WITH (connector = 'file', path = '%s') FORMAT PLAIN ENCODE JSON;
		CREATE MATERIALIZED VIEW counts AS SELECT window_start, k, count(*) AS n FROM TUMBLE(events, ts, INTERVAL '10' SECOND)
		GROUP BY window_start, k EMIT ON WINDOW CLOSE;
		CREATE SINK out FROM counts WITH (connector = 'recorder')`

	// The sink is down: what the checkpoint holds stays undelivered.
	writeJSONLines(t, path, events[:1000], false)
	first := testserver.StartWith(t, opts)
	conn := connect(t, ctx, first)
	exec(t, conn, fmt.Sprintf(pipeline, path))
	waitForSource(t, ctx, conn, "events", 1000)
	exec(t, conn, "FLUSH")
	if err := first.Engine.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	writeJSONLines(t, path, events[1000:2000], true)
	waitForSource(t, ctx, conn, "events", 2000)
	exec(t, conn, "FLUSH")
	first.Stop()
	if rows, _ := rec.snapshot(); len(rows) != 0 {
		t.Fatalf("the sink was down, yet %d rows arrived", len(rows))
	}

	// Back up, but the first commit's acknowledgement is lost.
	rec.mu.Lock()
	rec.down, rec.loseAck = false, 1
	rec.mu.Unlock()
	writeJSONLines(t, path, events[2000:], true)
	second := testserver.StartWith(t, opts)
	conn = connect(t, ctx, second)
	waitForSource(t, ctx, conn, "events", 2000)
	exec(t, conn, "FLUSH")
	if err := second.Engine.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	want := queryText(t, ctx, conn, "SELECT window_start, k, n FROM counts")
	if len(want) == 0 {
		t.Fatal("the view is empty; the test proves nothing")
	}
	var got []string
	delivered := 0
	deadline := time.Now().Add(time.Minute)
	for {
		got, delivered = rec.snapshot()
		if len(got) >= len(want) || time.Now().After(deadline) {
			break
		}
		if err := waitTick(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if delivered < 2 {
		t.Errorf("%d epochs delivered; the test meant to lose an acknowledgement and deliver after it", delivered)
	}
	wantRows := make([]string, len(want))
	for i, row := range want {
		wantRows[i] = strings.Join(row, "|")
	}
	sort.Strings(got)
	sort.Strings(wantRows)
	if strings.Join(got, "\n") != strings.Join(wantRows, "\n") {
		t.Errorf("the sink has %d rows, the view %d; they differ:\nsink:\n%s\nview:\n%s", len(got), len(wantRows),
			strings.Join(got, "\n"), strings.Join(wantRows, "\n"))
	}
}

// waitTick waits a polling interval, or until ctx ends.
func waitTick(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(20 * time.Millisecond):
		return nil
	}
}

// A clean stop takes a last checkpoint: the restart resumes exactly there,
// with nothing to read again.
func TestShutdownTakesALastCheckpoint(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir := t.TempDir()
	path := filepath.Join(dir, "events.jsonl")
	writeJSONLines(t, path, outOfOrderEvents(13, 300), false)
	opts := engine.Options{Connectors: all.Registry(), DataDir: filepath.Join(dir, "data"), CheckpointInterval: time.Hour}
	first := testserver.StartWith(t, opts)
	conn := connect(t, ctx, first)
	exec(t, conn, fmt.Sprintf(`CREATE SOURCE events (k INT, v BIGINT, ts TIMESTAMP) WITH (connector = 'file', path = '%s') FORMAT PLAIN ENCODE JSON`, path))
	exec(t, conn, `CREATE MATERIALIZED VIEW n AS SELECT count(*) AS n FROM events`)
	waitForSource(t, ctx, conn, "events", 300)
	exec(t, conn, "FLUSH")
	if err := first.Engine.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	first.Stop()

	second := testserver.StartWith(t, opts)
	conn = connect(t, ctx, second)
	if got := second.Engine.Checkpoints().LastEpoch; got == 0 {
		t.Fatal("the restart found no checkpoint")
	}
	awaitRows(t, ctx, conn, "SELECT n FROM n", "300")
	if got := sourceCounter(t, ctx, conn, "events", "rows"); got != 0 {
		t.Errorf("the restart read %d rows again; a clean stop should leave nothing to read", got)
	}
}
