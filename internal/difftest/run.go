package difftest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sluicedb/sluice/internal/sqllogictest"
)

// DefaultOracleURL is the PostgreSQL the tests compare with.
const DefaultOracleURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// Connect opens a client connection to a server.
type Connect func(ctx context.Context) (*pgx.Conn, error)

// Options configure Run.
type Options struct {
	// NewSluice starts an empty Sluice that lives until t ends.
	NewSluice func(t testing.TB) Connect
	// OracleURL is PostgreSQL's address; DefaultOracleURL when empty.
	OracleURL string
	// Seeds are the seeds to run, one subtest each.
	Seeds []uint64
	// Rows is the length of each seed's stream (default 500).
	Rows int
	// KeyedStatements is how many statements change the keyed table
	// (default 30).
	KeyedStatements int
	// Cases is the query matrix; Matrix() when nil.
	Cases []Case
	// Replay renders the command that reruns one seed, for failure reports.
	Replay func(seed uint64) string
	// SeedTimeout bounds each seed (default two minutes).
	SeedTimeout time.Duration
	// KnownBugs runs the cases marked with a known bug instead of skipping
	// them, to check a fix.
	KnownBugs bool
}

func (o *Options) defaults() {
	if o.OracleURL == "" {
		o.OracleURL = DefaultOracleURL
	}
	if o.Rows <= 0 {
		o.Rows = 500
	}
	if o.KeyedStatements <= 0 {
		o.KeyedStatements = 30
	}
	if o.Cases == nil {
		o.Cases = Matrix()
	}
	if o.Replay == nil {
		o.Replay = func(seed uint64) string { return fmt.Sprintf("rerun with seed %d", seed) }
	}
	if o.SeedTimeout <= 0 {
		o.SeedTimeout = 2 * time.Minute
	}
}

// Run runs the differential test: for every seed, a fresh Sluice gets the
// seed's stream and keyed-table workload through every view of the matrix,
// and each view's contents at quiescence are compared with what PostgreSQL
// computes over the rows that were not late. One subtest per seed, and in it
// one per case, so `-run 'TestX/seed=3/hop_by_key'` selects a single case.
func Run(t *testing.T, opts Options) {
	opts.defaults()
	cfg, err := pgx.ParseConfig(opts.OracleURL)
	if err != nil {
		t.Fatalf("oracle URL: %v", err)
	}
	sqllogictest.RequireService(t, "PostgreSQL", net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))))
	if err := CheckMatrix(opts.Cases); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	oracle, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("connect to PostgreSQL: %v", err)
	}
	t.Cleanup(func() { _ = oracle.Close(context.Background()) })

	missing, err := ProbeFeatures(ctx, opts.NewSluice(t), Probes())
	if err != nil {
		t.Fatal(err)
	}
	var stats runStats
	start := time.Now()
	for _, seed := range opts.Seeds {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			s := &seedRun{opts: &opts, seed: seed, oracle: oracle, missing: missing, stats: &stats}
			s.run(t)
		})
	}
	t.Logf("%d seeds: %d views compared, %d skipped, in %s",
		len(opts.Seeds), stats.compared.Load(), stats.skipped.Load(), time.Since(start).Round(time.Millisecond))
}

type runStats struct{ compared, skipped atomic.Int64 }

// CheckMatrix verifies that case names are unique and that every view a case
// reads comes earlier in the matrix, so views can be created in order.
func CheckMatrix(cases []Case) error {
	seen := map[string]bool{}
	for _, c := range cases {
		if seen[c.Name] {
			return fmt.Errorf("matrix: two cases are named %s", c.Name)
		}
		for _, dep := range c.DependsOn() {
			if !seen[dep] {
				return fmt.Errorf("matrix: case %s reads view %s, which does not come before it", c.Name, dep)
			}
		}
		if c.Emit == OnWindowClose && !strings.Contains(c.Postgres, "{watermark}") {
			return fmt.Errorf("matrix: case %s emits on window close but its PostgreSQL query ignores the watermark", c.Name)
		}
		seen[c.Name] = true
	}
	return nil
}

