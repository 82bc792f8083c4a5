package file_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	pqfile "github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/jackc/pgx/v5"

	"github.com/sluicedb/sluice/connectors"
	"github.com/sluicedb/sluice/connectors/datagen"
	"github.com/sluicedb/sluice/connectors/file"
	"github.com/sluicedb/sluice/internal/testserver"
)

func connect(t *testing.T) (context.Context, *pgx.Conn) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	srv := testserver.Start(t, connectors.NewRegistry(file.Connector(), datagen.Connector()))
	conn, err := srv.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return ctx, conn
}

func execSQL(t *testing.T, ctx context.Context, conn *pgx.Conn, sqls ...string) {
	t.Helper()
	for _, sql := range sqls {
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
}

// viewRows returns the view's rows as "auction|price|channel|ts" lines,
// sorted, with ts in UTC as 2006-01-02 15:04:05.
func viewRows(t *testing.T, ctx context.Context, conn *pgx.Conn, view string) []string {
	t.Helper()
	rows, err := conn.Query(ctx, "SELECT auction, price::text, channel, ts FROM "+view)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var (
			auction int64
			price   string
			channel *string
			ts      time.Time
		)
		if err := rows.Scan(&auction, &price, &channel, &ts); err != nil {
			t.Fatal(err)
		}
		ch := "NULL"
		if channel != nil {
			ch = *channel
		}
		out = append(out, fmt.Sprintf("%d|%s|%s|%s", auction, price, ch, ts.UTC().Format("2006-01-02 15:04:05")))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// published lists the published files under root (temporary files start
// with a dot).
func published(t *testing.T, root string) []string {
	t.Helper()
	var files []string
	filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.HasPrefix(d.Name(), ".") {
			files = append(files, path)
		}
		return nil
	})
	sort.Strings(files)
	return files
}

// await polls read until it returns want rows or the context ends.
func await(t *testing.T, ctx context.Context, want []string, read func() []string) []string {
	t.Helper()
	for {
		got := read()
		if len(got) >= len(want) {
			return got
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the sink wrote %d of %d rows:\n%s", len(got), len(want), strings.Join(got, "\n"))
		case <-time.After(20 * time.Millisecond):
		}
	}
}

const setup = `CREATE TABLE bids (auction BIGINT, price NUMERIC, channel TEXT, ts TIMESTAMP) APPEND ONLY`

// view is what the sinks' query computes, to compare with. (CREATE SINK
// FROM big is refused as not append-only: a scan of a view is taken as
// changing even when the view's own stream is append-only.)
const view = `CREATE MATERIALIZED VIEW big AS SELECT auction, price, channel, ts FROM bids WHERE price >= 10`

var inserts = []string{
	`INSERT INTO bids VALUES (1, 12.5, 'web', '2026-03-01 10:00:00'), (2, 5, 'app', '2026-03-01 11:00:00'),
	 (3, 100, NULL, '2026-03-02 09:30:00'), (4, 10, 'say "hi", ok', '2026-03-02 23:59:59')`,
	`INSERT INTO bids VALUES (5, 11, 'web', '2026-03-03 00:00:00'), (6, 1, 'app', '2026-03-03 00:00:01')`,
}

