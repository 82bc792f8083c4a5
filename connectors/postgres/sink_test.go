package postgres

import (
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/sluicedb/sluice/connectors"
	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/types"
)

var eventSchema = types.Schema{
	{Name: "id", Type: types.Int8},
	{Name: "name", Type: types.Text},
	{Name: "price", Type: types.Numeric},
}

func TestAppendOnlyCopiesEachEpochInOneTransaction(t *testing.T) {
	conn := requirePG(t)
	table := tableName(t, conn)
	exec(t, conn, fmt.Sprintf("CREATE TABLE %s (id bigint, name text, price numeric, note text DEFAULT 'none')", table))
	// batch.rows 2 makes an epoch of five rows take three COPYs.
	s := newSink(t, sinkConfig(t, eventSchema, typeAppendOnly, nil, table, map[string]string{optBatchRows: "2"}))

	write(t, s, batch(t, eventSchema, "+++",
		[]types.Datum{int64(1), "plain", 1.5},
		[]types.Datum{int64(2), "tab\there, newline\nthere, back\\slash, \\N, \r", nil},
		[]types.Datum{int64(3), nil, -0.25}))
	write(t, s, batch(t, eventSchema, "++",
		[]types.Datum{int64(4), "", 1e15},
		[]types.Datum{nil, "ünïcødé", 0.0}))
	// Nothing is visible before Commit.
	equal(t, "before commit", rows(t, conn, "SELECT count(*) FROM "+table), []string{"0"})
	commit(t, s, 100)

	want := []string{
		"1|plain|1.5|none",
		"2|tab\there, newline\nthere, back\\slash, \\N, \r|NULL|none",
		"3|NULL|-0.25|none",
		"4||1000000000000000|none",
		"NULL|ünïcødé|0|none",
	}
	equal(t, "after epoch 100", rows(t, conn, "SELECT * FROM "+table), want)

	// A second epoch appends.
	write(t, s, connectors.SinkBatch{Record: record(t, eventSchema, []types.Datum{int64(5), "five", 5.0})})
	commit(t, s, 101)
	equal(t, "after epoch 101", rows(t, conn, "SELECT * FROM "+table), append(want, "5|five|5|none"))
	// An epoch without rows changes nothing, not even the record.
	commit(t, s, 102)
	if got, err := s.LastCommitted(testContext(t)); err != nil || got != 101 {
		t.Errorf("LastCommitted = %d, %v; want 101", got, err)
	}

	// An append-only sink refuses a delete.
	b := batch(t, eventSchema, "-", []types.Datum{int64(1), "plain", 1.5})
	defer b.Record.Release()
	if err := s.Write(testContext(t), b); err == nil || !strings.Contains(err.Error(), "delete") {
		t.Errorf("a delete into an append-only sink: got %v", err)
	}
}

var totalSchema = types.Schema{
	{Name: "k", Type: types.Int4},
	{Name: "n", Type: types.Int8},
	{Name: "label", Type: types.Text},
}

