package postgrescdc

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"

	"github.com/sluicedb/sluice/connectors"
	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/types"
)

// ordersSchema is the Sluice table the tests capture into; the upstream
// table is created by createOrders.
var ordersSchema = types.Schema{
	{Name: "id", Type: types.Int4, NotNull: true},
	{Name: "name", Type: types.Text},
	{Name: "qty", Type: types.Int8},
	{Name: "price", Type: types.Float8},
	{Name: "at", Type: types.TimestampTZ},
	{Name: "ok", Type: types.Bool},
}

const ordersColumns = "id, name, qty, price, at, ok"

func createOrders(t *testing.T, conn *pgx.Conn, n names, rows int) {
	t.Helper()
	exec(t, conn, fmt.Sprintf(`CREATE TABLE %s (id int PRIMARY KEY, name text, qty bigint,
		price double precision, at timestamptz, ok boolean)`, n.table))
	if rows > 0 {
		exec(t, conn, fmt.Sprintf(`INSERT INTO %s SELECT i, 'row ' || i, i * 10, i / 4.0,
			'2026-01-02 03:04:05.5+00'::timestamptz + i * interval '1 hour', i %% 2 = 0
			FROM generate_series(1, %d) i`, n.table, rows))
	}
}

// TestSnapshotThenChanges reads a table that has rows before the source
// starts, while a workload changes it, and checks that the snapshot is the
// table as it was when the slot was created (no change in it twice) and
// that the table ends equal to upstream.
func TestSnapshotThenChanges(t *testing.T) {
	conn := requirePG(t)
	n := newNames(t, conn)
	createOrders(t, conn, n, 10)
	before := rowsOf(t, conn, "SELECT "+ordersColumns+" FROM "+n.table)

	src := newSource(t, n, ordersSchema, nil)
	src.pageRows = 3
	e := newEngine(t, src, 0)
	e.open()

	// Changes made after the slot exists, before the snapshot is read.
	workload := []string{
		"INSERT INTO %[1]s VALUES (11, 'new', 110, 2.5, '2026-02-01 00:00:00+00', true)",
		"UPDATE %[1]s SET name = 'renamed', qty = qty + 1 WHERE id = 3",
		"UPDATE %[1]s SET id = 100 WHERE id = 2", // a key change
		"DELETE FROM %[1]s WHERE id IN (4, 5)",
		"BEGIN; INSERT INTO %[1]s VALUES (12, NULL, NULL, NULL, NULL, NULL); UPDATE %[1]s SET price = 1e300 WHERE id = 12; DELETE FROM %[1]s WHERE id = 1; COMMIT",
		"UPDATE %[1]s SET ok = NOT ok",
		"BEGIN; DELETE FROM %[1]s WHERE id = 6; INSERT INTO %[1]s VALUES (6, 'again', 6, 0.1, NULL, false); COMMIT",
	}
	for _, w := range workload {
		exec(t, conn, fmt.Sprintf(w, n.table))
	}

	// The snapshot ends with a batch at the slot's LSN: the table is then
	// exactly what it was before the workload.
	e.until("the end of the snapshot", func() bool { return len(e.batches) > 0 && lsnOf(t, e.pos) != 0 })
	if got, want := strings.Join(e.table(), "\n"), strings.Join(before, "\n"); got != want {
		t.Errorf("after the snapshot:\n got:\n  %s\nwant:\n  %s", strings.ReplaceAll(got, "\n", "\n  "), strings.ReplaceAll(want, "\n", "\n  "))
	}
	snapshotBatches := len(e.batches)
	if snapshotBatches < 4 {
		t.Errorf("the snapshot of 10 rows came in %d batches, want pages of 3 rows (4 batches)", snapshotBatches)
	}

	// More changes while streaming.
	exec(t, conn, fmt.Sprintf("INSERT INTO %s SELECT i, 'bulk', i, i, now(), true FROM generate_series(200, 299) i", n.table))
	exec(t, conn, fmt.Sprintf("UPDATE %s SET id = id + 1000 WHERE id BETWEEN 200 AND 209", n.table))
	e.catchUp(conn, "SELECT "+ordersColumns+" FROM "+n.table)

	// Positions only move forward, and every streamed batch but the
	// progress ones ends on a commit.
	var last uint64
	for _, b := range e.batches[snapshotBatches:] {
		l := uint64(lsnOf(t, b.pos))
		if l < last {
			t.Errorf("position %s after %d", b.pos, last)
		}
		last = l
	}
	if len(e.errs) > 0 {
		t.Errorf("unexpected record errors: %v", e.errs)
	}
}

