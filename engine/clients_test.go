package engine_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	osexec "os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

// Real clients against a real server: each test starts Sluice on a free
// port and drives it with the client a user would use. A client that is not
// installed skips its test, or fails it under SLUICE_TEST_SERVICES=required
// (CI installs them all in .ci/run).

// requireClient skips (or, under SLUICE_TEST_SERVICES=required, fails) the
// test because a client program is missing.
func requireClient(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("SLUICE_TEST_SERVICES") == "required" {
		t.Fatalf("%s (SLUICE_TEST_SERVICES=required)", msg)
	}
	t.Skipf("skipping: %s; set SLUICE_TEST_SERVICES=required to make this a failure", msg)
}

// clientsDir is testdata/clients at the repository root.
func clientsDir(t *testing.T) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "testdata", "clients")
}

// pythonWith returns a Python interpreter that can import every module.
// Debian's packages (python3-psycopg2, ...) install into /usr/bin/python3's
// path, which may not be the python3 first on PATH.
func pythonWith(t *testing.T, modules ...string) string {
	t.Helper()
	candidates := []string{"/usr/bin/python3"}
	if p, err := osexec.LookPath("python3"); err == nil {
		candidates = append(candidates, p)
	}
	probe := "import " + strings.Join(modules, ", ")
	for _, py := range candidates {
		if err := osexec.Command(py, "-c", probe).Run(); err == nil {
			return py
		}
	}
	requireClient(t, "no python3 can %q (install the Debian packages .ci/run lists)", probe)
	return ""
}

// knownGaps are failures caused by SQL Sluice does not have yet. A check
// failing with one of them is skipped with the reason, so that the test
// starts failing only on new breakage and starts passing once the gap is
// closed (delete the entry then).
var knownGaps = []struct{ contains, reason string }{}

