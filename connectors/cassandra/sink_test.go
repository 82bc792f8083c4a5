package cassandra

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sluicedb/sluice/connectors"
	"github.com/sluicedb/sluice/internal/cqltest"
	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/types"
)

var eventSchema = types.Schema{
	{Name: "id", Type: types.Int8},
	{Name: "name", Type: types.Text},
	{Name: "price", Type: types.Numeric},
}

func TestAppendOnlyWritesEachEpochAndRecordsIt(t *testing.T) {
	srv := cassandra(t, "CREATE TABLE ks.events (id bigint PRIMARY KEY, name text, price decimal, note text)")
	s := newSink(t, sinkConfig(t, srv, eventSchema, typeAppendOnly, nil, "events", nil))
	if got, err := s.LastCommitted(testContext(t)); err != nil || got != 0 {
		t.Fatalf("LastCommitted of a new sink = %d, %v", got, err)
	}
	write(t, s, batch(t, eventSchema, "+++",
		[]types.Datum{int64(1), "plain", 1.5},
		[]types.Datum{int64(2), "ünïcødé, 'quoted'", nil},
		[]types.Datum{int64(3), nil, -0.25}))
	write(t, s, batch(t, eventSchema, "+", []types.Datum{int64(4), "", 1e15}))
	// Nothing is written before Commit.
	equal(t, "before commit", tableRows(t, srv, "events", "id"), nil)
	commit(t, s, 100)
	want := []string{
		"1|plain|1.5|NULL",
		"2|ünïcødé, 'quoted'|NULL|NULL",
		"3|NULL|-0.25|NULL",
		"4||1000000000000000|NULL",
	}
	equal(t, "after epoch 100", tableRows(t, srv, "events", "id", "name", "price", "note"), want)
	if got, err := s.LastCommitted(testContext(t)); err != nil || got != 100 {
		t.Errorf("LastCommitted = %d, %v; want 100", got, err)
	}

	// An epoch at or below the recorded one changes nothing.
	write(t, s, batch(t, eventSchema, "+", []types.Datum{int64(9), "late", 9.0}))
	commit(t, s, 100)
	equal(t, "epoch 100 again", tableRows(t, srv, "events", "id", "name", "price", "note"), want)
	// An epoch without rows records nothing.
	commit(t, s, 101)
	if got, _ := s.LastCommitted(testContext(t)); got != 100 {
		t.Errorf("LastCommitted after an empty epoch = %d; want 100", got)
	}

	// An append-only sink refuses a delete.
	b := batch(t, eventSchema, "-", []types.Datum{int64(1), "plain", 1.5})
	defer b.Record.Release()
	if err := s.Write(testContext(t), b); err == nil || !strings.Contains(err.Error(), "delete") {
		t.Errorf("a delete into an append-only sink: got %v", err)
	}

	// A new sink on the same table finds the record.
	s2 := newSink(t, sinkConfig(t, srv, eventSchema, typeAppendOnly, nil, "events", nil))
	if got, err := s2.LastCommitted(testContext(t)); err != nil || got != 100 {
		t.Errorf("LastCommitted of a reopened sink = %d, %v; want 100", got, err)
	}
}

var totalSchema = types.Schema{
	{Name: "k", Type: types.Int4},
	{Name: "n", Type: types.Int8},
	{Name: "label", Type: types.Text},
}