func TestUpsertAppliesInsertsUpdatesAndDeletesInOrder(t *testing.T) {
	conn := requirePG(t)
	table := tableName(t, conn)
	exec(t, conn, fmt.Sprintf("CREATE TABLE %s (k integer PRIMARY KEY, n bigint, label text)", table))
	for _, batchRows := range []string{"1000", "2"} {
		t.Run("batch.rows="+batchRows, func(t *testing.T) {
			exec(t, conn, "TRUNCATE "+table)
			exec(t, conn, "DELETE FROM "+progressTable+" WHERE table_name = '"+table+"'")
			s := newSink(t, sinkConfig(t, totalSchema, typeUpsert, []int{0}, table, map[string]string{optBatchRows: batchRows}))
			write(t, s, batch(t, totalSchema, "+++",
				[]types.Datum{int32(1), int64(10), "one"},
				[]types.Datum{int32(2), int64(20), "two"},
				[]types.Datum{int32(3), int64(30), nil}))
			commit(t, s, 1)
			equal(t, "epoch 1", rows(t, conn, "SELECT * FROM "+table),
				[]string{"1|10|one", "2|20|two", "3|30|NULL"})

			// Updates, a delete, and one key changed back and forth
			// within the epoch: the last change of each key wins.
			write(t, s, batch(t, totalSchema, "+-++",
				[]types.Datum{int32(1), int64(11), "one again"},
				[]types.Datum{int32(2), nil, nil},
				[]types.Datum{int32(4), int64(40), "four"},
				[]types.Datum{int32(1), int64(12), "one thrice"}))
			write(t, s, batch(t, totalSchema, "-+-+",
				[]types.Datum{int32(4), nil, nil},
				[]types.Datum{int32(4), int64(41), "four back"},
				[]types.Datum{int32(3), nil, nil},
				[]types.Datum{int32(5), nil, "five"}))
			// One key inserted twice in a row: a single INSERT ... ON
			// CONFLICT cannot update a row twice.
			write(t, s, batch(t, totalSchema, "+++",
				[]types.Datum{int32(6), int64(60), "first"},
				[]types.Datum{int32(7), int64(70), "seven"},
				[]types.Datum{int32(6), int64(61), "second"}))
			commit(t, s, 2)
			equal(t, "epoch 2", rows(t, conn, "SELECT * FROM "+table),
				[]string{"1|12|one thrice", "4|41|four back", "5|NULL|five", "6|61|second", "7|70|seven"})
			if got, err := s.LastCommitted(testContext(t)); err != nil || got != 2 {
				t.Errorf("LastCommitted = %d, %v; want 2", got, err)
			}
		})
	}
}

func TestUpsertWithACompositeKey(t *testing.T) {
	conn := requirePG(t)
	table := tableName(t, conn)
	schema := types.Schema{
		{Name: "day", Type: types.Date},
		{Name: "city", Type: types.Varchar},
		{Name: "hits", Type: types.Int8},
	}
	s := newSink(t, sinkConfig(t, schema, typeUpsert, []int{1, 0}, table, map[string]string{optAutoCreate: "true"}))
	d := int32(20455) // 2026-01-02
	write(t, s, batch(t, schema, "++++",
		[]types.Datum{d, "Oslo", int64(1)},
		[]types.Datum{d + 1, "Oslo", int64(2)},
		[]types.Datum{d, "Rome", int64(3)},
		[]types.Datum{d, "Oslo", int64(4)}))
	commit(t, s, 1)
	write(t, s, batch(t, schema, "-+",
		[]types.Datum{d + 1, "Oslo", nil},
		[]types.Datum{d, "Rome", int64(5)}))
	commit(t, s, 2)
	equal(t, "table", rows(t, conn, "SELECT * FROM "+table), []string{"2026-01-02|Oslo|4", "2026-01-02|Rome|5"})
	equal(t, "primary key", rows(t, conn, fmt.Sprintf(
		`SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = '%s'::regclass AND contype = 'p'`, table)),
		[]string{"PRIMARY KEY (city, day)"})
}

// allTypes is a column of every type a sink can carry, with a value whose
// text PostgreSQL must print back unchanged.
var allTypes = []struct {
	typ   types.T
	value types.Datum
	text  string
}{
	{types.Bool, true, "true"}, // boolean::text, not its output "t"
	{types.Int2, int16(-32768), "-32768"},
	{types.Int4, int32(2147483647), "2147483647"},
	{types.Int8, int64(-9223372036854775808), "-9223372036854775808"},
	{types.Float4, float32(0.1), "0.1"},
	{types.Float8, 1.0 / 3, "0.3333333333333333"},
	{types.Numeric, 12345.678, "12345.678"},
	{types.Text, "a\tb\\c\nd", "a\tb\\c\nd"},
	{types.Varchar, "varchar", "varchar"},
	{types.Bytea, []byte{0, 1, '\\', 0xff}, `\x00015cff`},
	{types.Date, int32(-719162), "0001-01-01"},
	{types.Time, int64(13*3600e6 + 4*60e6 + 5e6 + 123456), "13:04:05.123456"},
	{types.Timestamp, int64(1767323045500000), "2026-01-02 03:04:05.5"},
	{types.TimestampTZ, int64(-1767323045000000), "1913-12-30 20:55:55+00"},
	{types.Interval, types.IntervalValue{Months: 14, Days: -3, Micros: 3723_000001}, "1 year 2 mons -3 days +01:02:03.000001"},
	{types.JSONB, `{"a": [1, "x\ty", null], "b": {"c": true}}`, `{"a": [1, "x\ty", null], "b": {"c": true}}`},
	{types.ArrayOf(types.Int4), "{1,NULL,3}", "{1,NULL,3}"},
	{types.ArrayOf(types.Text), `{"a b","c\"d",NULL}`, `{"a b","c\"d",NULL}`},
	{types.ArrayOf(types.Timestamp), `{"2026-01-02 03:04:05"}`, `{"2026-01-02 03:04:05"}`},
}