// seedRun is one seed: one Sluice, one stream, every case.
type seedRun struct {
	opts    *Options
	seed    uint64
	oracle  *pgx.Conn
	missing map[Feature]string
	stats   *runStats

	params  StreamParams
	outcome Outcome
	// skip and failed say why a case is not compared: skipped on purpose
	// (a known bug, a missing feature) or because its view could not be
	// created.
	skip   map[string]string
	failed map[string]error
	// created is the step after which each view was created, of steps.
	created map[string]int
	steps   int
}

func (s *seedRun) run(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.SeedTimeout)
	defer cancel()
	s.params = ParamsForSeed(s.seed, s.opts.Rows)
	rows := Generate(s.params)
	s.outcome = Simulate(rows, s.params.Delay)
	keyed := KeyedWorkload(s.seed, s.opts.KeyedStatements)

	conn, err := s.opts.NewSluice(t)(ctx)
	if err != nil {
		t.Fatalf("connect to Sluice: %v", err)
	}
	defer conn.Close(context.Background())

	s.decideSkips()
	if err := s.feedSluice(ctx, conn, rows, keyed); err != nil {
		t.Fatalf("%s\nstream: %s\nreplay: %s", err, s.params, s.opts.Replay(s.seed))
	}
	if err := s.loadOracle(ctx, keyed); err != nil {
		t.Fatalf("load PostgreSQL: %v", err)
	}
	s.checkLateRows(ctx, t, conn)
	failedChunks, err := viewFailures(ctx, conn)
	if err != nil {
		t.Fatalf("SHOW MATERIALIZED VIEWS: %v", err)
	}
	byName := map[string]Case{}
	for _, c := range s.opts.Cases {
		byName[c.Name] = c
	}
	for _, c := range s.opts.Cases {
		t.Run(c.Name, func(t *testing.T) {
			if reason := s.skip[c.Name]; reason != "" {
				s.stats.skipped.Add(1)
				t.Skip(reason)
			}
			if err := s.failed[c.Name]; err != nil {
				t.Fatalf("%s\n%s", err, s.describe(c, ""))
			}
			s.stats.compared.Add(1)
			s.compare(ctx, t, conn, c, byName, failedChunks[c.Name])
		})
	}
}

// decideSkips marks the cases that do not run this time, and those that read
// them.
func (s *seedRun) decideSkips() {
	s.skip, s.failed = map[string]string{}, map[string]error{}
	for _, c := range s.opts.Cases {
		switch {
		case c.KnownBug != "" && !s.opts.KnownBugs:
			s.skip[c.Name] = "known Sluice bug: " + c.KnownBug
		case s.missing[c.Needs] != "":
			s.skip[c.Name] = fmt.Sprintf("Sluice lacks %s: %s", c.Needs, s.missing[c.Needs])
		default:
			for _, dep := range c.DependsOn() {
				if s.skip[dep] != "" {
					s.skip[c.Name] = fmt.Sprintf("reads view %s, which is skipped (%s)", dep, s.skip[dep])
					break
				}
			}
		}
	}
}

