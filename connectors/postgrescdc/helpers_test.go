package postgrescdc

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"

	"github.com/sluicedb/sluice/connectors"
	"github.com/sluicedb/sluice/internal/sqllogictest"
	"github.com/sluicedb/sluice/types"
)

// The local PostgreSQL the tests capture from.
const (
	testHost = "127.0.0.1"
	testPort = "5432"
	testUser = "postgres"
	testDB   = "test"
)

// testTimeout bounds each test's work against the server, waits included.
const testTimeout = time.Minute

func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// requirePG skips the test when there is no local PostgreSQL or its
// wal_level is not logical (both fail it with SLUICE_TEST_SERVICES=required),
// and returns a connection for setting up and checking tables.
func requirePG(t testing.TB) *pgx.Conn {
	t.Helper()
	sqllogictest.RequireService(t, "PostgreSQL", testHost+":"+testPort)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cfg, err := pgx.ParseConfig(fmt.Sprintf("postgres://%s@%s:%s/%s?sslmode=disable", testUser, testHost, testPort, testDB))
	if err != nil {
		t.Fatal(err)
	}
	setSessionParams(cfg.RuntimeParams)
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("connecting to PostgreSQL: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	var level string
	if err := conn.QueryRow(ctx, "SHOW wal_level").Scan(&level); err != nil {
		t.Fatal(err)
	}
	if level != "logical" {
		msg := fmt.Sprintf("PostgreSQL at %s:%s has wal_level = %s; change data capture needs logical "+
			"(ALTER SYSTEM SET wal_level = logical, then restart it; .ci/run does this)", testHost, testPort, level)
		if os.Getenv("SLUICE_TEST_SERVICES") == "required" {
			t.Fatal(msg)
		}
		t.Skip("skipping: " + msg)
	}
	return conn
}

var nonIdent = regexp.MustCompile(`[^a-z0-9]+`)

// names are a test's upstream table, slot and publication, unique to it.
type names struct {
	table, slot, publication string
}

// newNames returns unique names and drops the slot, the publication and
// the table when the test ends.
func newNames(t testing.TB, conn *pgx.Conn) names {
	t.Helper()
	base := strings.Trim(nonIdent.ReplaceAllString(strings.ToLower(t.Name()), "_"), "_")
	if len(base) > 30 {
		base = base[len(base)-30:]
	}
	base = fmt.Sprintf("cdc_%s_%08x", base, rand.Uint32())
	n := names{table: base, slot: base, publication: base + "_pub"}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		// A reader closed just now may hold the slot until its server
		// process ends: wait for it to be free.
		for {
			var active *bool
			err := conn.QueryRow(ctx, "SELECT active FROM pg_replication_slots WHERE slot_name = $1", n.slot).Scan(&active)
			if err == pgx.ErrNoRows {
				break
			}
			if err != nil {
				t.Errorf("reading slot %s: %v", n.slot, err)
				break
			}
			if !*active {
				if _, err := conn.Exec(ctx, "SELECT pg_drop_replication_slot($1)", n.slot); err != nil {
					t.Errorf("dropping slot %s: %v", n.slot, err)
				}
				break
			}
			select {
			case <-ctx.Done():
				t.Errorf("slot %s stayed active", n.slot)
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
		for _, sql := range []string{
			"DROP PUBLICATION IF EXISTS " + pgx.Identifier{n.publication}.Sanitize(),
			"DROP TABLE IF EXISTS " + pgx.Identifier{n.table}.Sanitize(),
		} {
			if _, err := conn.Exec(ctx, sql); err != nil {
				t.Errorf("%s: %v", sql, err)
			}
		}
	})
	return n
}

func exec(t testing.TB, conn *pgx.Conn, sql string, args ...any) {
	t.Helper()
	if _, err := conn.Exec(testContext(t), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// options returns the WITH options of a table over n, validated.
func options(t testing.TB, n names, extra map[string]string) connectors.Options {
	t.Helper()
	opts := map[string]string{
		optHost: testHost, optPort: testPort, optUser: testUser, optDatabase: testDB,
		optTable: n.table, optSlot: n.slot, optPublication: n.publication,
	}
	for k, v := range extra {
		opts[k] = v
	}
	o, err := Connector().Validate(opts)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func newSource(t testing.TB, n names, schema types.Schema, extra map[string]string) *Source {
	t.Helper()
	s, err := NewSource(testContext(t), connectors.SourceConfig{
		Name: n.table, Schema: schema, Options: options(t, n, extra), Alloc: memory.NewGoAllocator(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// engine plays the engine's part: it applies batches to a map keyed by the
// primary key, keeps the position of the last batch applied, as if stored
// with the rows, and acknowledges it (unless noAck).
type engine struct {
	t      testing.TB
	src    *Source
	split  connectors.Split
	schema types.Schema
	key    []int
	r      connectors.Reader
	rows   map[string]string // key text -> row text
	pos    connectors.Position
	noAck  bool
	acked  connectors.Position
	// batches is every batch applied: its position and rows as "+row" or
	// "-key".
	batches []appliedBatch
	errs    []connectors.RecordError
	// acks carries positions to the goroutine that acknowledges them, as
	// the engine acknowledges from another goroutine than the one reading.
	acks chan connectors.Position
}

type appliedBatch struct {
	pos     connectors.Position
	changes []string
}

func newEngine(t testing.TB, src *Source, key ...int) *engine {
	t.Helper()
	splits, err := src.Splits(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(splits) != 1 {
		t.Fatalf("got %d splits, want 1", len(splits))
	}
	e := &engine{t: t, src: src, split: splits[0], schema: src.schema, key: key, rows: map[string]string{},
		acks: make(chan connectors.Position, 1<<16)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for pos := range e.acks {
			if err := src.Acknowledge(context.Background(), e.split, pos); err != nil {
				t.Errorf("Acknowledge %q: %v", pos, err)
			}
		}
	}()
	t.Cleanup(func() {
		close(e.acks)
		<-done
		if e.r != nil {
			e.r.Close()
		}
	})
	return e
}

// open opens a reader at the engine's position, as after a (re)start.
func (e *engine) open() {
	e.t.Helper()
	if e.r != nil {
		e.r.Close()
	}
	r, err := e.src.Open(testContext(e.t), e.split, e.pos)
	if err != nil {
		e.t.Fatalf("Open at %q: %v", e.pos, err)
	}
	e.r = r
}

// close closes the reader, as the engine does after an error or a stop.
func (e *engine) close() {
	e.t.Helper()
	if err := e.r.Close(); err != nil {
		e.t.Fatal(err)
	}
	e.r = nil
}

// step reads and applies one batch.
func (e *engine) step(ctx context.Context) {
	e.t.Helper()
	b, err := e.r.Next(ctx)
	if err != nil {
		e.t.Fatalf("Next after %q: %v", e.pos, err)
	}
	if b.Position == "" {
		e.t.Fatal("batch without a position")
	}
	ab := appliedBatch{pos: b.Position}
	if b.Record != nil {
		if b.Kinds == nil || len(b.Kinds) != int(b.Record.NumRows()) {
			e.t.Fatalf("batch has %d rows and %d kinds", b.Record.NumRows(), len(b.Kinds))
		}
		for i := 0; i < int(b.Record.NumRows()); i++ {
			var key, row []string
			for j, c := range e.schema {
				v := "NULL"
				if col := b.Record.Column(j); !col.IsNull(i) {
					v = string(types.AppendText(nil, col, i, c.Type))
				}
				row = append(row, v)
			}
			for _, k := range e.key {
				key = append(key, row[k])
			}
			ks := strings.Join(key, "|")
			switch b.Kinds[i] {
			case connectors.RowInsert:
				e.rows[ks] = strings.Join(row, "|")
				ab.changes = append(ab.changes, "+"+strings.Join(row, "|"))
			case connectors.RowDelete:
				delete(e.rows, ks)
				ab.changes = append(ab.changes, "-"+ks)
			}
		}
		b.Record.Release()
	}
	e.errs = append(e.errs, b.Errors...)
	e.batches = append(e.batches, ab)
	e.pos = b.Position
	if !e.noAck {
		e.ack()
	}
}

// ack has the acknowledging goroutine acknowledge the position; e.acked is
// the last position handed to it, which the slot must never pass.
func (e *engine) ack() {
	e.acks <- e.pos
	e.acked = e.pos
}

// until steps until cond holds, failing the test at testTimeout.
func (e *engine) until(what string, cond func() bool) {
	e.t.Helper()
	ctx := testContext(e.t)
	for !cond() {
		if ctx.Err() != nil {
			e.t.Fatalf("timed out waiting for %s; table:\n  %s", what, strings.Join(e.table(), "\n  "))
		}
		e.step(ctx)
	}
}

// catchUp steps until the map equals the upstream rows of query.
func (e *engine) catchUp(conn *pgx.Conn, query string) {
	e.t.Helper()
	want := strings.Join(rowsOf(e.t, conn, query), "\n")
	e.until("the table to equal "+query, func() bool { return strings.Join(e.table(), "\n") == want })
}

// table is the map's rows, sorted.
func (e *engine) table() []string {
	out := make([]string, 0, len(e.rows))
	for _, r := range e.rows {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

// rowsOf runs query with the simple protocol, so that values come back as
// text, and returns its rows joined by '|' (NULL for null), sorted.
func rowsOf(t testing.TB, conn *pgx.Conn, query string) []string {
	t.Helper()
	rs, err := conn.Query(testContext(t), query, pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
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
		t.Fatalf("%s: %v", query, err)
	}
	sort.Strings(out)
	return out
}

// lsnOf returns the LSN of a streaming position, 0 for a snapshot one.
func lsnOf(t testing.TB, pos connectors.Position) pglogrepl.LSN {
	t.Helper()
	p, err := parsePosition(pos)
	if err != nil {
		t.Fatal(err)
	}
	if p.snapshot {
		return 0
	}
	return p.lsn
}

// confirmedFlush reads the slot's confirmed_flush_lsn.
func confirmedFlush(t testing.TB, conn *pgx.Conn, slot string) pglogrepl.LSN {
	t.Helper()
	var s string
	if err := conn.QueryRow(testContext(t), "SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1", slot).Scan(&s); err != nil {
		t.Fatalf("reading slot %s: %v", slot, err)
	}
	lsn, err := pglogrepl.ParseLSN(s)
	if err != nil {
		t.Fatal(err)
	}
	return lsn
}