func TestAutoCreateTakesEveryType(t *testing.T) {
	conn := requirePG(t)
	for _, typ := range []string{typeAppendOnly, typeUpsert} {
		t.Run(typ, func(t *testing.T) {
			table := tableName(t, conn)
			schema := types.Schema{{Name: "id", Type: types.Int4}}
			value, null := []types.Datum{int32(1)}, []types.Datum{int32(2)}
			var want []string
			for i, c := range allTypes {
				schema = append(schema, types.Column{Name: fmt.Sprintf("c%d", i), Type: c.typ})
				value = append(value, c.value)
				null = append(null, nil)
				want = append(want, fmt.Sprintf("c%d|%s", i, c.typ))
			}
			var pk []int
			if typ == typeUpsert {
				pk = []int{0}
			}
			s := newSink(t, sinkConfig(t, schema, typ, pk, table, map[string]string{optAutoCreate: "true"}))
			equal(t, "created columns", rows(t, conn, fmt.Sprintf(
				`SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
				WHERE attrelid = '%s'::regclass AND attnum > 1 AND NOT attisdropped`, table)), want)

			write(t, s, batch(t, schema, "++", value, null))
			commit(t, s, 7)
			for i, c := range allTypes {
				col := fmt.Sprintf("c%d", i)
				equal(t, col+" ("+c.typ.String()+")",
					rows(t, conn, fmt.Sprintf("SELECT id, %s::text FROM %s", col, table)),
					[]string{"1|" + c.text, "2|NULL"})
			}

			// Opened again, the sink finds the table it created fit.
			s.Close()
			newSink(t, sinkConfig(t, schema, typ, pk, table, map[string]string{optAutoCreate: "true"}))
		})
	}
}

func TestWiderColumnsTakeNarrowerValues(t *testing.T) {
	conn := requirePG(t)
	table := tableName(t, conn)
	exec(t, conn, fmt.Sprintf(`CREATE TABLE %s (k bigint PRIMARY KEY, n numeric, label varchar(20), doc json,
		day timestamp, extra text)`, table))
	schema := types.Schema{
		{Name: "k", Type: types.Int4},
		{Name: "n", Type: types.Int8},
		{Name: "label", Type: types.Text},
		{Name: "doc", Type: types.JSONB},
		{Name: "day", Type: types.Date},
	}
	s := newSink(t, sinkConfig(t, schema, typeUpsert, []int{0}, table, nil))
	write(t, s, batch(t, schema, "+", []types.Datum{int32(7), int64(1) << 60, "seven", `{"a": 1}`, int32(0)}))
	commit(t, s, 1)
	equal(t, "table", rows(t, conn, "SELECT * FROM "+table),
		[]string{`7|1152921504606846976|seven|{"a": 1}|1970-01-01 00:00:00|NULL`})
}

