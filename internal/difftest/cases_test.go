package difftest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sluicedb/sluice/internal/sqllogictest"
)

func TestCheckMatrix(t *testing.T) {
	if err := CheckMatrix(Matrix()); err != nil {
		t.Fatalf("the matrix: %v", err)
	}
	tests := []struct {
		name  string
		cases []Case
		want  string
	}{
		{"two cases with one name", []Case{{Name: "a"}, {Name: "a"}}, "two cases are named a"},
		{"a view read before it is created", []Case{{Name: "b", Postgres: "SELECT * FROM {view:a}"}, {Name: "a"}}, "reads view a"},
		{"a view read that does not exist", []Case{{Name: "b", Postgres: "SELECT * FROM {view:a}"}}, "reads view a"},
		{"a window-close case that ignores the watermark", []Case{{Name: "a", Emit: OnWindowClose, Postgres: "SELECT 1"}}, "ignores the watermark"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckMatrix(tt.cases)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("CheckMatrix: %v, want an error about %q", err, tt.want)
			}
		})
	}
}

func TestMatrixCoversTheIssue(t *testing.T) {
	var sluice strings.Builder
	emits, needs := map[Emit]int{}, map[Feature]int{}
	for _, c := range Matrix() {
		sluice.WriteString(c.Sluice + "\n")
		emits[c.Emit]++
		needs[c.Needs]++
		if strings.Contains(c.Sluice, "EMIT") || strings.Contains(c.Sluice, "{") {
			t.Errorf("case %s: the Sluice query holds an EMIT clause or a token: %s", c.Name, c.Sluice)
		}
	}
	for _, want := range []string{"TUMBLE(", "HOP(", "SESSION(", "count(*)", "count(v)", "count(DISTINCT g)", "sum(v)", "sum(f)",
		"avg(v)", "avg(f)", "min(v)", "max(v)", "min(g)", "max(g)", "min(ts)", "max(ts)", "HAVING", "v % 3 = 0", "IS NOT NULL",
		"sum(v) * 2", "max(v) - min(v)", "FROM kv"} {
		if !strings.Contains(sluice.String(), want) {
			t.Errorf("no case uses %s", want)
		}
	}
	if emits[OnWindowClose] == 0 || emits[Incremental] == 0 {
		t.Errorf("emit modes: %v", emits)
	}
	if needs[SessionWindows] == 0 || needs[TableUpdates] == 0 {
		t.Errorf("features: %v", needs)
	}
}