func TestSQLSinkToParquetPartitioned(t *testing.T) {
	ctx, conn := connect(t)
	root := t.TempDir()
	execSQL(t, ctx, conn, setup, view,
		`CREATE SINK big_out AS SELECT auction, price, channel, ts FROM bids WHERE price >= 10
		 WITH (connector = 'file', path = '`+root+`/dt={ts:date}/',
		 rollover.interval = '0') FORMAT PLAIN ENCODE PARQUET`)
	execSQL(t, ctx, conn, inserts...)
	execSQL(t, ctx, conn, "FLUSH")
	want := viewRows(t, ctx, conn, "big")
	if len(want) != 4 {
		t.Fatalf("the view has %d rows, want 4", len(want))
	}

	read := func() []string {
		var rows []string
		for _, f := range published(t, root) {
			dt := filepath.Base(filepath.Dir(f))
			tbl := readParquet(t, f)
			checkParquetTypes(t, tbl.Schema())
			tr := array.NewTableReader(tbl, -1)
			for tr.Next() {
				rec := tr.RecordBatch()
				auction := rec.Column(0).(*array.Int64)
				price := rec.Column(1).(*array.Float64)
				channel := rec.Column(2).(*array.String)
				ts := rec.Column(3).(*array.Timestamp)
				for i := 0; i < int(rec.NumRows()); i++ {
					ch := "NULL"
					if channel.IsValid(i) {
						ch = channel.Value(i)
					}
					tm := time.UnixMicro(int64(ts.Value(i))).UTC()
					if want := "dt=" + tm.Format("2006-01-02"); dt != want {
						t.Errorf("a row of %s is in %s", want, f)
					}
					rows = append(rows, fmt.Sprintf("%d|%g|%s|%s", auction.Value(i), price.Value(i), ch, tm.Format("2006-01-02 15:04:05")))
				}
			}
			tr.Release()
			tbl.Release()
		}
		sort.Strings(rows)
		return rows
	}
	got := await(t, ctx, want, read)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("the Parquet files hold:\n%s\nthe view holds:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func readParquet(t *testing.T, path string) arrow.Table {
	t.Helper()
	rdr, err := pqfile.OpenParquetFile(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer rdr.Close()
	fr, err := pqarrow.NewFileReader(rdr, pqarrow.ArrowReadProperties{}, memory.NewGoAllocator())
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return tbl
}

func checkParquetTypes(t *testing.T, sc *arrow.Schema) {
	t.Helper()
	want := []string{"auction int64", "price float64", "channel utf8", "ts timestamp[us]"}
	var got []string
	for _, f := range sc.Fields() {
		got = append(got, f.Name+" "+f.Type.String())
	}
	if strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Fatalf("Parquet schema %v, want %v", got, want)
	}
}

func TestSQLSinkToJSONLines(t *testing.T) {
	ctx, conn := connect(t)
	root := t.TempDir()
	execSQL(t, ctx, conn, setup, view,
		`CREATE SINK big_out AS SELECT auction, price, channel, ts FROM bids WHERE price >= 10
		 WITH (connector = 'file', path = '`+root+`', rollover.interval = '0')
		 FORMAT PLAIN ENCODE JSON`)
	execSQL(t, ctx, conn, inserts...)
	execSQL(t, ctx, conn, "FLUSH")
	want := viewRows(t, ctx, conn, "big")

	read := func() []string {
		var rows []string
		for _, f := range published(t, root) {
			if !strings.HasPrefix(filepath.Base(f), "part-") || filepath.Ext(f) != ".jsonl" {
				t.Errorf("unexpected file %s", f)
			}
			fh, err := os.Open(f)
			if err != nil {
				t.Fatal(err)
			}
			sc := bufio.NewScanner(fh)
			for sc.Scan() {
				var r struct {
					Auction int64       `json:"auction"`
					Price   json.Number `json:"price"`
					Channel *string     `json:"channel"`
					TS      string      `json:"ts"`
				}
				if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
					t.Fatalf("%s: %q: %v", f, sc.Text(), err)
				}
				ch := "NULL"
				if r.Channel != nil {
					ch = *r.Channel
				}
				rows = append(rows, fmt.Sprintf("%d|%s|%s|%s", r.Auction, r.Price, ch, strings.TrimSuffix(r.TS, ".000000")))
			}
			fh.Close()
		}
		sort.Strings(rows)
		return rows
	}
	got := await(t, ctx, want, read)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("the JSON files hold:\n%s\nthe view holds:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestSQLFileSinkRefusesAnUpdatingView(t *testing.T) {
	ctx, conn := connect(t)
	execSQL(t, ctx, conn, setup, `CREATE MATERIALIZED VIEW totals AS SELECT channel, count(*) AS n FROM bids GROUP BY channel`)
	_, err := conn.Exec(ctx, `CREATE SINK t_out FROM totals WITH (connector = 'file', path = '`+t.TempDir()+`',
		type = 'upsert', primary_key = 'channel') FORMAT PLAIN ENCODE JSON`)
	if err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Errorf("an upsert file sink: %v", err)
	}
}