// runClientChecks runs a client program that prints one JSON line per
// check, {"check": name, "error": message-or-null}, and reports each check
// as a subtest.
func runClientChecks(t *testing.T, ctx context.Context, dir string, wantChecks int, name string, args ...string) {
	t.Helper()
	cmd := osexec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PGCONNECT_TIMEOUT=10", "PGSSLMODE=disable", "PYTHONDONTWRITEBYTECODE=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	seen := 0
	sc := bufio.NewScanner(&stdout)
	for sc.Scan() {
		var line struct {
			Check string  `json:"check"`
			Error *string `json:"error"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil || line.Check == "" {
			t.Errorf("unexpected output line %q", sc.Text())
			continue
		}
		seen++
		t.Run(line.Check, func(t *testing.T) {
			if line.Error == nil {
				return
			}
			for _, g := range knownGaps {
				if strings.Contains(*line.Error, g.contains) {
					t.Skipf("known gap: %s", g.reason)
				}
			}
			t.Error(*line.Error)
		})
	}
	if runErr != nil || seen != wantChecks {
		t.Fatalf("%s %s: %v after %d of %d checks\nstderr:\n%s", name, strings.Join(args, " "), runErr, seen, wantChecks, stderr.String())
	}
}

// serverAddr starts a server and returns its host and port.
func serverAddr(t *testing.T) (connect func(context.Context) (*pgx.Conn, error), host string, port uint16) {
	connect, _ = startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	return connect, conn.Config().Host, conn.Config().Port
}

func TestPsycopg(t *testing.T) {
	for _, driver := range []string{"psycopg2", "psycopg"} {
		t.Run(driver, func(t *testing.T) {
			py := pythonWith(t, driver)
			_, host, port := serverAddr(t)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			dsn := fmt.Sprintf("host=%s port=%d user=ada dbname=shop", host, port)
			runClientChecks(t, ctx, filepath.Join(clientsDir(t), "python"), 12, py, "psycopg_client.py", driver, dsn)
		})
	}
}

func TestSQLAlchemyInspector(t *testing.T) {
	py := pythonWith(t, "sqlalchemy", "psycopg2")
	_, host, port := serverAddr(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	url := fmt.Sprintf("postgresql+psycopg2://ada@%s:%d/shop", host, port)
	runClientChecks(t, ctx, filepath.Join(clientsDir(t), "python"), 7, py, "sqlalchemy_inspect.py", url)
}

func TestNodePostgres(t *testing.T) {
	node, err := osexec.LookPath("node")
	if err != nil {
		requireClient(t, "node is not installed")
	}
	dir := filepath.Join(clientsDir(t), "node")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "pg", "package.json")); err != nil {
		requireClient(t, "node-postgres is not installed (cd testdata/clients/node && npm ci)")
	}
	_, host, port := serverAddr(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	runClientChecks(t, ctx, dir, 8, node, "client.js", fmt.Sprintf("postgres://ada@%s:%d/shop", host, port))
}

// TestPgxTypes sends a parameter of every type Sluice has and reads it back,
// in pgx's default mode (extended protocol, binary where pgx can) and in its
// simple-protocol mode (parameters interpolated as text).
func TestPgxTypes(t *testing.T) {
	connect, _ := startServer(t)
	ts := time.Date(2026, 3, 4, 5, 6, 7, 890123000, time.UTC)
	cases := []struct {
		typ  string
		in   any
		want any // nil: same as in
	}{
		{"bool", true, nil},
		{"int2", int16(-32768), nil},
		{"int4", int32(2147483647), nil},
		{"int8", int64(-9007199254740993), nil},
		{"float4", float32(1.5), nil},
		{"float8", 2.0 / 3.0, nil},
		{"numeric", "12345.625", nil},
		{"text", "héllo, 'world'\n", nil},
		{"varchar", "abc", nil},
		{"bytea", []byte{0, 1, 0xfe, 0xff, '\\'}, nil},
		{"date", time.Date(2026, 2, 28, 0, 0, 0, 0, time.UTC), nil},
		{"time", pgtype.Time{Microseconds: (13*3600+14*60+15)*1e6 + 16, Valid: true}, nil},
		{"timestamp", ts, nil},
		{"timestamptz", ts, nil},
		{"interval", pgtype.Interval{Months: 14, Days: 3, Microseconds: 4*3600e6 + 5e6 + 6, Valid: true}, nil},
		{"jsonb", `{"b": true, "a": [1, "x", null]}`, map[string]any{"a": []any{1.0, "x", nil}, "b": true}},
	}
	modes := []struct {
		name string
		mode pgx.QueryExecMode
	}{
		{"default", pgx.QueryExecModeCacheStatement},
		{"simple", pgx.QueryExecModeSimpleProtocol},
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			conn, err := connect(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(ctx)
			for _, tc := range cases {
				t.Run(tc.typ, func(t *testing.T) {
					want := tc.want
					if want == nil {
						want = tc.in
					}
					var got, null any
					err := conn.QueryRow(ctx, fmt.Sprintf("SELECT $1::%s, NULL::%[1]s", tc.typ), m.mode, tc.in).Scan(&got, &null)
					if err != nil {
						t.Fatal(err)
					}
					if null != nil {
						t.Errorf("NULL::%s = %#v, want nil", tc.typ, null)
					}
					if !sameDatum(got, want) {
						t.Errorf("$1::%s = %#v (%T), want %#v (%T)", tc.typ, got, got, want, want)
					}
				})
			}
			t.Run("null parameter", func(t *testing.T) {
				var got *int64
				if err := conn.QueryRow(ctx, "SELECT $1::int8", m.mode, nil).Scan(&got); err != nil {
					t.Fatal(err)
				}
				if got != nil {
					t.Errorf("got %d, want NULL", *got)
				}
			})
		})
	}
}

// sameDatum compares what pgx decoded with what was sent, allowing for the
// Go types pgx picks when scanning into any.
func sameDatum(got, want any) bool {
	switch w := want.(type) {
	case string:
		if n, ok := got.(pgtype.Numeric); ok {
			v, err := n.Value()
			return err == nil && v == w
		}
		return got == want
	case float32:
		g, ok := got.(float32)
		return ok && g == w
	case time.Time:
		g, ok := got.(time.Time)
		return ok && g.Equal(w)
	case int16, int32, int64, bool, float64:
		return got == want
	}
	a, _ := json.Marshal(got)
	b, _ := json.Marshal(want)
	return bytes.Equal(a, b)
}

// TestPgxQueriesAViewWhileItUpdates reads a view over and over while
// another connection inserts: every read sees a consistent epoch (each
// insert adds one row of value 1, so count and sum agree) and counts never
// go back.
func TestPgxQueriesAViewWhileItUpdates(t *testing.T) {
	connect, _ := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	writer, err := connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Close(ctx)
	exec(t, writer, "CREATE TABLE ticks (id BIGINT PRIMARY KEY, v BIGINT)")
	exec(t, writer, "CREATE MATERIALIZED VIEW tick_totals AS SELECT count(*) AS n, sum(v) AS s FROM ticks")

	const inserts = 200
	written := make(chan error, 1)
	go func() {
		for i := range inserts {
			if _, err := writer.Exec(ctx, "INSERT INTO ticks VALUES ($1, 1)", i); err != nil {
				written <- err
				return
			}
		}
		written <- nil
	}()

	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeCacheStatement, pgx.QueryExecModeSimpleProtocol} {
		reader, err := connect(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var last int64
		for range 100 {
			var n int64
			var s pgtype.Numeric
			if err := reader.QueryRow(ctx, "SELECT n, s FROM tick_totals", mode).Scan(&n, &s); err != nil {
				t.Fatal(err)
			}
			sum, _ := s.Int64Value()
			if n != 0 && sum.Int64 != n {
				t.Fatalf("inconsistent read: count %d, sum %v", n, sum)
			}
			if n < last {
				t.Fatalf("count went back from %d to %d", last, n)
			}
			last = n
		}
		reader.Close(ctx)
	}
	if err := <-written; err != nil {
		t.Fatal(err)
	}
	var n int64
	if err := writer.QueryRow(ctx, "SELECT n FROM tick_totals").Scan(&n); err != nil || n != inserts {
		t.Fatalf("final count %d (%v), want %d", n, err, inserts)
	}
}

// TestGrafanaQueries replays what Grafana's PostgreSQL datasource sends:
// its health check, its query builder's metadata queries, and time-series
// panel queries with its macros expanded.
func TestGrafanaQueries(t *testing.T) {
	connect, _ := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	exec(t, conn, `CREATE TABLE bids (auction BIGINT, price BIGINT, date_time TIMESTAMP,
		WATERMARK FOR date_time AS date_time - INTERVAL '5' SECOND) APPEND ONLY`)
	exec(t, conn, `CREATE MATERIALIZED VIEW v AS
		SELECT window_start, auction, count(*) AS bids FROM TUMBLE(bids, date_time, INTERVAL '5' MINUTE)
		GROUP BY window_start, auction`)
	exec(t, conn, `INSERT INTO bids VALUES (1, 10, '2026-01-01 00:01:00'), (1, 20, '2026-01-01 00:02:00'),
		(2, 30, '2026-01-01 00:07:00'), (1, 40, '2026-01-03 00:00:00')`)

	// searchPath is the subquery Grafana's builder uses to keep to the
	// schemas on the search path.
	const searchPath = `SELECT CASE WHEN trim(s[i]) = '"$user"' THEN user ELSE trim(s[i]) END
		FROM generate_series(array_lower(string_to_array(current_setting('search_path'),','),1),
			array_upper(string_to_array(current_setting('search_path'),','),1)) as i,
		string_to_array(current_setting('search_path'),',') s`
	tests := []struct {
		name, sql string
		want      [][]string
	}{
		{"health check", "-- ping\nSELECT 1", [][]string{{"1"}}},
		{"select 1", "SELECT 1", [][]string{{"1"}}},
		{"schemas", `SELECT schema_name FROM information_schema.schemata
			WHERE schema_name NOT IN ('information_schema', 'pg_catalog', 'pg_toast') ORDER BY 1`, [][]string{{"public"}}},
		{"tables", `SELECT quote_ident(table_name) AS "table" FROM information_schema.tables
			WHERE quote_ident(table_schema) NOT IN ('information_schema', 'pg_catalog', '_timescaledb_cache',
				'_timescaledb_catalog', '_timescaledb_internal', '_timescaledb_config', 'timescaledb_information',
				'timescaledb_experimental')
			AND quote_ident(table_schema) IN (` + searchPath + `) ORDER BY 1`, [][]string{{"bids"}, {"v"}}},
		{"tables of a schema", `SELECT quote_ident(table_name) AS "table" FROM information_schema.tables
			WHERE table_schema = 'public' ORDER BY table_name`, [][]string{{"bids"}, {"v"}}},
		{"columns", `SELECT quote_ident(column_name) AS "column", data_type AS "type"
			FROM information_schema.columns WHERE quote_ident(table_name) = 'v'
			AND quote_ident(table_schema) IN (` + searchPath + `) ORDER BY ordinal_position`,
			[][]string{{"window_start", "timestamp without time zone"}, {"auction", "bigint"}, {"bids", "bigint"}}},
		{"time column candidates", `SELECT quote_ident(column_name) AS "column" FROM information_schema.columns
			WHERE table_schema = 'public' AND table_name = 'v'
			AND data_type IN ('timestamp without time zone', 'timestamp with time zone', 'date') ORDER BY 1`,
			[][]string{{"window_start"}}},
		{"time series", `SELECT window_start AS "time", auction, bids FROM v
			WHERE window_start BETWEEN '2026-01-01T00:00:00Z' AND '2026-01-02T00:00:00Z' ORDER BY 1, 2`,
			[][]string{{"2026-01-01 00:00:00", "1", "2"}, {"2026-01-01 00:05:00", "2", "1"}}},
		{"time group", `SELECT floor(extract(epoch from window_start)/300)*300 AS "time", sum(bids) AS bids FROM v
			WHERE window_start BETWEEN '2026-01-01T00:00:00Z' AND '2026-01-02T00:00:00Z' GROUP BY 1 ORDER BY 1`,
			[][]string{{"1767225600", "2"}, {"1767225900", "1"}}},
		{"time as timestamptz", `SELECT window_start::timestamptz AS "time", bids FROM v
			WHERE window_start >= '2026-01-01T00:00:00Z' AND window_start < '2026-01-01T00:05:00Z' ORDER BY 1`,
			[][]string{{"2026-01-01 00:00:00+00", "2"}}},
	}
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeCacheStatement, pgx.QueryExecModeSimpleProtocol} {
		for _, tc := range tests {
			t.Run(fmt.Sprintf("%s/%v", tc.name, mode), func(t *testing.T) {
				got, err := queryTextMode(ctx, conn, mode, tc.sql)
				if err != nil {
					t.Fatal(err)
				}
				if fmt.Sprint(got) != fmt.Sprint(tc.want) {
					t.Errorf("got %v, want %v", got, tc.want)
				}
			})
		}
	}
}

// queryTextMode runs sql in mode and returns every value in PostgreSQL's
// text format.
func queryTextMode(ctx context.Context, conn *pgx.Conn, mode pgx.QueryExecMode, sql string) ([][]string, error) {
	rows, err := conn.Query(ctx, sql, mode, pgx.QueryResultFormats{pgx.TextFormatCode})
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out [][]string
	for rows.Next() {
		var row []string
		for _, v := range rows.RawValues() {
			row = append(row, string(v))
		}
		out = append(out, row)
	}
	return out, rows.Err()
}

// TestManyConnections opens 300 connections at once, each running a query.
func TestManyConnections(t *testing.T) {
	connect, _ := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	setup, err := connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	exec(t, setup, "CREATE TABLE kv (k BIGINT PRIMARY KEY, v VARCHAR)")
	insertRows(t, setup, "kv", 300, func(i int) string { return fmt.Sprintf("(%d, 'v%[1]d')", i) })
	setup.Close(ctx)

	const clients = 300
	conns := make([]*pgx.Conn, clients)
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for i := range clients {
		wg.Go(func() {
			conn, err := connect(ctx)
			if err != nil {
				errs <- fmt.Errorf("connection %d: %w", i, err)
				return
			}
			conns[i] = conn
			var v string
			if err := conn.QueryRow(ctx, "SELECT v FROM kv WHERE k = $1", i+1).Scan(&v); err != nil {
				errs <- fmt.Errorf("connection %d: %w", i, err)
			} else if v != fmt.Sprintf("v%d", i+1) {
				errs <- fmt.Errorf("connection %d read %q", i, v)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for _, c := range conns {
		if c != nil {
			c.Close(ctx)
		}
	}
}

// TestClientKilledMidQuery drops connections while a large result streams
// to them: the server goes on serving and the sessions' goroutines end.
func TestClientKilledMidQuery(t *testing.T) {
	connect, _ := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	conn, err := connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	exec(t, conn, "CREATE TABLE big (id BIGINT PRIMARY KEY, pad VARCHAR)")
	pad := strings.Repeat("x", 200)
	insertRows(t, conn, "big", 20000, func(i int) string { return fmt.Sprintf("(%d, '%s')", i, pad) })
	host, port := conn.Config().Host, conn.Config().Port
	addr := net.JoinHostPort(host, fmt.Sprint(port))

	before := runtime.NumGoroutine()
	for i := range 20 {
		pc, err := pgconn.ConnectConfig(ctx, mustParse(t, addr))
		if err != nil {
			t.Fatal(err)
		}
		// Read the first rows of a result far larger than the socket
		// buffers, then drop the connection without a Terminate.
		rr := pc.ExecParams(ctx, "SELECT id, pad FROM big CROSS JOIN (SELECT 1 UNION ALL SELECT 2) AS two", nil, nil, nil, nil)
		for n := 0; n < 10 && rr.NextRow(); n++ {
		}
		if err := pc.Conn().Close(); err != nil {
			t.Fatalf("kill %d: %v", i, err)
		}
		_, _ = rr.Close()
	}

	var n int64
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM big").Scan(&n); err != nil || n != 20000 {
		t.Fatalf("after the kills: count %d, %v", n, err)
	}
	// The server's goroutines for the killed sessions end once it notices
	// the closed sockets; wait for that (bounded) instead of sleeping.
	deadline := time.Now().Add(20 * time.Second)
	for runtime.NumGoroutine() > before+2 {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("goroutines: %d before the kills, %d after\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
		}
		runtime.Gosched()
		time.Sleep(10 * time.Millisecond) // polling a counter no event reports
	}
}

// insertRows inserts rows 1..n into table, row(i) giving each VALUES tuple.
// (INSERT ... SELECT FROM generate_series does not run in batch mode yet.)
func insertRows(t *testing.T, conn *pgx.Conn, table string, n int, row func(i int) string) {
	t.Helper()
	const perStatement = 1000
	for first := 1; first <= n; first += perStatement {
		var b strings.Builder
		fmt.Fprintf(&b, "INSERT INTO %s VALUES ", table)
		for i := first; i < first+perStatement && i <= n; i++ {
			if i > first {
				b.WriteString(", ")
			}
			b.WriteString(row(i))
		}
		exec(t, conn, b.String())
	}
}

func mustParse(t *testing.T, addr string) *pgconn.Config {
	t.Helper()
	cfg, err := pgconn.ParseConfig("postgres://ada@" + addr + "/shop?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestDeclaredParameterTypeIsKept sends a parameter with a declared type
// narrower than the column it is compared with, in binary, as psycopg 3
// does for small Python ints: the server plans with the declared type.
func TestDeclaredParameterTypeIsKept(t *testing.T) {
	connect, _ := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	exec(t, conn, "CREATE TABLE people (id BIGINT PRIMARY KEY, name VARCHAR)")
	exec(t, conn, "INSERT INTO people VALUES (7, 'ada')")
	const int2OID = 21
	for _, sql := range []string{
		"SELECT name FROM people WHERE id = $1",
		"UPDATE people SET name = 'ada' WHERE id = $1",
		"DELETE FROM people WHERE id = $1 AND false",
	} {
		rr := conn.PgConn().ExecParams(ctx, sql, [][]byte{{0, 7}}, []uint32{int2OID}, []int16{1}, nil)
		if _, err := rr.Close(); err != nil {
			t.Errorf("%s with an int2 parameter: %v", sql, err)
		}
	}
}