func TestResolvePostgres(t *testing.T) {
	cases := []Case{
		{Name: "base", Postgres: "SELECT k FROM ev WHERE ts <= {watermark}"},
		{Name: "middle", Postgres: "SELECT k FROM {view:base}"},
		{Name: "top", Postgres: "SELECT count(*) FROM {view:middle} JOIN {view:base} USING (k)"},
	}
	byName := map[string]Case{}
	for _, c := range cases {
		byName[c.Name] = c
	}
	got, err := cases[2].ResolvePostgres(byName, time.Date(2026, 3, 1, 12, 0, 5, 250_000_000, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	base := "(SELECT k FROM ev WHERE ts <= TIMESTAMP '2026-03-01 12:00:05.25') AS base"
	want := "SELECT count(*) FROM (SELECT k FROM " + base + ") AS middle JOIN " + base + " USING (k)"
	if got != want {
		t.Errorf("resolved:\n got %s\nwant %s", got, want)
	}
	if deps := cases[2].DependsOn(); strings.Join(deps, ",") != "middle,base" {
		t.Errorf("DependsOn = %v", deps)
	}
	if _, err := (Case{Name: "x", Postgres: "SELECT * FROM {view:nope}"}).ResolvePostgres(byName, time.Time{}); err == nil {
		t.Error("a query reading a view outside the matrix resolved")
	}
}

func TestCreateSQL(t *testing.T) {
	c := Case{Name: "v", Sluice: "SELECT 1", Emit: OnWindowClose}
	if got, want := c.CreateSQL(), "CREATE MATERIALIZED VIEW v AS SELECT 1 EMIT ON WINDOW CLOSE"; got != want {
		t.Errorf("CreateSQL = %q, want %q", got, want)
	}
	c.Emit = Incremental
	if got, want := c.CreateSQL(), "CREATE MATERIALIZED VIEW v AS SELECT 1"; got != want {
		t.Errorf("CreateSQL = %q, want %q", got, want)
	}
}

func TestSkips(t *testing.T) {
	cases := []Case{
		{Name: "plain"},
		{Name: "buggy", KnownBug: "it breaks"},
		{Name: "on_buggy", Postgres: "SELECT * FROM {view:buggy}"},
		{Name: "sessions", Needs: SessionWindows},
		{Name: "on_sessions", Postgres: "SELECT * FROM {view:sessions}"},
	}
	s := &seedRun{opts: &Options{Cases: cases}, missing: map[Feature]string{SessionWindows: "not yet"}}
	s.decideSkips()
	want := map[string]string{
		"plain":       "",
		"buggy":       "known Sluice bug: it breaks",
		"on_buggy":    "reads view buggy, which is skipped (known Sluice bug: it breaks)",
		"sessions":    "Sluice lacks SESSION windows: not yet",
		"on_sessions": "reads view sessions, which is skipped (Sluice lacks SESSION windows: not yet)",
	}
	for name, reason := range want {
		if s.skip[name] != reason {
			t.Errorf("%s: skip reason %q, want %q", name, s.skip[name], reason)
		}
	}
	s.opts.KnownBugs = true
	s.decideSkips()
	if s.skip["buggy"] != "" || s.skip["on_buggy"] != "" {
		t.Errorf("with KnownBugs, buggy cases are still skipped: %q", s.skip)
	}
}

func TestCreationPoints(t *testing.T) {
	cases := Matrix()
	points := CreationPoints(4, cases, 30)
	byName := map[string]Case{}
	atStart := 0
	for _, c := range cases {
		byName[c.Name] = c
		p := points[c.Name]
		if p < 0 || p > 30 {
			t.Errorf("%s is created at step %d of 30", c.Name, p)
		}
		if p == 0 {
			atStart++
		}
		for _, dep := range c.DependsOn() {
			if points[dep] > p {
				t.Errorf("%s is created at step %d, before %s (step %d) which it reads", c.Name, p, dep, points[dep])
			}
		}
	}
	if atStart == 0 || atStart == len(cases) {
		t.Errorf("%d of %d views are created before the first row; want most, not all", atStart, len(cases))
	}
}

func oracle(t *testing.T) *pgx.Conn {
	t.Helper()
	sqllogictest.RequireService(t, "PostgreSQL", "127.0.0.1:5432")
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, DefaultOracleURL)
	if err != nil {
		t.Fatalf("connect to PostgreSQL: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

// TestPostgresQueriesRun runs the PostgreSQL query of every case over the
// tables of a few seeds: each must run, and return rows for at least one
// seed, or it tests nothing.
func TestPostgresQueriesRun(t *testing.T) {
	conn := oracle(t)
	ctx := context.Background()
	cases := Matrix()
	byName := map[string]Case{}
	for _, c := range cases {
		byName[c.Name] = c
	}
	rows := map[string]int{}
	for seed := uint64(1); seed <= 3; seed++ {
		p := ParamsForSeed(seed, 400)
		out := Simulate(Generate(p), p.Delay)
		if err := LoadOracle(ctx, conn, out.Kept, KeyedWorkload(seed, 30)); err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		for _, c := range cases {
			q, err := c.ResolvePostgres(byName, out.Watermark)
			if err != nil {
				t.Fatal(err)
			}
			res, err := Query(ctx, conn, "SELECT * FROM ("+q+") AS expected")
			if err != nil {
				t.Errorf("seed %d, case %s: %v\n%s", seed, c.Name, err, q)
				continue
			}
			rows[c.Name] += len(res.Rows)
		}
	}
	for _, c := range cases {
		if rows[c.Name] == 0 {
			t.Errorf("case %s has no rows in seeds 1 to 3", c.Name)
		}
	}
}

// TestPostgresWindows checks the PostgreSQL side of the window functions
// against windows worked out by hand: alignment with offsets, times before
// 1970, half-open bounds, and sessions split at exactly the gap.
func TestPostgresWindows(t *testing.T) {
	conn := oracle(t)
	ctx := context.Background()
	ts := func(s string) time.Time {
		v, err := time.Parse("2006-01-02 15:04:05.999999", s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	key := func(k int32) Row { r := Row{}; r.K.Int32, r.K.Valid = k, true; return r }
	rowAt := func(k int32, s string) Row { r := key(k); r.TS = ts(s); return r }
	tests := []struct {
		name string
		w    window
		rows []Row
		// want lists window_start, window_end, k and the count.
		want []string
	}{
		{
			name: "tumble with an offset, on and just before a boundary",
			w:    tumble(evRelation, 10*time.Second, 3*time.Second),
			rows: []Row{rowAt(1, "2026-03-01 12:00:02.999999"), rowAt(1, "2026-03-01 12:00:03")},
			want: []string{
				"2026-03-01 11:59:53 2026-03-01 12:00:03 1 1",
				"2026-03-01 12:00:03 2026-03-01 12:00:13 1 1",
			},
		},
		{
			name: "tumble before 1970",
			w:    tumble(evRelation, 10*time.Second, 0),
			rows: []Row{rowAt(1, "1969-12-31 23:59:58"), rowAt(1, "1970-01-01 00:00:00")},
			want: []string{
				"1969-12-31 23:59:50 1970-01-01 00:00:00 1 1",
				"1970-01-01 00:00:00 1970-01-01 00:00:10 1 1",
			},
		},
		{
			name: "hop: every window containing the row",
			w:    hop(evRelation, 5*time.Second, 15*time.Second, 0),
			rows: []Row{rowAt(1, "2026-03-01 12:00:07")},
			want: []string{
				"2026-03-01 11:59:55 2026-03-01 12:00:10 1 1",
				"2026-03-01 12:00:00 2026-03-01 12:00:15 1 1",
				"2026-03-01 12:00:05 2026-03-01 12:00:20 1 1",
			},
		},
		{
			name: "hop with an offset beyond the slide aligns modulo the slide",
			w:    hop(evRelation, 5*time.Second, 15*time.Second, 7*time.Second),
			rows: []Row{rowAt(1, "2026-03-01 12:00:07")},
			want: []string{
				"2026-03-01 11:59:57 2026-03-01 12:00:12 1 1",
				"2026-03-01 12:00:02 2026-03-01 12:00:17 1 1",
				"2026-03-01 12:00:07 2026-03-01 12:00:22 1 1",
			},
		},
		{
			name: "sessions per key: ties stay together, a gap of exactly the gap splits",
			w:    session(evRelation, 3*time.Second, "k"),
			rows: []Row{
				rowAt(1, "2026-03-01 12:00:00"), rowAt(1, "2026-03-01 12:00:02"), rowAt(1, "2026-03-01 12:00:02"),
				rowAt(1, "2026-03-01 12:00:05"), rowAt(1, "2026-03-01 12:00:09"), rowAt(2, "2026-03-01 12:00:01"),
			},
			want: []string{
				"2026-03-01 12:00:00 2026-03-01 12:00:05 1 3",
				"2026-03-01 12:00:01 2026-03-01 12:00:04 2 1",
				"2026-03-01 12:00:05 2026-03-01 12:00:08 1 1",
				"2026-03-01 12:00:09 2026-03-01 12:00:12 1 1",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := LoadOracle(ctx, conn, tt.rows, nil); err != nil {
				t.Fatal(err)
			}
			res, err := Query(ctx, conn, "SELECT window_start, window_end, k, count(*) FROM "+tt.w.postgres+
				" GROUP BY 1, 2, 3 ORDER BY 1, 3")
			if err != nil {
				t.Fatalf("%v\n%s", err, tt.w.postgres)
			}
			var got []string
			for _, row := range res.Rows {
				cells := make([]string, len(row))
				for i, v := range row {
					cells[i] = v.String()
				}
				got = append(got, strings.Join(cells, " "))
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("windows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// TestProbeFeatures runs probes against PostgreSQL, which stands in for a
// server that has some features and lacks others.
func TestProbeFeatures(t *testing.T) {
	oracle(t) // skips without PostgreSQL
	connect := func(ctx context.Context) (*pgx.Conn, error) { return pgx.Connect(ctx, DefaultOracleURL) }
	ctx := context.Background()
	present := Probe{Feature: "temporary tables", Setup: []string{"CREATE TEMP TABLE probe_t (x INT)"},
		Statements: []string{"INSERT INTO probe_t VALUES (1)"}, Absent: []string{"0A000"}}
	absent := Probe{Feature: "a function", Statements: []string{"SELECT * FROM no_such_function(1)"}, Absent: []string{"42883"}}
	missing, err := ProbeFeatures(ctx, connect, []Probe{present, absent})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := missing["temporary tables"]; ok {
		t.Errorf("a feature that works is missing: %q", missing)
	}
	if reason := missing["a function"]; !strings.Contains(reason, "42883") {
		t.Errorf("a missing feature's reason is %q, want the SQLSTATE", reason)
	}
	broken := Probe{Feature: "division", Statements: []string{"SELECT 1/0"}, Absent: []string{"0A000"}}
	if _, err := ProbeFeatures(ctx, connect, []Probe{broken}); err == nil || !strings.Contains(err.Error(), "22012") {
		t.Errorf("a probe failing with another code: %v, want the error", err)
	}
	badSetup := Probe{Feature: "setup", Setup: []string{"SELEKT"}, Absent: []string{"42601"}}
	if _, err := ProbeFeatures(ctx, connect, []Probe{badSetup}); err == nil {
		t.Error("a probe whose setup fails passed")
	}
}