func TestUpsertAppliesInsertsUpdatesAndDeletes(t *testing.T) {
	for _, batchRows := range []string{"512", "1"} {
		t.Run("max_batch_rows="+batchRows, func(t *testing.T) {
			srv := cassandra(t, "CREATE TABLE ks.totals (k int PRIMARY KEY, n bigint, label text)")
			s := newSink(t, sinkConfig(t, srv, totalSchema, typeUpsert, []int{0}, "totals", map[string]string{optMaxBatchRows: batchRows}))
			write(t, s, batch(t, totalSchema, "+++",
				[]types.Datum{int32(1), int64(10), "one"},
				[]types.Datum{int32(2), int64(20), "two"},
				[]types.Datum{int32(3), int64(30), nil}))
			commit(t, s, 1)
			equal(t, "epoch 1", tableRows(t, srv, "totals", "k", "n", "label"), []string{"1|10|one", "2|20|two", "3|30|NULL"})

			// An update is the key's new row; a NULL clears a value.
			write(t, s, batch(t, totalSchema, "+-+",
				[]types.Datum{int32(1), int64(11), nil},
				[]types.Datum{int32(2), int64(20), "two"},
				[]types.Datum{int32(4), int64(40), "four"}))
			commit(t, s, 2)
			equal(t, "epoch 2", tableRows(t, srv, "totals", "k", "n", "label"), []string{"1|11|NULL", "3|30|NULL", "4|40|four"})

			// Changes of one key within an epoch apply in order, even
			// where one batch could hold them all: a delete then an
			// insert, an insert then a delete.
			write(t, s, batch(t, totalSchema, "-+", []types.Datum{int32(3), int64(30), nil}, []types.Datum{int32(3), int64(33), "back"}))
			write(t, s, batch(t, totalSchema, "+-", []types.Datum{int32(5), int64(50), "five"}, []types.Datum{int32(5), int64(50), "five"}))
			commit(t, s, 3)
			equal(t, "epoch 3", tableRows(t, srv, "totals", "k", "n", "label"), []string{"1|11|NULL", "3|33|back", "4|40|four"})
		})
	}
}

func TestBatchesHoldOnePartitionEach(t *testing.T) {
	srv := cassandra(t, "CREATE TABLE ks.readings (sensor text, at int, v double, PRIMARY KEY ((sensor), at))")
	schema := types.Schema{{Name: "at", Type: types.Int4}, {Name: "sensor", Type: types.Text}, {Name: "v", Type: types.Float8}}
	// The sink's key in another order than the table's: the partition
	// key comes from system_schema, not from primary_key's order.
	s := newSink(t, sinkConfig(t, srv, schema, typeUpsert, []int{0, 1}, "readings", map[string]string{optMaxBatchRows: "3"}))
	var rows [][]types.Datum
	var want []string
	for i := 0; i < 7; i++ {
		for _, sensor := range []string{"a", "b", "c"} {
			if sensor == "c" && i > 0 {
				continue // c has a single change: a plain statement
			}
			rows = append(rows, []types.Datum{int32(i), sensor, float64(i) / 2})
			want = append(want, fmt.Sprintf("%s|%d|%v", sensor, i, float64(i)/2))
		}
	}
	write(t, s, batch(t, schema, strings.Repeat("+", len(rows)), rows...))
	commit(t, s, 7)
	equal(t, "rows", tableRows(t, srv, "readings", "sensor", "at", "v"), want)

	var batches, statements, plain int
	for _, w := range srv.Writes() {
		if w.Partitions != 1 {
			t.Errorf("a write spans %d partitions: %+v", w.Partitions, w)
		}
		switch {
		case w.Op == "BATCH":
			if w.BatchType != "UNLOGGED" || w.Statements > 3 {
				t.Errorf("batch %+v: want UNLOGGED, at most 3 statements", w)
			}
			batches++
			statements += w.Statements
		case w.Statements == 1:
			plain++
		}
	}
	// a and b: 7 changes each, in batches of 3, 3 and 1 (the last a plain
	// statement); c: one plain statement; then the progress record.
	if batches != 4 || statements != 12 || plain != 4 {
		t.Errorf("%d batches of %d statements and %d plain statements; want 4, 12 and 4:\n%+v", batches, statements, plain, srv.Writes())
	}
}