func TestTableThatCannotTakeTheSinkIsRefused(t *testing.T) {
	conn := requirePG(t)
	table := tableName(t, conn)
	exec(t, conn, fmt.Sprintf("CREATE TABLE %s (k integer PRIMARY KEY, n integer, label text, req text NOT NULL)", table))
	tests := []struct {
		name   string
		schema types.Schema
		typ    string
		pk     []int
		code   string
		words  []string
	}{
		{"narrower type", types.Schema{{Name: "k", Type: types.Int4}, {Name: "n", Type: types.Int8}, {Name: "req", Type: types.Text}},
			typeAppendOnly, nil, pgerror.DatatypeMismatch, []string{`"n"`, "integer", "bigint"}},
		{"other type", types.Schema{{Name: "k", Type: types.Int4}, {Name: "label", Type: types.Timestamp}, {Name: "req", Type: types.Text}},
			typeAppendOnly, nil, pgerror.DatatypeMismatch, []string{`"label"`, "text", "timestamp without time zone"}},
		{"missing column", types.Schema{{Name: "k", Type: types.Int4}, {Name: "nope", Type: types.Int4}, {Name: "req", Type: types.Text}},
			typeAppendOnly, nil, pgerror.UndefinedColumn, []string{`"nope"`, "ADD COLUMN"}},
		{"not null column not written", types.Schema{{Name: "k", Type: types.Int4}},
			typeAppendOnly, nil, pgerror.NotNullViolation, []string{`"req"`}},
		{"upsert key without a unique index", types.Schema{{Name: "k", Type: types.Int4}, {Name: "n", Type: types.Int4}, {Name: "req", Type: types.Text}},
			typeUpsert, []int{1}, pgerror.InvalidColumnReference, []string{"(n)", "unique"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewSink(testContext(t), sinkConfig(t, tc.schema, tc.typ, tc.pk, table, nil))
			wantCode(t, err, tc.code, tc.words...)
		})
	}
	// The fitting sink is taken, the table left as it was.
	ok := types.Schema{{Name: "k", Type: types.Int4}, {Name: "n", Type: types.Int4}, {Name: "req", Type: types.Text}}
	newSink(t, sinkConfig(t, ok, typeUpsert, []int{0}, table, nil))
}

func TestMissingTableIsRefusedWithoutAutoCreate(t *testing.T) {
	conn := requirePG(t)
	table := tableName(t, conn)
	_, err := NewSink(testContext(t), sinkConfig(t, totalSchema, typeAppendOnly, nil, table, nil))
	wantCode(t, err, pgerror.UndefinedTable, table, "auto.create")
	equal(t, "tables", rows(t, conn, fmt.Sprintf("SELECT to_regclass('%s') IS NULL", table)), []string{"t"})
}

func TestUnreachableServerIsAConnectionError(t *testing.T) {
	cfg := sinkConfig(t, totalSchema, typeAppendOnly, nil, "x", map[string]string{
		optURL: "postgres://postgres@127.0.0.1:1/test?sslmode=disable"})
	_, err := NewSink(testContext(t), cfg)
	wantCode(t, err, pgerror.ConnectionException, "127.0.0.1:1")
}

func TestReplayedEpochChangesNothing(t *testing.T) {
	conn := requirePG(t)
	for _, typ := range []string{typeAppendOnly, typeUpsert} {
		t.Run(typ, func(t *testing.T) {
			table := tableName(t, conn)
			var pk []int
			if typ == typeUpsert {
				pk = []int{0}
			}
			cfg := sinkConfig(t, totalSchema, typ, pk, table, map[string]string{optAutoCreate: "true"})
			epoch := func(s *Sink, e uint64, rows ...[]types.Datum) {
				t.Helper()
				write(t, s, connectors.SinkBatch{Record: record(t, totalSchema, rows...)})
				commit(t, s, e)
			}
			s := newSink(t, cfg)
			if got, err := s.LastCommitted(testContext(t)); err != nil || got != 0 {
				t.Fatalf("LastCommitted before any epoch = %d, %v; want 0", got, err)
			}
			epoch(s, 1000, []types.Datum{int32(1), int64(1), "a"})
			epoch(s, 1001, []types.Datum{int32(2), int64(2), "b"})
			want := []string{"1|1|a", "2|2|b"}
			equal(t, "after 1001", rows(t, conn, "SELECT * FROM "+table), want)

			// As after a lost acknowledgement: the sink is opened again
			// and the engine delivers epoch 1001 again, then 1002.
			s.Close()
			s = newSink(t, cfg)
			if got, err := s.LastCommitted(testContext(t)); err != nil || got != 1001 {
				t.Fatalf("LastCommitted = %d, %v; want 1001", got, err)
			}
			epoch(s, 1001, []types.Datum{int32(2), int64(99), "b again"})
			epoch(s, 999, []types.Datum{int32(3), int64(99), "older"})
			equal(t, "after replaying 1001 and 999", rows(t, conn, "SELECT * FROM "+table), want)
			epoch(s, 1002, []types.Datum{int32(3), int64(3), "c"})
			equal(t, "after 1002", rows(t, conn, "SELECT * FROM "+table), append(want, "3|3|c"))
			if got, err := s.LastCommitted(testContext(t)); err != nil || got != 1002 {
				t.Errorf("LastCommitted = %d, %v; want 1002", got, err)
			}
			// Another sink writing the same table keeps its own record.
			other := cfg
			other.Name = "other"
			o := newSink(t, other)
			if got, err := o.LastCommitted(testContext(t)); err != nil || got != 0 {
				t.Errorf("LastCommitted of another sink = %d, %v; want 0", got, err)
			}
		})
	}
}