// feedSluice creates the tables, sends the stream and then the keyed
// workload, creates each view at its creation point on the way, and waits
// until every view has seen everything.
func (s *seedRun) feedSluice(ctx context.Context, conn *pgx.Conn, rows []Row, keyed []string) error {
	if _, err := conn.Exec(ctx, s.params.CreateTableSQL()); err != nil {
		return fmt.Errorf("%s: %w", s.params.CreateTableSQL(), err)
	}
	var steps []string
	for _, batch := range Batches(s.seed, rows) {
		steps = append(steps, InsertSQL(batch))
	}
	useKeyed := false
	for _, c := range s.opts.Cases {
		if c.ReadsKeyedTable() && s.skip[c.Name] == "" {
			useKeyed = true
		}
	}
	if useKeyed {
		if _, err := conn.Exec(ctx, KeyedCreateSQL); err != nil {
			return fmt.Errorf("%s: %w", KeyedCreateSQL, err)
		}
		steps = append(steps, keyed...)
	}
	s.steps = len(steps)
	s.created = CreationPoints(s.seed, s.opts.Cases, len(steps))
	for i := 0; i <= len(steps); i++ {
		for _, c := range s.opts.Cases {
			if s.created[c.Name] == i {
				s.createView(ctx, conn, c)
			}
		}
		if i == len(steps) {
			break
		}
		if _, err := conn.Exec(ctx, steps[i]); err != nil {
			return fmt.Errorf("step %d of %d: %s: %w", i+1, len(steps), abbreviate(steps[i]), err)
		}
	}
	// INSERT already waits for its epoch; FLUSH states the quiescence the
	// comparison relies on.
	if _, err := conn.Exec(ctx, "FLUSH"); err != nil {
		return fmt.Errorf("FLUSH: %w", err)
	}
	return nil
}

func (s *seedRun) createView(ctx context.Context, conn *pgx.Conn, c Case) {
	if s.skip[c.Name] != "" {
		return
	}
	if dep := s.failedDependency(c); dep != "" {
		s.failed[c.Name] = fmt.Errorf("reads view %s, which could not be created", dep)
		return
	}
	if _, err := conn.Exec(ctx, c.CreateSQL()); err != nil {
		s.failed[c.Name] = fmt.Errorf("create the view: %w", err)
	}
}

// CreationPoints decides when each view is created: most before the first
// row, the others after a random number of the steps (INSERT batches, then
// keyed statements), so that they start from what the tables hold, which
// must not change their contents at quiescence. A view is never created
// before the views it reads.
func CreationPoints(seed uint64, cases []Case, steps int) map[string]int {
	r := rand.New(rand.NewPCG(seed, 0xc4ea))
	points := map[string]int{}
	for _, c := range cases {
		p := 0
		if r.IntN(10) < 3 {
			p = r.IntN(steps + 1)
		}
		for _, dep := range c.DependsOn() {
			p = max(p, points[dep])
		}
		points[c.Name] = p
	}
	return points
}

func abbreviate(sql string) string {
	if len(sql) > 200 {
		return sql[:200] + "..."
	}
	return sql
}

func (s *seedRun) failedDependency(c Case) string {
	for _, dep := range c.DependsOn() {
		if s.failed[dep] != nil {
			return dep
		}
	}
	return ""
}

// OracleSetupSQL creates PostgreSQL's ev and kv as temporary tables. Text
// compares in byte order (COLLATE "C"), as in Sluice, whatever the
// database's collation.
const OracleSetupSQL = `DROP TABLE IF EXISTS ev, kv;
CREATE TEMP TABLE ev (k INT, g TEXT COLLATE "C", v BIGINT, f DOUBLE PRECISION, ts TIMESTAMP);
CREATE TEMP TABLE kv (id INT PRIMARY KEY, k INT, g TEXT COLLATE "C", v BIGINT, f DOUBLE PRECISION)`

// LoadOracle fills PostgreSQL's ev with the rows that were not late (COPY)
// and kv by running the keyed workload's statements.
func LoadOracle(ctx context.Context, oracle *pgx.Conn, kept []Row, keyed []string) error {
	if _, err := oracle.Exec(ctx, OracleSetupSQL); err != nil {
		return fmt.Errorf("create tables: %w", err)
	}
	copyRows := make([][]any, len(kept))
	for i, row := range kept {
		copyRows[i] = row.copyValues()
	}
	if _, err := oracle.CopyFrom(ctx, pgx.Identifier{StreamTable}, []string{"k", "g", "v", "f", "ts"}, pgx.CopyFromRows(copyRows)); err != nil {
		return fmt.Errorf("copy into %s: %w", StreamTable, err)
	}
	if len(keyed) > 0 {
		if _, err := oracle.Exec(ctx, strings.Join(keyed, ";\n")); err != nil {
			return fmt.Errorf("keyed workload: %w", err)
		}
	}
	return nil
}

