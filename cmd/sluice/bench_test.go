package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sluicedb/sluice/connectors/all"
	"github.com/sluicedb/sluice/engine"
	"github.com/sluicedb/sluice/internal/difftest"
	"github.com/sluicedb/sluice/internal/sqllogictest"
	"github.com/sluicedb/sluice/pgwire"
)

// nexmarkQueriesDir is testdata/nexmark at the repository's root.
var nexmarkQueriesDir = filepath.Join("..", "..", "testdata", "nexmark")

func TestNexmarkTableRows(t *testing.T) {
	for _, c := range []struct {
		events                int64
		person, auction, bids int64
	}{
		{1, 1, 0, 0},
		{4, 1, 3, 0},
		{5, 1, 3, 1},
		{50, 1, 3, 46},
		{52, 2, 4, 46},
		{1_000_000, 20_000, 60_000, 920_000},
	} {
		got := []int64{nexmarkTables[0].rows(c.events), nexmarkTables[1].rows(c.events), nexmarkTables[2].rows(c.events)}
		if want := []int64{c.person, c.auction, c.bids}; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%d events: person, auction, bid rows %v, want %v", c.events, got, want)
		}
	}
}

func TestBenchNexmarkCommand(t *testing.T) {
	var out, errOut bytes.Buffer
	heap := filepath.Join(t.TempDir(), "heap.pprof")
	code := run([]string{"bench", "nexmark", "--query", "q1", "--events", "20000", "--json", "--cores", "1",
		"--checkpoint-interval", "10ms", "--queries-dir", nexmarkQueriesDir, "--memprofile", heap}, &out, &errOut)
	if code != 0 {
		t.Fatalf("exit code %d; stderr:\n%s", code, errOut.String())
	}
	// A heap profile is gzipped protocol buffers.
	if b, err := os.ReadFile(heap); err != nil || len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		t.Errorf("--memprofile wrote no gzipped profile to %s (%d bytes, %v)", heap, len(b), err)
	}
	var res map[string]any
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("output is not one JSON object: %v\n%s", err, out.String())
	}
	for _, field := range []string{"query", "events", "seconds", "events_per_second", "events_per_core_second", "p50_ms", "p99_ms", "peak_rss_bytes", "checkpoints", "checkpoint_bytes"} {
		if _, ok := res[field]; !ok {
			t.Errorf("the JSON output lacks %q: %s", field, out.String())
		}
	}
	if res["query"] != "q1" || res["events"] != float64(20000) {
		t.Errorf("query and events are %v and %v, want q1 and 20000", res["query"], res["events"])
	}
	if p50, ok := res["p50_ms"].(float64); !ok || p50 <= 0 {
		t.Errorf("p50_ms = %v: the run made data visible, so freshness must be measured", res["p50_ms"])
	}

	// Through Kafka: the events are written into an in-process broker
	// first; q3 reads persons and auctions, so both decode from JSON.
	out.Reset()
	errOut.Reset()
	code = run([]string{"bench", "nexmark", "--query", "q3", "--events", "20000", "--source", "kafka",
		"--queries-dir", nexmarkQueriesDir}, &out, &errOut)
	if code != 0 || !strings.Contains(out.String(), "events             20000 (1600 rows read from the sources)") {
		t.Errorf("--source kafka: exit code %d\n%s%s", code, out.String(), errOut.String())
	}

	for _, c := range []struct {
		args     []string
		code     int
		contains string
	}{
		{[]string{"bench", "nexmark", "--help"}, 0, "events_per_core_second"},
		{[]string{"bench", "nexmark", "--query", "q1", "--source", "pulsar"}, 2, "--source must be generator or kafka"},
		{[]string{"bench", "nexmark", "--query", "q1", "--bootstrap-server", "127.0.0.1:9092"}, 2, "needs --source kafka"},
		{[]string{"bench"}, 2, "the only benchmark is nexmark"},
		{[]string{"bench", "nexmark"}, 2, "--query is required"},
		{[]string{"bench", "nexmark", "--query", "q1", "--cores", "-1", "--queries-dir", nexmarkQueriesDir}, 1, "--cores -1"},
		{[]string{"bench", "nexmark", "--query", "q999", "--queries-dir", nexmarkQueriesDir}, 1, "read the query"},
		{[]string{"bench", "nexmark", "--query", "q1", "--events", "1000", "--queries-dir", nexmarkQueriesDir,
			"--memprofile", filepath.Join(t.TempDir(), "missing", "heap.pprof")}, 1, "--memprofile"},
	} {
		var out, errOut bytes.Buffer
		if code := run(c.args, &out, &errOut); code != c.code || !strings.Contains(out.String()+errOut.String(), c.contains) {
			t.Errorf("%v: exit code %d, want %d, and output should mention %q:\n%s%s", c.args, code, c.code, c.contains, out.String(), errOut.String())
		}
	}
}