// TestRestartMidStream closes the reader in the middle of the stream and
// opens it again at the last position applied: the counter that each
// transaction increments must be seen at every value exactly once across
// the restart, which means nothing was skipped and nothing applied twice.
func TestRestartMidStream(t *testing.T) {
	conn := requirePG(t)
	n := newNames(t, conn)
	createOrders(t, conn, n, 3)
	src := newSource(t, n, ordersSchema, nil)
	src.batchRows = 1
	e := newEngine(t, src, 0)
	e.open()
	e.catchUp(conn, "SELECT "+ordersColumns+" FROM "+n.table)

	const txns = 30
	bump := fmt.Sprintf("UPDATE %s SET qty = qty + 1 WHERE id = 1", n.table)
	for i := 0; i < txns/2; i++ {
		exec(t, conn, bump)
	}
	// Apply a few of them, then restart.
	e.until("qty 17", func() bool { return strings.Split(e.rows["1"], "|")[2] == "17" })
	restartAt := e.pos
	e.close()
	for i := txns / 2; i < txns; i++ {
		exec(t, conn, bump)
	}
	e.open()
	e.catchUp(conn, "SELECT "+ordersColumns+" FROM "+n.table)

	var seen []string
	reopened := false
	for _, b := range e.batches {
		if b.pos == restartAt {
			reopened = true
		}
		if reopened && b.pos != restartAt && lsnOf(t, b.pos) <= lsnOf(t, restartAt) {
			t.Errorf("after reopening at %s, a batch at %s", restartAt, b.pos)
		}
		for _, c := range b.changes {
			if f := strings.Split(c, "|"); f[0] == "+1" {
				seen = append(seen, f[2])
			}
		}
	}
	var want []string
	for i := 0; i <= txns; i++ {
		want = append(want, fmt.Sprint(10+i))
	}
	if strings.Join(seen, " ") != strings.Join(want, " ") {
		t.Errorf("qty of row 1 went through\n  %s\nwant\n  %s", strings.Join(seen, " "), strings.Join(want, " "))
	}
}

// TestRestartMidSnapshot closes the reader after the first page of the
// snapshot, changes rows on both sides of the key it reached, and opens it
// again at that position: the snapshot resumes after the key and the table
// converges to upstream, including a delete of a row already applied.
func TestRestartMidSnapshot(t *testing.T) {
	conn := requirePG(t)
	n := newNames(t, conn)
	createOrders(t, conn, n, 7)
	src := newSource(t, n, ordersSchema, nil)
	src.pageRows = 2
	e := newEngine(t, src, 0)
	e.open()
	e.step(testContext(t))
	if p, err := parsePosition(e.pos); err != nil || !p.snapshot || strings.Join(p.key, ",") != "2" {
		t.Fatalf("after the first page: position %q (%v), want a snapshot position at key 2", e.pos, err)
	}
	e.close()
	for _, w := range []string{
		"DELETE FROM %s WHERE id = 1",
		"UPDATE %s SET name = 'changed' WHERE id = 6",
		"DELETE FROM %s WHERE id = 7",
		"INSERT INTO %s VALUES (8, 'eight', 8, 8, NULL, true)",
		"UPDATE %s SET id = 9 WHERE id = 2",
	} {
		exec(t, conn, fmt.Sprintf(w, n.table))
	}
	e.open()
	e.catchUp(conn, "SELECT "+ordersColumns+" FROM "+n.table)
	// Changes keep flowing.
	exec(t, conn, fmt.Sprintf("UPDATE %s SET qty = -1", n.table))
	e.catchUp(conn, "SELECT "+ordersColumns+" FROM "+n.table)
}