// allTypes has a column of every Sluice type a table can hold.
var allTypes = types.Schema{
	{Name: "k", Type: types.Int4},
	{Name: "b", Type: types.Bool},
	{Name: "i2", Type: types.Int2},
	{Name: "i8", Type: types.Int8},
	{Name: "f4", Type: types.Float4},
	{Name: "f8", Type: types.Float8},
	{Name: "num", Type: types.Numeric},
	{Name: "t", Type: types.Text},
	{Name: "vc", Type: types.Varchar},
	{Name: "j", Type: types.JSONB},
	{Name: "by", Type: types.Bytea},
	{Name: "d", Type: types.Date},
	{Name: "tm", Type: types.Time},
	{Name: "ts", Type: types.Timestamp},
	{Name: "tz", Type: types.TimestampTZ},
	{Name: "iv", Type: types.Interval},
	{Name: "arr", Type: types.ArrayOf(types.Int4)},
	{Name: "tags", Type: types.ArrayOf(types.Text)},
	{Name: "wide", Type: types.Int2}, // into a wider column
	{Name: "big", Type: types.Int8},  // into a varint
	{Name: "day", Type: types.Date},  // into a timestamp
}

const allTypesTable = `CREATE TABLE ks.everything (k int PRIMARY KEY, b boolean, i2 smallint, i8 bigint,
	f4 float, f8 double, num decimal, t text, vc varchar, j text, by blob, d date, tm time, ts timestamp,
	tz timestamp, iv duration, arr frozen<list<int>>, tags list<text>, wide bigint, big varint, day timestamp)`

func TestEveryTypeRoundTrips(t *testing.T) {
	srv := cassandra(t, allTypesTable)
	s := newSink(t, sinkConfig(t, srv, allTypes, typeUpsert, []int{0}, "everything", nil))
	datum := func(typ types.T, text string) types.Datum {
		d, err := types.ParseText(text, typ)
		if err != nil {
			t.Fatalf("%s %q: %v", typ, text, err)
		}
		return d
	}
	row := func(k int32, texts ...string) []types.Datum {
		r := []types.Datum{k}
		for i, tx := range texts {
			r = append(r, datum(allTypes[i+1].Type, tx))
		}
		return r
	}
	write(t, s, batch(t, allTypes, "++",
		row(1, "true", "-32768", "9223372036854775807", "1.5", "-2.25e-300", "12345.678",
			"text", "varchar", `{"a": [1, 2]}`, `\x00ff10`, "2024-02-29", "23:59:59.999999",
			"2024-02-29 12:34:56.789123", "1969-12-31 23:59:59.9995+00", "1 year 2 mons 3 days 04:05:06.000007",
			"{1,2,3}", `{"a b",c}`, "7", "-9223372036854775808", "1900-01-01"),
		[]types.Datum{int32(2), nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil}))
	commit(t, s, 1)
	cols := make([]string, len(allTypes))
	for i, c := range allTypes {
		cols[i] = c.Name
	}
	equal(t, "every type", tableRows(t, srv, "everything", cols...), []string{
		"1|true|-32768|9223372036854775807|1.5|-2.25e-300|12345.678|text|varchar|" + `{"a": [1, 2]}` +
			"|[0 255 16]|2024-02-29 00:00:00|23h59m59.999999s|2024-02-29 12:34:56.789|1969-12-31 23:59:59.999|14mo3d14706000007000ns|" +
			"[1 2 3]|[a b c]|7|-9223372036854775808|1900-01-01 00:00:00",
		"2|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL",
	})
}

func TestValuesThatDoNotFitFailTheEpoch(t *testing.T) {
	srv := cassandra(t, allTypesTable)
	s := newSink(t, sinkConfig(t, srv, allTypes, typeUpsert, []int{0}, "everything", nil))
	for _, c := range []struct {
		col  int
		text string
		word string
	}{
		{15, "1 mon -1 days", "mixes signs"},
		{16, "{1,NULL}", "NULL"},
		{16, "{{1},{2}}", "dimensional"},
		{6, "NaN", "decimal"},
	} {
		r := make([]types.Datum, len(allTypes))
		r[0] = int32(1)
		d, err := types.ParseText(c.text, allTypes[c.col].Type)
		if err != nil {
			t.Fatal(err)
		}
		r[c.col] = d
		write(t, s, batch(t, allTypes, "+", r))
		err = s.Commit(testContext(t), 5)
		wantCode(t, err, pgerror.DatatypeMismatch, c.word)
	}
	// A NULL key.
	write(t, s, batch(t, allTypes, "+", make([]types.Datum, len(allTypes))))
	wantCode(t, s.Commit(testContext(t), 5), pgerror.NotNullViolation, `"k"`)
	equal(t, "nothing written", tableRows(t, srv, "everything", "k"), nil)
}