// windowCall is a TUMBLE or HOP call in FROM, as the query files write it.
var windowCall = regexp.MustCompile(`(TUMBLE|HOP)\((\w+), (\w+), (INTERVAL '[^']+' \w+)(?:, (INTERVAL '[^']+' \w+))?\)`)

// postgresQuery translates a Nexmark query file's SELECT for PostgreSQL:
// TUMBLE becomes date_bin, HOP a generate_series over the windows that
// contain the row (as internal/difftest does). The files always alias the
// window call, so the subquery keeps that alias.
func postgresQuery(sql string) string {
	return windowCall.ReplaceAllStringFunc(sql, func(call string) string {
		m := windowCall.FindStringSubmatch(call)
		rel, ts := m[2], m[3]
		const epoch = "TIMESTAMP '1970-01-01 00:00:00'"
		if m[1] == "TUMBLE" {
			size := m[4]
			start := fmt.Sprintf("date_bin(%s, %s, %s)", size, ts, epoch)
			return fmt.Sprintf("(SELECT *, %s AS window_start, %s + %s AS window_end FROM %s)", start, start, size, rel)
		}
		slide, size := m[4], m[5]
		last := fmt.Sprintf("date_bin(%s, %s, %s)", slide, ts, epoch)
		return fmt.Sprintf("(SELECT *, hop.window_start + %s AS window_end FROM %s CROSS JOIN LATERAL "+
			"generate_series(%s - (%s - %s), %s, %s) AS hop(window_start))", size, rel, last, size, slide, last, slide)
	})
}

