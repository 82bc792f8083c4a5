package postgres

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sluicedb/sluice/connectors"
	"github.com/sluicedb/sluice/connectors/datagen"
	"github.com/sluicedb/sluice/internal/testserver"
)

// sluice starts an engine that knows the postgres sink and returns a client
// connection to it.
func sluice(t *testing.T) *pgx.Conn {
	t.Helper()
	srv := testserver.Start(t, connectors.NewRegistry(Connector(), datagen.Connector()))
	conn, err := srv.Connect(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// awaitEqual waits until PostgreSQL's answer to pgSQL equals want, failing
// the test with the last difference if it does not within the deadline.
func awaitEqual(t *testing.T, pg *pgx.Conn, pgSQL string, want []string) {
	t.Helper()
	want = sorted(want)
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := queryText(testContext(t), pg, pgSQL)
		if err == nil && strings.Join(got, "\n") == strings.Join(want, "\n") {
			return
		}
		if time.Now().After(deadline) {
			if err != nil {
				t.Fatalf("%s: %v", pgSQL, err)
			}
			equal(t, pgSQL, got, want)
			t.FailNow()
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// viewRows flushes Sluice and returns its answer to sql.
func viewRows(t *testing.T, sl *pgx.Conn, sql string) []string {
	t.Helper()
	exec(t, sl, "FLUSH")
	return rows(t, sl, sql)
}

func TestEndToEndUpsertSinkFollowsAnAggregate(t *testing.T) {
	pg := requirePG(t)
	table := tableName(t, pg)
	sl := sluice(t)
	exec(t, sl, "CREATE TABLE t (id INT PRIMARY KEY, k INT, x INT)")
	exec(t, sl, "CREATE MATERIALIZED VIEW v AS SELECT k, count(*) AS n, sum(x) AS total FROM t GROUP BY k")
	exec(t, sl, fmt.Sprintf(`CREATE SINK totals FROM v WITH (connector = 'postgres', url = '%s', table = '%s',
		type = 'upsert', primary_key = 'k', auto.create = 'true')`, testURL, table))

	steps := []string{
		"INSERT INTO t VALUES (1, 1, 10), (2, 1, 20), (3, 2, 30), (4, 3, NULL)",
		"INSERT INTO t VALUES (5, 2, 5), (6, 4, 1)",
		"UPDATE t SET x = x + 100 WHERE k = 1",
		"UPDATE t SET k = 2 WHERE id = 6",             // group 4 empties, group 2 grows
		"DELETE FROM t WHERE k = 3",                   // group 3 goes
		"UPDATE t SET x = 7 WHERE id = 4",             // no row: nothing changes
		"INSERT INTO t VALUES (7, 3, 70), (8, 5, -1)", // group 3 comes back
		"DELETE FROM t WHERE id IN (1, 2)",
	}
	for _, step := range steps {
		exec(t, sl, step)
		want := viewRows(t, sl, "SELECT k, n, total FROM v")
		awaitEqual(t, pg, fmt.Sprintf("SELECT k, n, total FROM %s", table), want)
	}
	awaitEqual(t, pg, "SELECT k, n, total FROM "+table, []string{"2|3|36", "3|1|70", "5|1|-1"})

	// The table was created with Sluice's types and the key.
	equal(t, "columns", rows(t, pg, fmt.Sprintf(
		`SELECT attname, format_type(atttypid, atttypmod), attnotnull FROM pg_attribute
		WHERE attrelid = '%s'::regclass AND attnum > 0`, table)),
		[]string{"k|integer|t", "n|bigint|f", "total|bigint|f"})
	var epoch int64
	if err := pg.QueryRow(testContext(t), "SELECT epoch FROM "+progressTable+" WHERE sink_name = 'totals' AND table_name = $1",
		table).Scan(&epoch); err != nil || epoch <= 0 {
		t.Errorf("progress of the sink: %d, %v", epoch, err)
	}
}

func TestEndToEndAppendOnlySinks(t *testing.T) {
	pg := requirePG(t)
	events, numbers := tableName(t, pg), tableName(t, pg)
	exec(t, pg, fmt.Sprintf("CREATE TABLE %s (id integer, name text, at timestamp, amount numeric, received timestamptz DEFAULT now())", events))
	sl := sluice(t)

	// From a query over an append-only table, into an existing table with
	// a column of its own; the view big, the same query, is the reference.
	exec(t, sl, "CREATE TABLE ev (id INT, name TEXT, at TIMESTAMP, amount NUMERIC) APPEND ONLY")
	exec(t, sl, "CREATE MATERIALIZED VIEW big AS SELECT id, upper(name) AS name, at, amount FROM ev WHERE amount > 1")
	exec(t, sl, fmt.Sprintf(`CREATE SINK ev_out AS SELECT id, upper(name) AS name, at, amount FROM ev WHERE amount > 1
		WITH (connector = 'postgres', url = '%s', table = '%s')`, testURL, events))
	const cols = "id, name, at, amount"
	exec(t, sl, "INSERT INTO ev VALUES (1, 'ann', '2026-01-02 03:04:05', 1.5), (2, 'bob', '2026-01-02 03:04:06', 0.5)")
	exec(t, sl, "INSERT INTO ev VALUES (3, 'cy', NULL, 2), (4, NULL, '2026-01-02 03:04:07.25', 1e6)")
	awaitEqual(t, pg, "SELECT "+cols+" FROM "+events, viewRows(t, sl, "SELECT "+cols+" FROM big"))
	awaitEqual(t, pg, "SELECT "+cols+" FROM "+events, []string{
		"1|ANN|2026-01-02 03:04:05|1.5",
		"3|CY|NULL|2",
		"4|NULL|2026-01-02 03:04:07.25|1000000",
	})

	// From a source, with a query of its own, into a table it creates.
	exec(t, sl, `CREATE SOURCE gen (n BIGINT) WITH (connector = 'datagen', datagen.rows.per.second = '0',
		fields.n.kind = 'sequence', fields.n.start = '1', fields.n.end = '300')`)
	exec(t, sl, fmt.Sprintf(`CREATE SINK gen_out AS SELECT n, n * n AS square FROM gen
		WITH (connector = 'postgres', url = '%s', table = '%s', auto.create = 'true', batch.rows = '64')`,
		testURL, numbers))
	awaitEqual(t, pg, fmt.Sprintf("SELECT count(*), sum(n), sum(square), count(DISTINCT n) FROM %s", numbers),
		[]string{"300|45150|9045050|300"})
}
