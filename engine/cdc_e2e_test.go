package engine_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sluicedb/sluice/connectors/all"
	"github.com/sluicedb/sluice/engine"
	"github.com/sluicedb/sluice/internal/sqllogictest"
	"github.com/sluicedb/sluice/internal/testserver"
)

// The check for change data capture: a PostgreSQL table changed by a
// workload of inserts, updates (key changes too) and deletes while a CDC
// table and an aggregate view on it run, with Sluice stopped in the middle
// while the workload goes on; at the end the view equals PostgreSQL's own
// aggregate over the table.
func TestCDCViewEqualsPostgreSQLAcrossARestart(t *testing.T) {
	sqllogictest.RequireService(t, "PostgreSQL", "127.0.0.1:5432")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	pg, err := pgx.Connect(ctx, "postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close(context.Background())
	var level string
	if err := pg.QueryRow(ctx, "SHOW wal_level").Scan(&level); err != nil {
		t.Fatal(err)
	}
	if level != "logical" {
		msg := "PostgreSQL has wal_level = " + level + "; change data capture needs logical (.ci/run sets it)"
		if os.Getenv("SLUICE_TEST_SERVICES") == "required" {
			t.Fatal(msg)
		}
		t.Skip("skipping: " + msg)
	}
	name := fmt.Sprintf("cdc_orders_%d", time.Now().UnixNano()%1_000_000_000)
	upstream := func(sql string, args ...any) {
		t.Helper()
		if _, err := pg.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	upstream(fmt.Sprintf("CREATE TABLE %s (id INT PRIMARY KEY, customer TEXT NOT NULL, amount BIGINT)", name))
	t.Cleanup(func() {
		ctx := context.Background()
		_, _ = pg.Exec(ctx, "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1", "sluice_"+name)
		_, _ = pg.Exec(ctx, "DROP PUBLICATION IF EXISTS sluice_"+name+"_pub")
		_, _ = pg.Exec(ctx, "DROP TABLE IF EXISTS "+name)
	})
	for i := 0; i < 200; i++ {
		upstream(fmt.Sprintf("INSERT INTO %s VALUES ($1, $2, $3)", name), i, fmt.Sprintf("c%d", i%7), int64(i*3))
	}

	// The workload: transactions of a few random changes each.
	r := rand.New(rand.NewPCG(5, 6))
	nextID := 200
	workload := func(transactions int) {
		t.Helper()
		for n := 0; n < transactions; n++ {
			tx, err := pg.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for k := 0; k < 1+r.IntN(4); k++ {
				id := r.IntN(nextID)
				var sql string
				var args []any
				switch r.IntN(4) {
				case 0:
					sql, args = "INSERT INTO "+name+" VALUES ($1, $2, $3)", []any{nextID, fmt.Sprintf("c%d", r.IntN(7)), int64(r.IntN(1000))}
					nextID++
				case 1:
					sql, args = "UPDATE "+name+" SET amount = amount + $2 WHERE id = $1", []any{id, int64(r.IntN(50))}
				case 2:
					sql, args = "UPDATE "+name+" SET id = $2, customer = $3 WHERE id = $1", []any{id, nextID, fmt.Sprintf("c%d", r.IntN(7))}
					nextID++
				default:
					sql, args = "DELETE FROM "+name+" WHERE id = $1", []any{id}
				}
				if _, err := tx.Exec(ctx, sql, args...); err != nil {
					t.Fatalf("%s: %v", sql, err)
				}
			}
			if err := tx.Commit(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}

	opts := engine.Options{Connectors: all.Registry(), DataDir: filepath.Join(t.TempDir(), "data"), CheckpointInterval: 100 * time.Millisecond}
	create := fmt.Sprintf(`CREATE TABLE orders (id INT PRIMARY KEY, customer TEXT, amount BIGINT)
		WITH (connector = 'postgres-cdc', hostname = '127.0.0.1', port = '5432', username = 'postgres',
		      database.name = 'test', schema.name = 'public', table.name = '%s', slot.name = 'sluice_%s',
		      publication.name = 'sluice_%s_pub')`, name, name, name)
	const view = `CREATE MATERIALIZED VIEW spend AS SELECT customer, count(*) AS orders, sum(amount) AS total FROM orders GROUP BY customer`
	const query = "SELECT customer, orders, total FROM spend ORDER BY customer"
	oracle := func() string {
		t.Helper()
		var rows []string
		for _, row := range queryText(t, ctx, pg, "SELECT customer, count(*), sum(amount) FROM "+name+" GROUP BY customer ORDER BY customer") {
			rows = append(rows, strings.Join(row, " "))
		}
		return strings.Join(rows, "; ")
	}

	first := testserver.StartWith(t, opts)
	conn := connect(t, ctx, first)
	exec(t, conn, create)
	exec(t, conn, view)
	workload(150)
	awaitRows(t, ctx, conn, query, oracle())
	workload(50)
	first.Stop()

	// Changes while Sluice is down wait in the replication slot.
	workload(100)
	second := testserver.StartWith(t, opts)
	conn = connect(t, ctx, second)
	workload(100)
	awaitRows(t, ctx, conn, query, oracle())
	// The backlog is the WAL PostgreSQL has written beyond what was read:
	// known once streaming, never negative.
	if backlog := sourceCounter(t, ctx, conn, "orders", "backlog"); backlog < 0 {
		t.Errorf("backlog = %d", backlog)
	}
	exec(t, conn, "DROP MATERIALIZED VIEW spend")
	exec(t, conn, "DROP TABLE orders")
	var slots int
	if err := pg.QueryRow(ctx, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1", "sluice_"+name).Scan(&slots); err != nil {
		t.Fatal(err)
	}
	if slots != 0 {
		t.Errorf("DROP TABLE left the replication slot behind, holding WAL")
	}
}