// TestConfirmedFlushFollowsAcknowledge checks that the slot's
// confirmed_flush_lsn never passes the last acknowledged position, and
// reaches it once acknowledged.
func TestConfirmedFlushFollowsAcknowledge(t *testing.T) {
	conn := requirePG(t)
	n := newNames(t, conn)
	createOrders(t, conn, n, 2)
	src := newSource(t, n, ordersSchema, nil)
	e := newEngine(t, src, 0)
	e.open()
	e.catchUp(conn, "SELECT "+ordersColumns+" FROM "+n.table)
	exec(t, conn, fmt.Sprintf("INSERT INTO %s (id) VALUES (3)", n.table))
	e.catchUp(conn, "SELECT "+ordersColumns+" FROM "+n.table)
	acked := lsnOf(t, e.acked)
	waitConfirmed(t, conn, n.slot, acked)

	// Read without acknowledging: the slot must stay at or below the
	// last acknowledged LSN while the reader has received more.
	e.noAck = true
	for i := 0; i < 5; i++ {
		exec(t, conn, fmt.Sprintf("INSERT INTO %s (id) VALUES (%d)", n.table, 10+i))
		e.catchUp(conn, "SELECT "+ordersColumns+" FROM "+n.table)
		if got := confirmedFlush(t, conn, n.slot); got > acked {
			t.Fatalf("confirmed_flush_lsn %s passed the last acknowledged LSN %s", got, acked)
		}
	}
	if lsnOf(t, e.pos) <= acked {
		t.Fatalf("the reader did not move past %s", acked)
	}
	// A restart at the acknowledged position reads the unacknowledged
	// changes again: they were kept.
	e.close()
	e.pos = e.acked
	e.rows = map[string]string{}
	e.noAck = false
	e.open()
	e.until("the unacknowledged inserts again", func() bool { return len(e.rows) == 5 })
	waitConfirmed(t, conn, n.slot, lsnOf(t, e.acked))
}

