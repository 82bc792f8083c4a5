package engine_test

import (
	"bufio"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

func TestSubscribeStreamsSnapshotThenChanges(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	connect, _ := startServer(t)
	conn, err := connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	exec(t, conn, "CREATE TABLE t (k INT PRIMARY KEY, v INT)")
	exec(t, conn, "CREATE MATERIALIZED VIEW s AS SELECT sum(v) AS total, count(*) AS n FROM t")
	exec(t, conn, "INSERT INTO t VALUES (1, 10)")

	sub, err := connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close(context.Background())
	subCtx, stop := context.WithCancel(ctx)
	rows, err := sub.Query(subCtx, "SUBSCRIBE TO s", pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		t.Fatal(err)
	}
	if got := fieldNames(rows.FieldDescriptions()); got != "ts diff total n" {
		t.Fatalf("columns = %q, want ts diff total n", got)
	}
	next := func() string {
		t.Helper()
		if !rows.Next() {
			t.Fatalf("subscription ended: %v", rows.Err())
		}
		v := rows.RawValues()
		return string(v[1]) + " " + string(v[2]) + " " + string(v[3])
	}
	if got := next(); got != "1 10 1" {
		t.Fatalf("snapshot row = %q, want 1 10 1", got)
	}
	exec(t, conn, "INSERT INTO t VALUES (2, 5)")
	changes := []string{next(), next()}
	if strings.Join(changes, ",") != "-1 10 1,1 15 2" {
		t.Fatalf("changes = %v, want the old row retracted and the new one", changes)
	}
	stop()
	rows.Close()
}

func TestCopySubscribeSendsRowsAsTheyCome(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	connect, _ := startServer(t)
	conn, err := connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	exec(t, conn, "CREATE TABLE t (k INT PRIMARY KEY, name TEXT)")
	exec(t, conn, "INSERT INTO t VALUES (1, 'tab\there')")

	sub, err := connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	copyCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		_, err := sub.PgConn().CopyTo(copyCtx, pw, "COPY (SUBSCRIBE (SELECT k, name, NULL::text AS nothing FROM t)) TO STDOUT")
		pw.CloseWithError(err)
		done <- err
	}()
	lines := bufio.NewScanner(pr)
	read := func() string {
		t.Helper()
		if !lines.Scan() {
			t.Fatalf("copy ended: %v", lines.Err())
		}
		// Drop ts, which is a time.
		return strings.SplitN(lines.Text(), "\t", 2)[1]
	}
	if got := read(); got != `1	1	tab\there	\N` {
		t.Fatalf("first line = %q", got)
	}
	exec(t, conn, "DELETE FROM t")
	if got := read(); got != `-1	1	tab\there	\N` {
		t.Fatalf("second line = %q", got)
	}
	// Cancelling ends the COPY; the session and server carry on.
	stop()
	<-done
	sub.Close(context.Background())
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM t").Scan(&n); err != nil || n != 0 {
		t.Fatalf("after the subscription: count = %d, %v", n, err)
	}
}

func TestCursorOverASubscription(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	connect, _ := startServer(t)
	conn, err := connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	exec(t, conn, "CREATE TABLE t (k INT PRIMARY KEY)")
	exec(t, conn, "INSERT INTO t VALUES (1), (2)")

	cur, err := connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer cur.Close(ctx)
	if _, err := cur.Exec(ctx, "DECLARE c CURSOR FOR SUBSCRIBE TO t"); err == nil {
		t.Fatal("DECLARE outside a transaction block was accepted")
	}
	exec(t, cur, "BEGIN")
	exec(t, cur, "DECLARE c CURSOR FOR SUBSCRIBE TO t")
	fetch := func(sql string) []string {
		t.Helper()
		var out []string
		for _, row := range queryText(t, ctx, cur, sql) {
			out = append(out, row[1]+" "+row[2])
		}
		return out
	}
	if got := fetch("FETCH 1 c"); len(got) != 1 || got[0] != "1 1" && got[0] != "1 2" {
		t.Fatalf("first fetch = %v, want one row of the snapshot", got)
	}
	if got := fetch("FETCH 10 c WITH (timeout = '0s')"); len(got) != 1 {
		t.Fatalf("second fetch = %v, want the other snapshot row", got)
	}
	if got := fetch("FETCH 10 c WITH (timeout = '10ms')"); len(got) != 0 {
		t.Fatalf("a fetch with nothing new = %v, want no rows after the timeout", got)
	}
	exec(t, conn, "DELETE FROM t WHERE k = 1")
	if got := fetch("FETCH 10 c"); len(got) != 1 || got[0] != "-1 1" {
		t.Fatalf("fetch after a delete = %v, want -1 1", got)
	}
	exec(t, cur, "COMMIT")
	if _, err := cur.Exec(ctx, "FETCH 1 c"); err == nil {
		t.Fatal("the cursor outlived its transaction")
	}
}

func TestDropIfExistsOfAMissingObjectSendsANotice(t *testing.T) {
	ctx := context.Background()
	connect, _ := startServer(t)
	first, err := connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	addr := first.PgConn().Conn().RemoteAddr().String()
	first.Close(ctx)
	cfg, err := pgx.ParseConfig("postgres://u@" + addr + "/d?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	var notices []string
	cfg.OnNotice = func(_ *pgconn.PgConn, n *pgconn.Notice) {
		notices = append(notices, n.Severity+" "+n.Code+" "+n.Message)
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	exec(t, conn, "DROP TABLE IF EXISTS nope")
	if len(notices) != 1 || notices[0] != `NOTICE 00000 table "nope" does not exist, skipping` {
		t.Fatalf("notices = %q", notices)
	}
}
