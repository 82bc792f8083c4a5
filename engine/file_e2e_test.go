package engine_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sluicedb/sluice/internal/sqllogictest"
)

type event struct {
	key   int
	value *int64
	ts    time.Time
}

// outOfOrderEvents generates n events one second apart on average, each
// shifted back by up to 4s (within a 5s watermark delay), and a few shifted
// back by 30s, which arrive late.
func outOfOrderEvents(seed uint64, n int) []event {
	r := rand.New(rand.NewPCG(seed, seed))
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	events := make([]event, n)
	for i := range events {
		shift := time.Duration(r.IntN(4000)) * time.Millisecond
		if r.IntN(50) == 0 {
			shift = 30 * time.Second
		}
		var v *int64
		if r.IntN(20) != 0 {
			x := int64(r.IntN(10000) - 2000)
			v = &x
		}
		events[i] = event{key: r.IntN(12), value: v, ts: base.Add(time.Duration(i)*time.Second - shift)}
	}
	return events
}

// onTime returns the events that are not late under WATERMARK FOR ts AS
// ts - delay, evaluated row by row in arrival order.
func onTime(events []event, delay time.Duration) (kept []event, late int) {
	var wm time.Time
	for i, e := range events {
		if i > 0 && e.ts.Before(wm) {
			late++
			continue
		}
		kept = append(kept, e)
		if c := e.ts.Add(-delay); i == 0 || c.After(wm) {
			wm = c
		}
	}
	return kept, late
}

func writeJSONLines(t *testing.T, path string, events []event, appendTo bool) {
	t.Helper()
	flags := os.O_CREATE | os.O_WRONLY | os.O_TRUNC
	if appendTo {
		flags = os.O_APPEND | os.O_WRONLY
	}
	f, err := os.OpenFile(path, flags, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b strings.Builder
	for _, e := range events {
		v := "null"
		if e.value != nil {
			v = strconv.FormatInt(*e.value, 10)
		}
		fmt.Fprintf(&b, `{"k": %d, "v": %s, "ts": "%s"}`+"\n", e.key, v, e.ts.Format("2006-01-02 15:04:05.000"))
	}
	if _, err := f.WriteString(b.String()); err != nil {
		t.Fatal(err)
	}
}

// The views of the acceptance check, and the same queries written for
// PostgreSQL over a table of the rows that were not late.
var fileViews = []struct {
	name, sluice, postgres, order string
}{
	{
		name: "tumble_stats",
		sluice: `SELECT window_start, window_end, k, count(*) AS n, sum(v) AS total, min(v) AS lo, max(v) AS hi, avg(v) AS mean
			FROM TUMBLE(events, ts, INTERVAL '10' SECOND) GROUP BY window_start, window_end, k`,
		postgres: `SELECT ws AS window_start, ws + interval '10 seconds' AS window_end, k, count(*) AS n, sum(v) AS total, min(v) AS lo, max(v) AS hi, avg(v) AS mean
			FROM (SELECT *, date_bin('10 seconds', ts, timestamp '1970-01-01') AS ws FROM events) e GROUP BY ws, k`,
		order: "window_start, k",
	},
	{
		name: "hop_stats",
		sluice: `SELECT window_start, window_end, k, count(*) AS n, sum(v) AS total, min(v) AS lo, max(v) AS hi, avg(v) AS mean
			FROM HOP(events, ts, INTERVAL '5' SECOND, INTERVAL '15' SECOND) GROUP BY window_start, window_end, k`,
		postgres: `SELECT ws AS window_start, ws + interval '15 seconds' AS window_end, k, count(*) AS n, sum(v) AS total, min(v) AS lo, max(v) AS hi, avg(v) AS mean
			FROM (SELECT e.*, s.ws FROM events e, generate_series(date_bin('5 seconds', e.ts, timestamp '1970-01-01') - interval '10 seconds',
			      date_bin('5 seconds', e.ts, timestamp '1970-01-01'), interval '5 seconds') AS s(ws)) x GROUP BY ws, k`,
		order: "window_start, k",
	},
	{
		name:     "eowc_counts",
		sluice:   `SELECT window_start, k, count(*) AS n FROM TUMBLE(events, ts, INTERVAL '10' SECOND) GROUP BY window_start, k EMIT ON WINDOW CLOSE`,
		postgres: `SELECT date_bin('10 seconds', ts, timestamp '1970-01-01') AS window_start, k, count(*) AS n FROM events WHERE date_bin('10 seconds', ts, timestamp '1970-01-01') + interval '10 seconds' <= $1 GROUP BY 1, k`,
		order:    "window_start, k",
	},
}

func TestFileSourceViewsEqualPostgreSQL(t *testing.T) {
	sqllogictest.RequireService(t, "PostgreSQL", "127.0.0.1:5432")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	oracle, err := pgx.Connect(ctx, "postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	if err != nil {
		t.Fatalf("connect to PostgreSQL: %v", err)
	}
	defer oracle.Close(ctx)

	connect, _ := startServer(t)
	conn, err := connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)

	all := outOfOrderEvents(42, 3000)
	first, later := all[:2500], all[2500:]
	path := filepath.Join(t.TempDir(), "events.jsonl")
	writeJSONLines(t, path, first, false)

	exec(t, conn, fmt.Sprintf(`CREATE SOURCE events (k INT, v BIGINT, ts TIMESTAMP, WATERMARK FOR ts AS ts - INTERVAL '5' SECOND)
		WITH (connector = 'file', path = '%s') FORMAT PLAIN ENCODE JSON`, path))
	for _, v := range fileViews {
		exec(t, conn, "CREATE MATERIALIZED VIEW "+v.name+" AS "+v.sluice)
	}

	check := func(events []event) {
		t.Helper()
		kept, late := onTime(events, 5*time.Second)
		waitForSource(t, ctx, conn, "events", int64(len(events)))
		exec(t, conn, "FLUSH")
		if got := sourceCounter(t, ctx, conn, "events", "late_rows"); got != int64(late) {
			t.Errorf("late_rows = %d, want %d", got, late)
		}
		loadOracle(t, ctx, oracle, kept)
		// EMIT ON WINDOW CLOSE has emitted the windows that end at or before
		// the watermark.
		var wm time.Time
		for _, e := range kept {
			if c := e.ts.Add(-5 * time.Second); c.After(wm) {
				wm = c
			}
		}
		for _, v := range fileViews {
			got := queryText(t, ctx, conn, "SELECT * FROM "+v.name+" ORDER BY "+v.order)
			var args []any
			if strings.Contains(v.postgres, "$1") {
				args = append(args, wm)
			}
			want := queryText(t, ctx, oracle, "SELECT * FROM ("+v.postgres+") q ORDER BY "+v.order, args...)
			compareRows(t, v.name, got, want)
		}
	}
	check(first)

	// Lines appended to the file show up in the views.
	writeJSONLines(t, path, later, true)
	check(all)
}