func TestFailedEpochLeavesNothing(t *testing.T) {
	conn := requirePG(t)
	for _, typ := range []string{typeAppendOnly, typeUpsert} {
		t.Run(typ, func(t *testing.T) {
			table := tableName(t, conn)
			exec(t, conn, fmt.Sprintf("CREATE TABLE %s (k integer PRIMARY KEY, n bigint CHECK (n > 0), label text)", table))
			var pk []int
			if typ == typeUpsert {
				pk = []int{0}
			}
			cfg := sinkConfig(t, totalSchema, typ, pk, table, map[string]string{optBatchRows: "2"})
			s := newSink(t, cfg)
			write(t, s, connectors.SinkBatch{Record: record(t, totalSchema, []types.Datum{int32(1), int64(1), "kept"})})
			commit(t, s, 1)

			// The first two rows go out in a statement of their own; the
			// third breaks the CHECK at Commit.
			b := connectors.SinkBatch{Record: record(t, totalSchema,
				[]types.Datum{int32(2), int64(2), "lost"},
				[]types.Datum{int32(3), int64(3), "lost"},
				[]types.Datum{int32(4), int64(-4), "bad"})}
			defer b.Record.Release()
			err := s.Write(testContext(t), b)
			if err == nil {
				err = s.Commit(testContext(t), 2)
			}
			wantCode(t, err, "23514", table) // check_violation, the server's own code
			equal(t, "after the failed epoch", rows(t, conn, "SELECT * FROM "+table), []string{"1|1|kept"})
			if got, err := s.LastCommitted(testContext(t)); err != nil || got != 1 {
				t.Errorf("LastCommitted = %d, %v; want 1", got, err)
			}
			// The failed sink refuses more work until it is reopened.
			if err := s.Commit(testContext(t), 2); err == nil {
				t.Error("Commit after a failure succeeded")
			}

			// Rows written and never committed are dropped by Close.
			s.Close()
			s = newSink(t, cfg)
			write(t, s, connectors.SinkBatch{Record: record(t, totalSchema, []types.Datum{int32(5), int64(5), "abandoned"})})
			s.Close()
			equal(t, "after an abandoned epoch", rows(t, conn, "SELECT * FROM "+table), []string{"1|1|kept"})

			// Reopened, the epoch is written again and taken.
			s = newSink(t, cfg)
			write(t, s, connectors.SinkBatch{Record: record(t, totalSchema,
				[]types.Datum{int32(2), int64(2), "ok"},
				[]types.Datum{int32(4), int64(4), "ok"})})
			commit(t, s, 2)
			equal(t, "after the retry", rows(t, conn, "SELECT * FROM "+table), []string{"1|1|kept", "2|2|ok", "4|4|ok"})
		})
	}
}

func TestSinkOnAnotherSchemaKeepsItsProgressThere(t *testing.T) {
	conn := requirePG(t)
	schemaName := tableName(t, conn) // unique; the dropped table of that name never exists
	exec(t, conn, "CREATE SCHEMA "+schemaName)
	t.Cleanup(func() { exec(t, conn, "DROP SCHEMA "+schemaName+" CASCADE") })
	cfg := sinkConfig(t, totalSchema, typeUpsert, []int{0}, "Totals", map[string]string{
		optSchema: schemaName, optAutoCreate: "true"})
	s := newSink(t, cfg)
	write(t, s, connectors.SinkBatch{Record: record(t, totalSchema, []types.Datum{int32(1), int64(1), "x"})})
	commit(t, s, 5)
	ident := pgx.Identifier{schemaName, "Totals"}.Sanitize()
	equal(t, "table", rows(t, conn, "SELECT * FROM "+ident), []string{"1|1|x"})
	equal(t, "progress", rows(t, conn, fmt.Sprintf("SELECT sink_name, table_name, epoch FROM %s.%s", schemaName, progressTable)),
		[]string{"out|Totals|5"})
}
