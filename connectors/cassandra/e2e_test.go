package cassandra

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sluicedb/sluice/connectors"
	"github.com/sluicedb/sluice/internal/testserver"
)

// sluiceRows flushes Sluice and returns its answer to sql as tableRows
// formats rows.
func sluiceRows(t *testing.T, conn *pgx.Conn, sql string) []string {
	t.Helper()
	ctx := testContext(t)
	if _, err := conn.Exec(ctx, "FLUSH"); err != nil {
		t.Fatal(err)
	}
	rs, err := conn.Query(ctx, sql, pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
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
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func TestEndToEndUpsertSinkFollowsAnAggregate(t *testing.T) {
	srv := cassandra(t, "CREATE TABLE ks.totals (k int PRIMARY KEY, n bigint, total bigint, label text)")
	sl := testserver.Start(t, connectors.NewRegistry(Connector()))
	conn, err := sl.Connect(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	exec := func(sql string) {
		t.Helper()
		if _, err := conn.Exec(testContext(t), sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	exec("CREATE TABLE t (id INT PRIMARY KEY, k INT, x INT)")
	exec("CREATE MATERIALIZED VIEW v AS SELECT k, count(*) AS n, sum(x) AS total, 'k' || k::text AS label FROM t GROUP BY k")
	exec(fmt.Sprintf(`CREATE SINK totals FROM v WITH (connector = 'cassandra', type = 'upsert', primary_key = 'k',
		cassandra.url = '%s', cassandra.keyspace = 'ks', cassandra.table = 'totals', cassandra.max_batch_rows = '2')`, srv.Addr()))

	steps := []string{
		"INSERT INTO t VALUES (1, 1, 10), (2, 1, 20), (3, 2, 30), (4, 3, NULL)",
		"INSERT INTO t VALUES (5, 2, 5), (6, 4, 1)",
		"UPDATE t SET x = x + 100 WHERE k = 1",
		"UPDATE t SET k = 2 WHERE id = 6",             // group 4 empties, group 2 grows
		"DELETE FROM t WHERE k = 3",                   // group 3 goes
		"INSERT INTO t VALUES (7, 3, 70), (8, 5, -1)", // group 3 comes back
		"DELETE FROM t WHERE id IN (1, 2)",
	}
	for _, step := range steps {
		exec(step)
		want := sluiceRows(t, conn, "SELECT k, n, total, label FROM v")
		// Wait for the sink to write what the view holds, woken by each
		// write the server sees, until the deadline.
		ctx, cancel := context.WithTimeout(testContext(t), 30*time.Second)
		var got []string
		err := srv.WaitFor(ctx, func() bool {
			got = tableRows(t, srv, "totals", "k", "n", "total", "label")
			return strings.Join(got, "\n") == strings.Join(want, "\n")
		})
		cancel()
		if err != nil {
			t.Fatalf("after %s:\ncassandra has:\n  %s\nthe view has:\n  %s", step, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
		}
	}
	equal(t, "final", tableRows(t, srv, "totals", "k", "n", "total", "label"), []string{"2|3|36|k2", "3|1|70|k3", "5|1|-1|k5"})
	rows, err := srv.Rows("ks", progressTable)
	if err != nil || len(rows) != 1 || rows[0]["sink_name"] != "totals" || rows[0]["epoch"].(int64) <= 0 {
		t.Errorf("progress of the sink: %v, %v", rows, err)
	}

	// CREATE SINK refuses a table that does not fit, with its SQLSTATE.
	_, err = conn.Exec(testContext(t), fmt.Sprintf(`CREATE SINK bad FROM v WITH (connector = 'cassandra', type = 'upsert',
		primary_key = 'k', cassandra.url = '%s', cassandra.keyspace = 'ks', cassandra.table = 'nope')`, srv.Addr()))
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "42P01" || !strings.Contains(pe.Message, "ks.nope") {
		t.Errorf("CREATE SINK into a missing table: %v", err)
	}
}