func (s *seedRun) loadOracle(ctx context.Context, keyed []string) error {
	return LoadOracle(ctx, s.oracle, s.outcome.Kept, keyed)
}

// checkLateRows compares the late rows and the watermark SHOW TABLES shows
// for the stream table with the simulation's. Every view reading the table
// drops the same rows, so the count is the stream's, not a sum over views.
func (s *seedRun) checkLateRows(ctx context.Context, t *testing.T, conn *pgx.Conn) {
	readers := 0
	for _, c := range s.opts.Cases {
		if s.skip[c.Name] == "" && s.failed[c.Name] == nil && !c.ReadsKeyedTable() && len(c.DependsOn()) == 0 {
			readers++
		}
	}
	if readers == 0 {
		return // no view reads the stream, so nothing counted its late rows
	}
	res, err := Query(ctx, conn, "SHOW TABLES")
	if err != nil {
		t.Errorf("SHOW TABLES: %v", err)
		return
	}
	lateCol, wmCol := columnIndex(res, "late_rows"), columnIndex(res, "watermark")
	if lateCol < 0 || wmCol < 0 {
		t.Errorf("SHOW TABLES has no late_rows or watermark column: %v", res.Columns)
		return
	}
	wantWM := Null
	if s.outcome.HasWatermark {
		wantWM = Text(FormatTimestamp(s.outcome.Watermark))
	}
	for _, row := range res.Rows {
		if row[0].Text != StreamTable {
			continue
		}
		wantLate := Text(strconv.Itoa(len(s.outcome.Late)))
		if row[lateCol] != wantLate || row[wmCol] != wantWM {
			t.Errorf("SHOW TABLES: %s has late_rows %s and watermark %s, want %s and %s\nstream: %s\nreplay: %s",
				StreamTable, row[lateCol], row[wmCol], wantLate, wantWM, s.params, s.opts.Replay(s.seed))
		}
		return
	}
	t.Errorf("SHOW TABLES does not list %s", StreamTable)
}

func columnIndex(res Result, name string) int {
	for i, c := range res.Columns {
		if c.Name == name {
			return i
		}
	}
	return -1
}

// viewFailures returns, per view, the failed chunks SHOW MATERIALIZED VIEWS
// reports, with the last failure.
func viewFailures(ctx context.Context, conn *pgx.Conn) (map[string]string, error) {
	res, err := Query(ctx, conn, "SHOW MATERIALIZED VIEWS")
	if err != nil {
		return nil, err
	}
	errCol, lastCol := columnIndex(res, "error_chunks"), columnIndex(res, "last_error")
	out := map[string]string{}
	if errCol < 0 {
		return out, nil
	}
	for _, row := range res.Rows {
		if n := row[errCol].Text; !row[errCol].Null && n != "0" {
			last := ""
			if lastCol >= 0 {
				last = row[lastCol].Text
			}
			out[row[0].Text] = fmt.Sprintf("%s failed chunks, the last: %s", n, last)
		}
	}
	return out, nil
}

// compare reads one view and its expected contents and reports any
// difference with everything needed to replay it.
func (s *seedRun) compare(ctx context.Context, t *testing.T, conn *pgx.Conn, c Case, byName map[string]Case, failedChunks string) {
	pgSQL, err := c.ResolvePostgres(byName, s.outcome.Watermark)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Query(ctx, conn, "SELECT * FROM "+c.Name)
	if err != nil {
		t.Fatalf("read the view: %v\n%s", err, s.describe(c, pgSQL))
	}
	want, err := Query(ctx, s.oracle, "SELECT * FROM ("+pgSQL+") AS expected")
	if err != nil {
		t.Fatalf("PostgreSQL: %v\n%s", err, s.describe(c, pgSQL))
	}
	t.Logf("%d rows", len(want.Rows))
	if d := Compare(got, want); !d.Empty() {
		t.Errorf("view %s differs from PostgreSQL\n%s%s", c.Name, d, s.describe(c, pgSQL))
	}
	if failedChunks != "" {
		t.Errorf("view %s reports %s\n%s", c.Name, failedChunks, s.describe(c, pgSQL))
	}
}