// waitConfirmed polls until the slot's confirmed_flush_lsn is want, and
// fails if it passes it.
func waitConfirmed(t *testing.T, conn *pgx.Conn, slot string, want pglogrepl.LSN) {
	t.Helper()
	ctx := testContext(t)
	for {
		got := confirmedFlush(t, conn, slot)
		if got > want {
			t.Fatalf("confirmed_flush_lsn %s passed the acknowledged %s", got, want)
		}
		if got == want {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("confirmed_flush_lsn stayed at %s, want %s", got, want)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// TestUpstreamSchemaChange adds a column upstream and drops one mid-stream:
// changes keep flowing, the new column is ignored and the dropped one reads
// NULL, each reported once.
func TestUpstreamSchemaChange(t *testing.T) {
	conn := requirePG(t)
	n := newNames(t, conn)
	createOrders(t, conn, n, 3)
	src := newSource(t, n, ordersSchema, nil)
	e := newEngine(t, src, 0)
	e.open()
	e.catchUp(conn, "SELECT "+ordersColumns+" FROM "+n.table)

	exec(t, conn, fmt.Sprintf("INSERT INTO %s (id, name) VALUES (4, 'before')", n.table))
	exec(t, conn, fmt.Sprintf("ALTER TABLE %s ADD COLUMN extra text DEFAULT 'x'", n.table))
	exec(t, conn, fmt.Sprintf("INSERT INTO %s (id, name, extra) VALUES (5, 'after', 'y')", n.table))
	exec(t, conn, fmt.Sprintf("UPDATE %s SET extra = 'z', qty = 7 WHERE id = 1", n.table))
	e.catchUp(conn, "SELECT "+ordersColumns+" FROM "+n.table)

	exec(t, conn, fmt.Sprintf("ALTER TABLE %s DROP COLUMN price", n.table))
	exec(t, conn, fmt.Sprintf("UPDATE %s SET name = 'dropped' WHERE id = 2", n.table))
	exec(t, conn, fmt.Sprintf("INSERT INTO %s (id, name) VALUES (6, 'six')", n.table))
	// The rows not changed since keep their price; the others read NULL.
	e.catchUp(conn, "SELECT id, name, qty, p.price, at, ok FROM "+n.table+
		" LEFT JOIN (VALUES (1, 0.25::float8), (3, 0.75::float8)) p(id, price) USING (id)")

	var extra, price int
	for _, re := range e.errs {
		msg := re.Err.Error()
		switch {
		case strings.Contains(msg, `"extra"`) && strings.Contains(msg, "ignored"):
			extra++
		case strings.Contains(msg, `"price"`) && strings.Contains(msg, "NULL"):
			price++
		default:
			t.Errorf("unexpected record error at %s: %v", re.Where, re.Err)
		}
		if re.Where != "relation "+n.table {
			t.Errorf("record error at %q, want %q", re.Where, "relation "+n.table)
		}
	}
	if extra != 1 || price != 1 {
		t.Errorf("got %d notes about extra and %d about price, want one each: %v", extra, price, e.errs)
	}
}

// TestNoSnapshot starts from the slot's position without reading the rows
// there are.
func TestNoSnapshot(t *testing.T) {
	conn := requirePG(t)
	n := newNames(t, conn)
	createOrders(t, conn, n, 3)
	src := newSource(t, n, ordersSchema, map[string]string{optSnapshot: "false"})
	e := newEngine(t, src, 0)
	e.open()
	e.step(testContext(t)) // the start position, at once
	if len(e.rows) != 0 || lsnOf(t, e.pos) == 0 {
		t.Fatalf("first batch: %d rows at %q, want none at the slot's LSN", len(e.rows), e.pos)
	}
	exec(t, conn, fmt.Sprintf("INSERT INTO %s (id) VALUES (4)", n.table))
	exec(t, conn, fmt.Sprintf("DELETE FROM %s WHERE id = 1", n.table))
	e.catchUp(conn, "SELECT "+ordersColumns+" FROM "+n.table+" WHERE id = 4")
}

// TestNewSourceChecks checks the errors NewSource gives for what cannot be
// captured, by SQLSTATE.
func TestNewSourceChecks(t *testing.T) {
	conn := requirePG(t)
	n := newNames(t, conn)
	exec(t, conn, fmt.Sprintf("CREATE TABLE %s (id int PRIMARY KEY, p point, ts timestamp, k int)", n.table))
	newErr := func(schema types.Schema, extra map[string]string, nm names) error {
		_, err := NewSource(testContext(t), connectors.SourceConfig{Name: nm.table, Schema: schema, Options: options(t, nm, extra)})
		return err
	}
	id := types.Column{Name: "id", Type: types.Int4}
	for _, tc := range []struct {
		name   string
		schema types.Schema
		extra  map[string]string
		table  string
		code   string
	}{
		{"missing table", types.Schema{id}, nil, n.table + "_nope", "42P01"},
		{"missing column", types.Schema{id, {Name: "nope", Type: types.Text}}, nil, "", "42703"},
		{"key not in the table", types.Schema{{Name: "k", Type: types.Int4}}, nil, "", "42703"},
		{"unknown upstream type", types.Schema{id, {Name: "p", Type: types.Int8}}, nil, "", "0A000"},
		{"incompatible type", types.Schema{id, {Name: "ts", Type: types.Int8}}, nil, "", "42804"},
		{"narrowing", types.Schema{{Name: "id", Type: types.Int2}}, nil, "", "42804"},
		{"no publication", types.Schema{id}, map[string]string{optPublicationCreate: "false"}, "", "42704"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nm := n
			if tc.table != "" {
				nm.table = tc.table
			}
			err := newErr(tc.schema, tc.extra, nm)
			if err == nil {
				t.Fatal("no error")
			}
			if got := pgerror.Code(err); got != tc.code {
				t.Errorf("got %s (%v), want SQLSTATE %s", got, err, tc.code)
			}
		})
	}
	// A point reads into a text column as its text form.
	if err := newErr(types.Schema{id, {Name: "p", Type: types.Text}}, nil, n); err != nil {
		t.Errorf("point into text: %v", err)
	}
	// No primary key.
	exec(t, conn, fmt.Sprintf("ALTER TABLE %s DROP CONSTRAINT %s_pkey", n.table, n.table))
	if err := newErr(types.Schema{id}, nil, n); pgerror.Code(err) != "55000" {
		t.Errorf("no primary key: got %v, want SQLSTATE 55000", err)
	}
	// Recovering does not touch the server.
	o := options(t, n, map[string]string{optHost: "127.0.0.1", optPort: "1"})
	if _, err := NewSource(context.Background(), connectors.SourceConfig{Name: "x", Schema: types.Schema{id}, Options: o, Recovering: true}); err != nil {
		t.Errorf("recovering with the server down: %v", err)
	}
	if _, err := NewSource(testContext(t), connectors.SourceConfig{Name: "x", Schema: types.Schema{id}, Options: o}); pgerror.Code(err) != "08000" {
		t.Errorf("server down: got %v, want SQLSTATE 08000", err)
	}
}

// TestTypes reads every kind of value through the snapshot and the stream.
func TestTypes(t *testing.T) {
	conn := requirePG(t)
	n := newNames(t, conn)
	exec(t, conn, fmt.Sprintf(`CREATE TABLE %s (k text, n int, s smallint, r real, num numeric, d date,
		tm time, ts timestamp, iv interval, b bytea, j jsonb, js json, u uuid, c char(3), v varchar(10),
		arr int[], p point, PRIMARY KEY (k, n))`, n.table))
	schema := types.Schema{
		{Name: "k", Type: types.Text}, {Name: "n", Type: types.Int8}, {Name: "s", Type: types.Int2},
		{Name: "r", Type: types.Float4}, {Name: "num", Type: types.Numeric}, {Name: "d", Type: types.Date},
		{Name: "tm", Type: types.Time}, {Name: "ts", Type: types.Timestamp}, {Name: "iv", Type: types.Interval},
		{Name: "b", Type: types.Bytea}, {Name: "j", Type: types.JSONB}, {Name: "js", Type: types.JSONB},
		{Name: "u", Type: types.Text}, {Name: "c", Type: types.Text}, {Name: "v", Type: types.Varchar},
		{Name: "arr", Type: types.ArrayOf(types.Int4)}, {Name: "p", Type: types.Text},
	}
	row := func(k string) string {
		return fmt.Sprintf(`INSERT INTO %s VALUES ('%s', 1, -2, 1.5, 12345.25, '2026-01-02', '03:04:05.5',
			'2026-01-02 03:04:05', '1 year 2 days 00:00:01', '\x00ff', '{"a": [1, "x"]}', '{"b":1}',
			'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'ab', 'it''s', '{1,NULL,3}', '(1,2)')`, n.table, k)
	}
	exec(t, conn, row("before"))
	exec(t, conn, fmt.Sprintf("INSERT INTO %s (k, n) VALUES ('nulls', 2)", n.table))
	src := newSource(t, n, schema, nil)
	e := newEngine(t, src, 0, 1)
	e.open()
	query := "SELECT k, n, s, r, num, d, tm, ts, iv, b, j, js::jsonb, u, c, v, arr, p FROM " + n.table
	e.catchUp(conn, query)
	exec(t, conn, row("after"))
	exec(t, conn, fmt.Sprintf("UPDATE %s SET n = 3, iv = '-1 mons', b = '\\x', arr = '{}' WHERE k = 'before'", n.table))
	e.catchUp(conn, query)
	if len(e.errs) > 0 {
		t.Errorf("record errors: %v", e.errs)
	}
}

// TestUnchangedToast updates rows whose large values PostgreSQL keeps out
// of line (TOAST) without changing them: pgoutput does not send such a
// value, and the row must still arrive whole.
func TestUnchangedToast(t *testing.T) {
	conn := requirePG(t)
	n := newNames(t, conn)
	exec(t, conn, fmt.Sprintf("CREATE TABLE %s (id int PRIMARY KEY, big text, qty int)", n.table))
	// Random hex does not compress, so 16 kB of it is stored out of line.
	big := "(SELECT string_agg(md5(random()::text), '') FROM generate_series(1, 500))"
	exec(t, conn, fmt.Sprintf("INSERT INTO %s SELECT i, %s, 0 FROM generate_series(1, 3) i", n.table, big))
	schema := types.Schema{{Name: "id", Type: types.Int4}, {Name: "big", Type: types.Text}, {Name: "qty", Type: types.Int4}}
	src := newSource(t, n, schema, nil)
	e := newEngine(t, src, 0)
	e.open()
	query := "SELECT id, big, qty FROM " + n.table
	e.catchUp(conn, query)
	exec(t, conn, fmt.Sprintf("INSERT INTO %s VALUES (4, %s, 0)", n.table, big))
	exec(t, conn, fmt.Sprintf("UPDATE %s SET qty = qty + 1", n.table))                       // big unchanged
	exec(t, conn, fmt.Sprintf("UPDATE %s SET big = %s, qty = 5 WHERE id = 2", n.table, big)) // big changed
	exec(t, conn, fmt.Sprintf("UPDATE %s SET id = 10 WHERE id = 3", n.table))                // key change, big unchanged
	e.catchUp(conn, query)
	if len(e.errs) > 0 {
		t.Errorf("record errors: %v", e.errs)
	}
}

// TestConnectionLoss ends the server process of the replication connection:
// Next reports an error, and a reader opened again at the last position,
// as the engine does, goes on without losing a change.
func TestConnectionLoss(t *testing.T) {
	conn := requirePG(t)
	n := newNames(t, conn)
	createOrders(t, conn, n, 2)
	src := newSource(t, n, ordersSchema, nil)
	e := newEngine(t, src, 0)
	e.open()
	query := "SELECT " + ordersColumns + " FROM " + n.table
	e.catchUp(conn, query)
	exec(t, conn, fmt.Sprintf("INSERT INTO %s (id) VALUES (3)", n.table))
	e.catchUp(conn, query)

	exec(t, conn, "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = $1", n.slot)
	exec(t, conn, fmt.Sprintf("INSERT INTO %s (id) VALUES (4)", n.table))
	ctx := testContext(t)
	for {
		b, err := e.r.Next(ctx)
		if err != nil {
			if ctx.Err() != nil {
				t.Fatal("Next did not report the lost connection")
			}
			break
		}
		if b.Record != nil {
			b.Record.Release()
		}
	}
	e.close()
	e.open()
	exec(t, conn, fmt.Sprintf("INSERT INTO %s (id) VALUES (5)", n.table))
	e.catchUp(conn, query)
}

// TestDrop checks that Drop removes the slot and the publication it named
// itself, and leaves a publication named by the options alone.
func TestDrop(t *testing.T) {
	conn := requirePG(t)
	n := newNames(t, conn)
	createOrders(t, conn, n, 1)
	exists := func(sql, name string) bool {
		var ok bool
		if err := conn.QueryRow(testContext(t), sql, name).Scan(&ok); err != nil {
			t.Fatal(err)
		}
		return ok
	}
	slotExists := func(name string) bool {
		return exists("SELECT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = $1)", name)
	}
	pubExists := func(name string) bool {
		return exists("SELECT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = $1)", name)
	}
	for _, named := range []bool{true, false} {
		o := options(t, n, nil)
		if !named {
			// Derived names: sluice_<table> and sluice_<table>_pub.
			delete(o, optSlot)
			delete(o, optPublication)
		}
		src, err := NewSource(testContext(t), connectors.SourceConfig{Name: n.table, Schema: ordersSchema, Options: o})
		if err != nil {
			t.Fatal(err)
		}
		if !named { // in case the test fails before Drop
			t.Cleanup(func() {
				ctx := context.Background()
				conn.Exec(ctx, "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active", src.set.slot)
				conn.Exec(ctx, "DROP PUBLICATION IF EXISTS "+pgx.Identifier{src.set.publication}.Sanitize())
			})
		}
		e := newEngine(t, src, 0)
		e.open()
		e.catchUp(conn, "SELECT "+ordersColumns+" FROM "+n.table)
		e.close()
		if !slotExists(src.set.slot) || !pubExists(src.set.publication) {
			t.Fatalf("slot %s or publication %s missing before Drop", src.set.slot, src.set.publication)
		}
		if err := src.Drop(testContext(t)); err != nil {
			t.Fatal(err)
		}
		if slotExists(src.set.slot) {
			t.Errorf("slot %s left after Drop", src.set.slot)
		}
		if pubExists(src.set.publication) != named {
			t.Errorf("publication %s exists after Drop: %v, want %v", src.set.publication, !named, named)
		}
	}
}