// TestNexmarkQueriesMatchPostgres runs every query of testdata/nexmark as a
// materialized view over a bounded run of the generator and compares the
// view, once the sources are exhausted, with PostgreSQL's answer to the same
// query over the same events (read back from Sluice and loaded into
// PostgreSQL).
func TestNexmarkQueriesMatchPostgres(t *testing.T) {
	sqllogictest.RequireService(t, "PostgreSQL", "127.0.0.1:5432")
	const events = 20_000
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	files, err := filepath.Glob(filepath.Join(nexmarkQueriesDir, "q*.sql"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no query files in %s (%v)", nexmarkQueriesDir, err)
	}
	sort.Strings(files)

	eng, err := engine.Open(ctx, engine.Options{Connectors: all.Registry(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = pgwire.NewServer(eng, pgwire.Options{}).Serve(ctx, ln) }()
	sluice, err := pgx.Connect(ctx, "postgres://bench@"+ln.Addr().String()+"/sluice?sslmode=disable")
	if err != nil {
		t.Fatalf("connect to Sluice: %v", err)
	}
	defer sluice.Close(context.Background())
	oracle, err := pgx.Connect(ctx, "postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	if err != nil {
		t.Fatalf("connect to PostgreSQL: %v", err)
	}
	defer oracle.Close(context.Background())

	s := eng.NewSession(pgwire.ClientInfo{User: "bench", Database: "sluice"})
	defer s.Close()
	if err := execAll(ctx, s, nexmarkSourcesSQL(events)); err != nil {
		t.Fatal(err)
	}
	for _, tbl := range nexmarkTables {
		if err := execAll(ctx, s, fmt.Sprintf("CREATE MATERIALIZED VIEW raw_%s AS SELECT * FROM %s", tbl.name, tbl.name)); err != nil {
			t.Fatal(err)
		}
	}
	queries, texts := map[string]string{}, map[string]string{}
	for _, f := range files {
		name, sql, err := readQuery(f, "")
		if err != nil {
			t.Fatal(err)
		}
		text, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		queries[name], texts[name] = sql, string(text)
		if err := execAll(ctx, s, fmt.Sprintf("CREATE MATERIALIZED VIEW %s AS %s", name, sql)); err != nil {
			t.Fatalf("%s: create the view: %v", name, err)
		}
	}
	if _, err := awaitSources(ctx, s, benchConfig{events: events, progress: time.Hour}, time.Now(), io.Discard); err != nil {
		t.Fatal(err)
	}
	if err := execAll(ctx, s, "FLUSH"); err != nil {
		t.Fatal(err)
	}

	for _, tbl := range nexmarkTables {
		loadIntoPostgres(ctx, t, sluice, oracle, tbl, events)
	}
	names := make([]string, 0, len(queries))
	for name := range queries {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			// A query whose result depends on when rows were read says,
			// in "-- compare:" and "-- oracle:" lines, what to compare.
			read, pgSQL := "SELECT * FROM "+name, postgresQuery(queries[name])
			if c, o := directive(texts[name], "compare"), directive(texts[name], "oracle"); c != "" && o != "" {
				read, pgSQL = c, o
			} else if cols := comparedColumns(ctx, t, sluice, name); cols != "*" {
				// p_time is when Sluice read a bid: never the same twice.
				read, pgSQL = "SELECT "+cols+" FROM "+name, "SELECT "+cols+" FROM ("+pgSQL+") AS o"
			}
			got, err := difftest.Query(ctx, sluice, read)
			if err != nil {
				t.Fatalf("read the view: %v", err)
			}
			want, err := difftest.Query(ctx, oracle, pgSQL)
			if err != nil {
				t.Fatalf("PostgreSQL: %v\n%s", err, pgSQL)
			}
			if len(want.Rows) == 0 {
				t.Errorf("PostgreSQL's answer is empty: the run is too small to check %s", name)
			}
			if d := difftest.Compare(got, want); !d.Empty() {
				t.Errorf("the view differs from PostgreSQL's answer (%d rows, want %d):\n%s\nPostgreSQL's query:\n%s", len(got.Rows), len(want.Rows), d, pgSQL)
			}
		})
	}
}

// comparedColumns lists the view's columns but p_time (the processing time
// of a bid), or "*" when it has no p_time.
func comparedColumns(ctx context.Context, t *testing.T, conn *pgx.Conn, view string) string {
	rows, err := conn.Query(ctx, "SELECT * FROM "+view+" LIMIT 0")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var cols []string
	for _, f := range rows.FieldDescriptions() {
		if f.Name != "p_time" {
			cols = append(cols, f.Name)
		}
	}
	if len(cols) == len(rows.FieldDescriptions()) {
		return "*"
	}
	return strings.Join(cols, ", ")
}

// directive returns the text after "-- name:" in a query file, or "".
func directive(sql, name string) string {
	for _, line := range strings.Split(sql, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "-- "+name+":"); ok {
			return strings.TrimSpace(rest)
		}
	}
	return ""
}

// loadIntoPostgres copies the events of tbl, as Sluice generated them (the
// view raw_<name>; all events of the run), into a temporary table of the same name in PostgreSQL.
func loadIntoPostgres(ctx context.Context, t *testing.T, sluice, oracle *pgx.Conn, tbl nexmarkTable, events int64) {
	t.Helper()
	cols := strings.ReplaceAll(tbl.columns, "VARCHAR", `VARCHAR COLLATE "C"`)
	cols = strings.ReplaceAll(cols, " AS PROCTIME()", "") // a plain column there, of the times Sluice read
	if _, err := oracle.Exec(ctx, fmt.Sprintf("CREATE TEMP TABLE %s (%s)", tbl.name, cols)); err != nil {
		t.Fatalf("create %s in PostgreSQL: %v", tbl.name, err)
	}
	rows, err := sluice.Query(ctx, "SELECT * FROM raw_"+tbl.name)
	if err != nil {
		t.Fatalf("read raw_%s: %v", tbl.name, err)
	}
	var names []string
	for _, f := range rows.FieldDescriptions() {
		names = append(names, f.Name)
	}
	var values [][]any
	for rows.Next() {
		v, err := rows.Values()
		if err != nil {
			t.Fatal(err)
		}
		values = append(values, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("read raw_%s: %v", tbl.name, err)
	}
	if int64(len(values)) != tbl.rows(events) {
		t.Fatalf("raw_%s has %d rows, want %d", tbl.name, len(values), tbl.rows(events))
	}
	if _, err := oracle.CopyFrom(ctx, pgx.Identifier{tbl.name}, names, pgx.CopyFromRows(values)); err != nil {
		t.Fatalf("copy %s into PostgreSQL: %v", tbl.name, err)
	}
}