// describe is the context of a failure: the stream, both queries, and how
// to replay it.
func (s *seedRun) describe(c Case, pgSQL string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "stream: %s; %d late rows of %d", s.params, len(s.outcome.Late), s.params.Rows)
	if s.outcome.HasWatermark {
		fmt.Fprintf(&b, ", final watermark %s", FormatTimestamp(s.outcome.Watermark))
	}
	fmt.Fprintf(&b, "\nview created after %d of %d steps (INSERT batches, then keyed statements)", s.created[c.Name], s.steps)
	fmt.Fprintf(&b, "\nSluice:     %s;\n", c.CreateSQL())
	if pgSQL == "" {
		pgSQL = c.Postgres
	}
	fmt.Fprintf(&b, "PostgreSQL: %s;\nreplay:     %s\n", pgSQL, s.opts.Replay(s.seed))
	return b.String()
}

// Probe finds out whether Sluice has a feature: Setup must succeed; if one
// of Statements fails with one of the Absent SQLSTATEs, the feature is
// missing.
type Probe struct {
	Feature    Feature
	Setup      []string
	Statements []string
	Absent     []string
}

// Probes are the checks for the features the matrix may lack.
func Probes() []Probe {
	return []Probe{
		{
			Feature: SessionWindows,
			Setup:   []string{"CREATE TABLE difftest_probe_stream (k INT, ts TIMESTAMP, WATERMARK FOR ts AS ts - INTERVAL '1' SECOND) APPEND ONLY"},
			Statements: []string{"CREATE MATERIALIZED VIEW difftest_probe_sessions AS SELECT window_start, window_end, k, count(*) " +
				"FROM SESSION(difftest_probe_stream, ts, INTERVAL '1' SECOND) GROUP BY window_start, window_end, k"},
			// 42883: SESSION read as an unknown function in FROM.
			Absent: []string{"0A000", "42601", "42883"},
		},
		{
			Feature: TableUpdates,
			Setup: []string{"CREATE TABLE difftest_probe_keyed (id INT PRIMARY KEY, v BIGINT)",
				"INSERT INTO difftest_probe_keyed VALUES (1, 1), (2, 2)"},
			Statements: []string{"UPDATE difftest_probe_keyed SET v = 3 WHERE id = 1", "DELETE FROM difftest_probe_keyed WHERE id = 2"},
			Absent:     []string{"0A000", "42601"},
		},
	}
}

// ProbeFeatures runs the probes on a server of their own and returns why each
// missing feature is missing. A probe that fails any other way is an error:
// a feature that is there but broken must not be skipped silently.
func ProbeFeatures(ctx context.Context, connect Connect, probes []Probe) (map[Feature]string, error) {
	conn, err := connect(ctx)
	if err != nil {
		return nil, fmt.Errorf("connect to Sluice: %w", err)
	}
	defer conn.Close(context.Background())
	missing := map[Feature]string{}
	for _, p := range probes {
		for _, stmt := range p.Setup {
			if _, err := conn.Exec(ctx, stmt); err != nil {
				return nil, fmt.Errorf("probe %s: %s: %w", p.Feature, stmt, err)
			}
		}
		for _, stmt := range p.Statements {
			_, err := conn.Exec(ctx, stmt)
			if err == nil {
				continue
			}
			var pgErr *pgconn.PgError
			if errors.As(err, &pgErr) && contains(p.Absent, pgErr.Code) {
				missing[p.Feature] = fmt.Sprintf("%s answers %s (%s)", stmt, pgErr.Code, pgErr.Message)
				break
			}
			return nil, fmt.Errorf("probe %s: %s: %w", p.Feature, stmt, err)
		}
	}
	return missing, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