func exec(t *testing.T, conn *pgx.Conn, sql string) {
	t.Helper()
	if _, err := conn.Exec(context.Background(), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func sourceCounter(t *testing.T, ctx context.Context, conn *pgx.Conn, source, column string) int64 {
	t.Helper()
	rows, err := conn.Query(ctx, "SHOW SOURCES", pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	idx := -1
	for i, f := range rows.FieldDescriptions() {
		if f.Name == column {
			idx = i
		}
	}
	if idx < 0 {
		t.Fatalf("SHOW SOURCES has no column %q", column)
	}
	for rows.Next() {
		vals := rows.RawValues()
		if string(vals[0]) == source {
			n, err := strconv.ParseInt(string(vals[idx]), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatalf("SHOW SOURCES has no source %q", source)
	return 0
}

// waitForSource waits until the source has read rows rows.
func waitForSource(t *testing.T, ctx context.Context, conn *pgx.Conn, source string, rows int64) {
	t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if got := sourceCounter(t, ctx, conn, source, "rows"); got >= rows {
			if got > rows {
				t.Fatalf("source %s read %d rows, more than the %d written", source, got, rows)
			}
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("source %s did not read %d rows: %d so far", source, rows, sourceCounter(t, context.Background(), conn, source, "rows"))
		case <-tick.C:
		}
	}
}

func loadOracle(t *testing.T, ctx context.Context, conn *pgx.Conn, events []event) {
	t.Helper()
	if _, err := conn.Exec(ctx, "DROP TABLE IF EXISTS events; CREATE TEMP TABLE events (k INT, v BIGINT, ts TIMESTAMP)"); err != nil {
		t.Fatal(err)
	}
	rows := make([][]any, len(events))
	for i, e := range events {
		var v any
		if e.value != nil {
			v = *e.value
		}
		rows[i] = []any{int32(e.key), v, e.ts}
	}
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{"events"}, []string{"k", "v", "ts"}, pgx.CopyFromRows(rows)); err != nil {
		t.Fatal(err)
	}
}

// queryText returns every row as its text values, as psql would show them.
func queryText(t *testing.T, ctx context.Context, conn *pgx.Conn, sql string, args ...any) [][]string {
	t.Helper()
	rows, err := conn.Query(ctx, sql, append([]any{pgx.QueryExecModeSimpleProtocol}, args...)...)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	defer rows.Close()
	var out [][]string
	for rows.Next() {
		raw := rows.RawValues()
		row := make([]string, len(raw))
		for i, v := range raw {
			if v == nil {
				row[i] = "NULL"
			} else {
				row[i] = string(v)
			}
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return out
}

// compareRows compares row by row; numbers that differ in form (numeric
// against float) are equal within a relative 1e-9.
func compareRows(t *testing.T, name string, got, want [][]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d rows, PostgreSQL has %d", name, len(got), len(want))
	}
	for i := 0; i < min(len(got), len(want)); i++ {
		for j := range want[i] {
			if !sameValue(got[i][j], want[i][j]) {
				t.Errorf("%s row %d: got %v, PostgreSQL has %v", name, i, got[i], want[i])
				break
			}
		}
	}
}

func sameValue(a, b string) bool {
	if a == b {
		return true
	}
	x, errA := strconv.ParseFloat(a, 64)
	y, errB := strconv.ParseFloat(b, 64)
	if errA != nil || errB != nil {
		return false
	}
	return math.Abs(x-y) <= 1e-9*math.Max(math.Abs(x), math.Abs(y))
}