func TestNewSinkRefusesATableThatDoesNotFit(t *testing.T) {
	srv := cassandra(t, `CREATE TABLE ks.totals (k int PRIMARY KEY, n bigint, label text);
		CREATE TABLE ks.narrow (k int PRIMARY KEY, n int, label text);
		CREATE TABLE ks.wide_key (k int, label text, n bigint, PRIMARY KEY (k, label));
		CREATE TABLE ks.other_key (id int PRIMARY KEY, k int, n bigint, label text)`)
	ctx := testContext(t)
	for _, c := range []struct {
		name, table string
		typ         string
		pk          []int
		extra       map[string]string
		code        string
		words       []string
	}{
		{"no table", "nope", typeUpsert, []int{0}, nil, pgerror.UndefinedTable, []string{"ks.nope", "CREATE TABLE", `"n" bigint`}},
		{"no keyspace", "totals", typeUpsert, []int{0}, map[string]string{optKeyspace: "elsewhere"}, pgerror.InvalidSchemaName, []string{"elsewhere"}},
		{"narrower type", "narrow", typeUpsert, []int{0}, nil, pgerror.DatatypeMismatch, []string{`"n"`, "int", "bigint"}},
		{"key not the sink's", "wide_key", typeUpsert, []int{0}, nil, pgerror.InvalidColumnReference, []string{"k, label"}},
		{"table key not in the sink", "other_key", typeAppendOnly, nil, nil, pgerror.InvalidColumnReference, []string{`"id"`}},
		{"unknown data center", "totals", typeUpsert, []int{0}, map[string]string{optDatacenter: "mars"}, pgerror.InvalidParameterValue, []string{"mars", "datacenter1"}},
		{"bad url", "totals", typeUpsert, []int{0}, map[string]string{optURL: "cassandra://x"}, pgerror.InvalidParameterValue, []string{"host:port"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := NewSink(ctx, sinkConfig(t, srv, totalSchema, c.typ, c.pk, c.table, c.extra))
			wantCode(t, err, c.code, c.words...)
		})
	}
	t.Run("missing column", func(t *testing.T) {
		schema := append(append(types.Schema{}, totalSchema...), types.Column{Name: "extra", Type: types.Float4})
		_, err := NewSink(ctx, sinkConfig(t, srv, schema, typeUpsert, []int{0}, "totals", nil))
		wantCode(t, err, pgerror.UndefinedColumn, `"extra"`, "ALTER TABLE ks.totals ADD \"extra\" float")
	})
	t.Run("unreachable", func(t *testing.T) {
		other := cqltest.Start(t, cqltest.Options{})
		cfg := sinkConfig(t, other, totalSchema, typeUpsert, []int{0}, "totals", map[string]string{optRequestTimeout: "500"})
		other.Close()
		_, err := NewSink(ctx, cfg)
		wantCode(t, err, pgerror.ConnectionException)
	})
	// A table with more columns than the sink, and a wider type, is fine.
	s := newSink(t, sinkConfig(t, srv, totalSchema[:2], typeUpsert, []int{0}, "totals", nil))
	write(t, s, batch(t, totalSchema[:2], "+", []types.Datum{int32(1), int64(2)}))
	commit(t, s, 1)
	equal(t, "rows", tableRows(t, srv, "totals", "k", "n", "label"), []string{"1|2|NULL"})
}

