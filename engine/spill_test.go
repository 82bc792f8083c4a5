package engine_test

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sluicedb/sluice/connectors/all"
	"github.com/sluicedb/sluice/engine"
	"github.com/sluicedb/sluice/internal/testserver"
)

// spillViews keep state that can spill: the groups of an aggregation (with
// min and max over a retracting input) and a view's rows; the view over a
// view reads its input's rows through a spilled store.
var spillViews = []struct{ name, view, oracle string }{
	{"by_group",
		`SELECT g, count(*) AS n, sum(v) AS total, min(v) AS lo, max(v) AS hi FROM t GROUP BY g`,
		`SELECT g, count(*), sum(v), min(v), max(v) FROM t GROUP BY g ORDER BY g`},
	{"kept",
		`SELECT k, g, v FROM t WHERE v % 3 <> 0`,
		`SELECT k, g, v FROM t WHERE v % 3 <> 0 ORDER BY k`},
	{"group_sizes",
		`SELECT n, count(*) AS groups FROM by_group GROUP BY n`,
		`SELECT n, count(*) FROM (SELECT g, count(*) AS n FROM t GROUP BY g) s GROUP BY n ORDER BY n`},
}

// checkSpillViews compares every view with the same query run over the
// table as a batch.
func checkSpillViews(t *testing.T, ctx context.Context, conn *pgx.Conn, when string) {
	t.Helper()
	exec(t, conn, "FLUSH")
	for _, v := range spillViews {
		want := queryText(t, ctx, conn, v.oracle)
		if len(want) == 0 {
			t.Fatalf("%s: the batch answer is empty; the test proves nothing", v.name)
		}
		got := queryText(t, ctx, conn, "SELECT * FROM "+v.name+" ORDER BY 1")
		compareRows(t, v.name+" "+when, got, want)
	}
}

// changeSpillTable inserts rows k in [from, from+n), each group g = k % 700
// getting a few, then updates and deletes some of the rows before them, so
// that groups evicted earlier are read back, changed and emptied.
func changeSpillTable(t *testing.T, conn *pgx.Conn, from, n int) {
	t.Helper()
	insertRows(t, conn, "t", n, func(i int) string {
		k := from + i - 1
		return fmt.Sprintf("(%d, %d, %d)", k, k%700, (k*7919)%1000-300)
	})
	exec(t, conn, fmt.Sprintf("UPDATE t SET v = v + 11 WHERE k %% 13 = 0 AND k < %d", from))
	exec(t, conn, fmt.Sprintf("DELETE FROM t WHERE k %% 17 = 0 AND k < %d", from))
	exec(t, conn, fmt.Sprintf("DELETE FROM t WHERE g = %d", from%700)) // a whole group goes
}

// With a memory limit, aggregation groups and view rows that a durable
// checkpoint holds are dropped from memory and read back from the store
// when a change needs them; the views stay equal to the batch answer
// throughout, and a restart starts without loading them.
func TestStateSpillsBeyondTheMemoryLimit(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// A limit of one byte: every eviction round evicts every entry it may.
	opts := engine.Options{Connectors: all.Registry(), DataDir: filepath.Join(t.TempDir(), "data"),
		CheckpointInterval: time.Hour, MemoryLimit: 1}
	srv := testserver.StartWith(t, opts)
	conn := connect(t, ctx, srv)
	exec(t, conn, `CREATE TABLE t (k INT PRIMARY KEY, g INT, v BIGINT)`)
	for _, v := range spillViews {
		exec(t, conn, "CREATE MATERIALIZED VIEW "+v.name+" AS "+v.view)
	}
	checkpoint := func(e *engine.Engine) {
		t.Helper()
		exec(t, conn, "FLUSH")
		runtime.GC() // the live heap the eviction round is decided on
		if err := e.Checkpoint(ctx); err != nil {
			t.Fatal(err)
		}
		exec(t, conn, "FLUSH") // the barrier at which operators evict
	}
	next := 0
	for round := 0; round < 4; round++ {
		changeSpillTable(t, conn, next, 2000)
		next += 2000
		checkSpillViews(t, ctx, conn, fmt.Sprintf("in round %d", round))
		checkpoint(srv.Engine)
	}
	st := srv.Engine.Spill()
	if st.Evicted == 0 || st.Reloaded == 0 {
		t.Fatalf("spill status %+v: entries should have been evicted and read back", st)
	}
	// Changes, then a stop: the restart reads the views' state from the
	// checkpoint only when needed. (The limit of one byte asks for a
	// checkpoint every 50 ms, so these changes are likely in one.)
	changeSpillTable(t, conn, next, 1000)
	next += 1000
	checkSpillViews(t, ctx, conn, "before the restart")
	conn.Close(ctx)
	srv.Stop()

	srv = testserver.StartWith(t, opts)
	conn = connect(t, ctx, srv)
	checkSpillViews(t, ctx, conn, "after the restart")
	for round := 0; round < 2; round++ {
		changeSpillTable(t, conn, next, 1000)
		next += 1000
		checkpoint(srv.Engine)
		checkSpillViews(t, ctx, conn, fmt.Sprintf("in round %d after the restart", round))
	}
	if st := srv.Engine.Spill(); st.Reloaded == 0 {
		t.Errorf("spill status after the restart %+v: changes to groups left in the store should have read them back", st)
	}
}