func TestRetriesTimeoutsAndUnavailableWithinCommit(t *testing.T) {
	srv := cassandra(t, "CREATE TABLE ks.totals (k int PRIMARY KEY, n bigint, label text)")
	s := newSink(t, sinkConfig(t, srv, totalSchema, typeUpsert, []int{0}, "totals", nil))
	srv.FailWrites(1, cqltest.ErrWriteTimeout)
	srv.FailWrites(1, cqltest.ErrUnavailable)
	srv.FailWrites(1, cqltest.ErrOverloaded)
	write(t, s, batch(t, totalSchema, "++", []types.Datum{int32(1), int64(1), "a"}, []types.Datum{int32(2), int64(2), "b"}))
	commit(t, s, 10)
	equal(t, "after retries", tableRows(t, srv, "totals", "k", "n", "label"), []string{"1|1|a", "2|2|b"})
	failed := 0
	for _, w := range srv.Writes() {
		if w.Failed {
			failed++
		}
	}
	if failed != 3 {
		t.Errorf("%d failed writes, want 3: %+v", failed, srv.Writes())
	}

	// Beyond the attempts, Commit fails; the epoch written again (as the
	// engine does, with a new sink) converges. (One change: one request
	// takes every failure.)
	srv.FailWrites(maxAttempts, cqltest.ErrWriteTimeout)
	write(t, s, batch(t, totalSchema, "-", []types.Datum{int32(2), int64(2), "b"}))
	if err := s.Commit(testContext(t), 11); err == nil || !strings.Contains(err.Error(), "timed out") {
		t.Fatalf("commit through %d timeouts: %v", maxAttempts, err)
	}
	s.Close()
	s = newSink(t, sinkConfig(t, srv, totalSchema, typeUpsert, []int{0}, "totals", nil))
	if got, _ := s.LastCommitted(testContext(t)); got != 10 {
		t.Errorf("LastCommitted after the failed epoch = %d; want 10", got)
	}
	write(t, s, batch(t, totalSchema, "+-", []types.Datum{int32(1), int64(100), "a"}, []types.Datum{int32(2), int64(2), "b"}))
	commit(t, s, 11)
	equal(t, "epoch 11 written again", tableRows(t, srv, "totals", "k", "n", "label"), []string{"1|100|a"})

	// An error that is not transient is not retried.
	srv.FailWrites(1, cqltest.ErrServer)
	write(t, s, batch(t, totalSchema, "+", []types.Datum{int32(3), int64(3), "c"}))
	if err := s.Commit(testContext(t), 12); err == nil {
		t.Fatal("a server error did not fail the commit")
	}
	if n := len(srv.Writes()); !srv.Writes()[n-1].Failed {
		t.Errorf("a server error was retried: %+v", srv.Writes()[n-1])
	}
}

func TestAuthentication(t *testing.T) {
	srv := cqltest.Start(t, cqltest.Options{Username: "app", Password: "s3cret"})
	if err := srv.Exec("CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}; CREATE TABLE ks.totals (k int PRIMARY KEY, n bigint, label text)"); err != nil {
		t.Fatal(err)
	}
	_, err := NewSink(testContext(t), sinkConfig(t, srv, totalSchema, typeUpsert, []int{0}, "totals",
		map[string]string{optUsername: "app", optPassword: "wrong"}))
	wantCode(t, err, pgerror.InvalidAuthorizationSpec)
	s := newSink(t, sinkConfig(t, srv, totalSchema, typeUpsert, []int{0}, "totals",
		map[string]string{optUsername: "app", optPassword: "s3cret"}))
	write(t, s, batch(t, totalSchema, "+", []types.Datum{int32(1), int64(1), "a"}))
	commit(t, s, 1)
	equal(t, "rows", tableRows(t, srv, "totals", "k", "n", "label"), []string{"1|1|a"})
}

func TestOptionsMarkdown(t *testing.T) {
	md := Connector().SinkOptions().OptionsMarkdown()
	for _, k := range []string{optURL, optKeyspace, optTable, optDatacenter, optMaxBatchRows, optRequestTimeout, optUsername, optPassword} {
		if !strings.Contains(md, "`"+k+"`") {
			t.Errorf("option %s is not in the table:\n%s", k, md)
		}
	}
	if _, err := Connector().SinkOptions().Validate(map[string]string{optURL: "x", optKeyspace: "k", optTable: "t", "cassandra.urls": "y"}); pgerror.Code(err) != pgerror.InvalidParameterValue {
		t.Errorf("an unknown option: %v", err)
	}
	var _ connectors.EpochRecorder = (*Sink)(nil)
}
