package file

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/sluicedb/sluice/connectors"
	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/types"
)

// sinkSchema has a column of every type the sink writes.
var sinkSchema = types.Schema{
	{Name: "id", Type: types.Int8},
	{Name: "name", Type: types.Text},
	{Name: "ts", Type: types.Timestamp},
	{Name: "tstz", Type: types.TimestampTZ},
	{Name: "price", Type: types.Numeric},
	{Name: "qty", Type: types.Int4},
	{Name: "small", Type: types.Int2},
	{Name: "ok", Type: types.Bool},
	{Name: "day", Type: types.Date},
	{Name: "ratio", Type: types.Float4},
	{Name: "wait", Type: types.Interval},
	{Name: "raw", Type: types.Bytea},
}

// t0 is 2026-01-02 03:04:05 in microseconds.
const t0 = int64(1767323045000000)

func sinkRow(id int64, name any, ts int64) []types.Datum {
	return []types.Datum{id, name, ts, ts + 1, float64(id) + 0.25, int32(id * 10), int16(id), id%2 == 0,
		int32(20455), float32(0.5), types.IntervalValue{Days: 1, Micros: 3_600_000_000}, []byte{0x0a, byte(id)}}
}

func sinkRecord(t testing.TB, alloc memory.Allocator, rows ...[]types.Datum) arrow.Record {
	t.Helper()
	b := array.NewRecordBuilder(alloc, sinkSchema.Arrow())
	defer b.Release()
	for _, row := range rows {
		for i, d := range row {
			types.Put(b.Field(i), d, sinkSchema[i].Type)
		}
	}
	return b.NewRecordBatch()
}

// newFileSink validates with options as CREATE SINK does and opens the
// sink; it is closed at the test's end unless the test closed it.
func newFileSink(t *testing.T, encode string, encodeOpts map[string]string, with map[string]string) *Sink {
	t.Helper()
	s, err := openFileSink(t, encode, encodeOpts, with)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func openFileSink(t *testing.T, encode string, encodeOpts map[string]string, with map[string]string) (*Sink, error) {
	t.Helper()
	opts, err := Connector().SinkOptions().Validate(with)
	if err != nil {
		return nil, err
	}
	return NewSink(context.Background(), connectors.SinkConfig{
		Name: "out", Schema: sinkSchema, Type: "append-only", Options: opts,
		Format: connectors.Format{Format: "PLAIN", Encode: encode, Options: encodeOpts},
		Alloc:  memory.NewGoAllocator(),
	})
}

// sinkWrite hands the rows to the sink as one batch.
func sinkWrite(t *testing.T, s *Sink, rows ...[]types.Datum) {
	t.Helper()
	rec := sinkRecord(t, memory.NewGoAllocator(), rows...)
	defer rec.Release()
	if err := s.Write(context.Background(), connectors.SinkBatch{Record: rec}); err != nil {
		t.Fatal(err)
	}
}

func commit(t *testing.T, s *Sink, epoch uint64) {
	t.Helper()
	if err := s.Commit(context.Background(), epoch); err != nil {
		t.Fatal(err)
	}
}

// tree lists the files under root, relative and sorted, with temporary
// files included.
func tree(t *testing.T, root string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(root, path)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	return files
}

func temporary(files []string) []string {
	var tmp []string
	for _, f := range files {
		if strings.HasPrefix(filepath.Base(f), ".") {
			tmp = append(tmp, f)
		}
	}
	return tmp
}

func readText(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSinkWritesJSONLinesAndCSV(t *testing.T) {
	tests := []struct {
		encode string
		opts   map[string]string
		file   string
		want   string
	}{
		{"JSON", nil, "part-100-0001.jsonl",
			`{"id":1,"name":"a","ts":"2026-01-02 03:04:05.000000","tstz":"2026-01-02 03:04:05.000001","price":1.25,"qty":10,"small":1,"ok":false,"day":"2026-01-02","ratio":0.5,"wait":"1 day 01:00:00","raw":"\\x0a01"}` + "\n" +
				`{"id":2,"name":null,"ts":"2026-01-02 03:04:06.000000","tstz":"2026-01-02 03:04:06.000001","price":2.25,"qty":20,"small":2,"ok":true,"day":"2026-01-02","ratio":0.5,"wait":"1 day 01:00:00","raw":"\\x0a02"}` + "\n" +
				`{"id":3,"name":"say \"hi\"","ts":"2026-01-02 03:04:07.000000","tstz":"2026-01-02 03:04:07.000001","price":3.25,"qty":30,"small":3,"ok":false,"day":"2026-01-02","ratio":0.5,"wait":"1 day 01:00:00","raw":"\\x0a03"}` + "\n"},
		{"CSV", map[string]string{"header": "true"}, "part-100-0001.csv",
			"id,name,ts,tstz,price,qty,small,ok,day,ratio,wait,raw\n" +
				"1,a,2026-01-02 03:04:05.000000,2026-01-02 03:04:05.000001,1.25,10,1,f,2026-01-02,0.5,1 day 01:00:00,\\x0a01\n" +
				"2,,2026-01-02 03:04:06.000000,2026-01-02 03:04:06.000001,2.25,20,2,t,2026-01-02,0.5,1 day 01:00:00,\\x0a02\n" +
				"3,\"say \"\"hi\"\"\",2026-01-02 03:04:07.000000,2026-01-02 03:04:07.000001,3.25,30,3,f,2026-01-02,0.5,1 day 01:00:00,\\x0a03\n"},
	}
	for _, tt := range tests {
		t.Run(tt.encode, func(t *testing.T) {
			dir := t.TempDir()
			s := newFileSink(t, tt.encode, tt.opts, map[string]string{"path": dir, "rollover.interval": "0"})
			sinkWrite(t, s, sinkRow(1, "a", t0), sinkRow(2, nil, t0+1_000_000))
			sinkWrite(t, s, sinkRow(3, `say "hi"`, t0+2_000_000))
			if got := tree(t, dir); len(got) != 0 {
				t.Fatalf("files before Commit: %v", got)
			}
			commit(t, s, 100)
			if got := tree(t, dir); strings.Join(got, " ") != tt.file {
				t.Fatalf("files after Commit: %v, want only %s", got, tt.file)
			}
			if got := readText(t, filepath.Join(dir, tt.file)); got != tt.want {
				t.Errorf("%s holds:\n%s\nwant:\n%s", tt.file, got, tt.want)
			}
		})
	}
}

// readParquet reads a Parquet file with arrow-go's reader.
func readParquet(t *testing.T, path string) arrow.Table {
	t.Helper()
	rdr, err := file.OpenParquetFile(path, false)
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
	t.Cleanup(tbl.Release)
	return tbl
}

// tableRows renders a table's rows as text, one line per row.
func tableRows(t *testing.T, tbl arrow.Table) []string {
	t.Helper()
	tr := array.NewTableReader(tbl, -1)
	defer tr.Release()
	var rows []string
	for tr.Next() {
		rec := tr.RecordBatch()
		for i := 0; i < int(rec.NumRows()); i++ {
			var cells []string
			for c := 0; c < int(rec.NumCols()); c++ {
				col := rec.Column(c)
				if col.IsNull(i) {
					cells = append(cells, "NULL")
					continue
				}
				cells = append(cells, col.ValueStr(i))
			}
			rows = append(rows, strings.Join(cells, "|"))
		}
	}
	return rows
}

func TestSinkWritesParquetWithTypes(t *testing.T) {
	dir := t.TempDir()
	s := newFileSink(t, "PARQUET", nil, map[string]string{"path": dir, "rollover.interval": "0"})
	sinkWrite(t, s, sinkRow(1, "a", t0), sinkRow(2, nil, t0+1_000_000))
	sinkWrite(t, s, sinkRow(3, "c", t0+2_000_000))
	commit(t, s, 7)
	if got := tree(t, dir); strings.Join(got, " ") != "part-7-0001.parquet" {
		t.Fatalf("files: %v", got)
	}
	tbl := readParquet(t, filepath.Join(dir, "part-7-0001.parquet"))
	want := map[string]string{
		"id": "int64", "name": "utf8", "ts": "timestamp[us]", "tstz": "timestamp[us, tz=UTC]",
		"price": "float64", "qty": "int32", "small": "int16", "ok": "bool", "day": "date32",
		"ratio": "float32", "wait": "utf8", "raw": "binary",
	}
	sc := tbl.Schema()
	if sc.NumFields() != len(sinkSchema) {
		t.Fatalf("schema %s", sc)
	}
	for i, c := range sinkSchema {
		f := sc.Field(i)
		if f.Name != c.Name || f.Type.String() != want[c.Name] {
			t.Errorf("column %d is %s %s, want %s %s", i, f.Name, f.Type, c.Name, want[c.Name])
		}
		if v, ok := f.Metadata.GetValue("sluice.type"); !ok || v != c.Type.String() {
			t.Errorf("column %s: sluice.type = %q, want %q", c.Name, v, c.Type)
		}
	}
	// ValueStr prints binary in base64: CgE= is 0x0a 0x01.
	got := strings.Join(tableRows(t, tbl), "\n")
	wantRows := strings.Join([]string{
		"1|a|2026-01-02T03:04:05|2026-01-02T03:04:05.000001Z|1.25|10|1|false|2026-01-02|0.5|1 day 01:00:00|CgE=",
		"2|NULL|2026-01-02T03:04:06|2026-01-02T03:04:06.000001Z|2.25|20|2|true|2026-01-02|0.5|1 day 01:00:00|CgI=",
		"3|c|2026-01-02T03:04:07|2026-01-02T03:04:07.000001Z|3.25|30|3|false|2026-01-02|0.5|1 day 01:00:00|CgM=",
	}, "\n")
	if got != wantRows {
		t.Errorf("rows:\n%s\nwant:\n%s", got, wantRows)
	}
}

// TestSinkParquetReadByPyArrow checks the file with an independent reader,
// when one is installed.
func TestSinkParquetReadByPyArrow(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed: the independent pyarrow check is skipped")
	}
	if out, err := exec.Command(python, "-c", "import pyarrow.parquet").CombinedOutput(); err != nil {
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		t.Skipf("pyarrow is not installed (%s): the independent Parquet check is skipped", lines[len(lines)-1])
	}
	dir := t.TempDir()
	s := newFileSink(t, "PARQUET", nil, map[string]string{"path": dir, "rollover.interval": "0"})
	sinkWrite(t, s, sinkRow(1, "a", t0), sinkRow(2, nil, t0+1_000_000))
	commit(t, s, 7)
	script := `import sys, pyarrow.parquet as pq
t = pq.read_table(sys.argv[1])
for f in t.schema: print(f.name, f.type)
for r in t.to_pylist(): print(r["id"], r["name"], r["ts"].isoformat(), r["tstz"].isoformat(), r["price"], r["day"].isoformat(), r["ok"])`
	out, err := exec.Command(python, "-c", script, filepath.Join(dir, "part-7-0001.parquet")).CombinedOutput()
	if err != nil {
		t.Fatalf("pyarrow: %v\n%s", err, out)
	}
	want := `id int64
name string
ts timestamp[us]
tstz timestamp[us, tz=UTC]
price double
qty int32
small int16
ok bool
day date32[day]
ratio float
wait string
raw binary
1 a 2026-01-02T03:04:05 2026-01-02T03:04:05.000001+00:00 1.25 2026-01-02 False
2 None 2026-01-02T03:04:06 2026-01-02T03:04:06.000001+00:00 2.25 2026-01-02 True
`
	if string(out) != want {
		t.Errorf("pyarrow reads:\n%s\nwant:\n%s", out, want)
	}
}

func TestSinkPartitionTemplate(t *testing.T) {
	for _, encode := range []string{"JSON", "PARQUET"} {
		t.Run(encode, func(t *testing.T) {
			root := t.TempDir()
			path := root + "/out/dt={ts:date}/hour={ts:hour}/name={name}/"
			s := newFileSink(t, encode, nil, map[string]string{"path": path, "rollover.interval": "0"})
			sinkWrite(t, s,
				sinkRow(1, "a", t0),
				sinkRow(2, "a", t0+1),
				sinkRow(3, "x/../y", t0+3600_000_000),
				sinkRow(4, nil, t0+86400_000_000),
				sinkRow(5, "a", t0+2))
			commit(t, s, 9)
			ext := map[string]string{"JSON": "jsonl", "PARQUET": "parquet"}[encode]
			want := []string{
				"out/dt=2026-01-02/hour=03/name=a/part-9-0001." + ext,
				"out/dt=2026-01-02/hour=04/name=x%2F..%2Fy/part-9-0002." + ext,
				"out/dt=2026-01-03/hour=03/name=__HIVE_DEFAULT_PARTITION__/part-9-0003." + ext,
			}
			if got := tree(t, root); strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Fatalf("files:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			ids := func(f string) string {
				p := filepath.Join(root, f)
				var out []string
				if encode == "PARQUET" {
					for _, r := range tableRows(t, readParquet(t, p)) {
						out = append(out, strings.Split(r, "|")[0])
					}
				} else {
					for _, l := range strings.Split(strings.TrimSpace(readText(t, p)), "\n") {
						out = append(out, strings.Split(strings.TrimPrefix(l, `{"id":`), ",")[0])
					}
				}
				return strings.Join(out, ",")
			}
			for i, wantIDs := range []string{"1,2,5", "3", "4"} {
				if got := ids(want[i]); got != wantIDs {
					t.Errorf("%s holds ids %s, want %s", want[i], got, wantIDs)
				}
			}
		})
	}
}

func TestSinkTemplateErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		path string
		code string
	}{
		{dir + "/{nope}/", pgerror.UndefinedColumn},
		{dir + "/{name:hour}/", pgerror.DatatypeMismatch},
		{dir + "/{qty:date}/", pgerror.DatatypeMismatch},
		{dir + "/{ts:week}/", pgerror.InvalidParameterValue},
		{dir + "/{ts/", pgerror.InvalidParameterValue},
		{dir + "/ts}/", pgerror.InvalidParameterValue},
		{"{ts}", pgerror.InvalidParameterValue},
	}
	for _, tt := range tests {
		_, err := openFileSink(t, "JSON", nil, map[string]string{"path": tt.path})
		var pe *pgerror.Error
		if !errors.As(err, &pe) || pe.Code != tt.code {
			t.Errorf("path %q: error %v, want SQLSTATE %s", tt.path, err, tt.code)
		}
	}
}

func TestSinkRefusesUpsertAndUnknownEncode(t *testing.T) {
	dir := t.TempDir()
	opts, err := Connector().SinkOptions().Validate(map[string]string{"path": dir})
	if err != nil {
		t.Fatal(err)
	}
	_, err = NewSink(context.Background(), connectors.SinkConfig{Name: "out", Schema: sinkSchema, Type: "upsert",
		PrimaryKey: []int{0}, Options: opts, Format: connectors.Format{Format: "PLAIN", Encode: "JSON"}})
	if err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Errorf("upsert: %v", err)
	}
	if _, err := openFileSink(t, "AVRO", nil, map[string]string{"path": dir}); err == nil {
		t.Error("ENCODE AVRO was accepted")
	}
	if _, err := openFileSink(t, "PARQUET", map[string]string{"compression": "lzo"}, map[string]string{"path": dir}); err == nil {
		t.Error("an unknown Parquet compression was accepted")
	}
}

func TestSinkRollover(t *testing.T) {
	rows := [][]types.Datum{sinkRow(1, "a", t0), sinkRow(2, "b", t0), sinkRow(3, "c", t0), sinkRow(4, "d", t0), sinkRow(5, "e", t0)}
	for _, encode := range []string{"JSON", "CSV", "PARQUET"} {
		t.Run(encode+" rows", func(t *testing.T) {
			dir := t.TempDir()
			s := newFileSink(t, encode, nil, map[string]string{"path": dir, "rollover.rows": "2", "rollover.interval": "1h"})
			sinkWrite(t, s, rows[:3]...)
			sinkWrite(t, s, rows[3:]...)
			commit(t, s, 10)
			files := tree(t, dir)
			ext := map[string]string{"JSON": "jsonl", "CSV": "csv", "PARQUET": "parquet"}[encode]
			want := []string{"part-10-0001." + ext, "part-10-0002." + ext, "part-10-0003." + ext}
			if strings.Join(files, " ") != strings.Join(want, " ") {
				t.Fatalf("files %v, want %v", files, want)
			}
			for i, n := range []int{2, 2, 1} {
				var got int
				if encode == "PARQUET" {
					got = int(readParquet(t, filepath.Join(dir, want[i])).NumRows())
				} else {
					got = strings.Count(readText(t, filepath.Join(dir, want[i])), "\n")
				}
				if got != n {
					t.Errorf("%s has %d rows, want %d", want[i], got, n)
				}
			}
		})
	}
	t.Run("bytes", func(t *testing.T) {
		dir := t.TempDir()
		// Each row is over 200 bytes of JSON: two rows pass 300 bytes.
		s := newFileSink(t, "JSON", nil, map[string]string{"path": dir, "rollover.bytes": "300", "rollover.interval": "1h"})
		sinkWrite(t, s, rows...)
		commit(t, s, 10)
		files := tree(t, dir)
		if len(files) != 3 {
			t.Fatalf("files %v, want 3", files)
		}
		for i, f := range files {
			if n, want := strings.Count(readText(t, filepath.Join(dir, f)), "\n"), []int{2, 2, 1}[i]; n != want {
				t.Errorf("%s has %d rows, want %d", f, n, want)
			}
		}
	})
}

// A file spans epochs until rollover.interval has passed; until then it is
// only a temporary file, and Close publishes it.
func TestSinkFileSpansEpochsUntilPublished(t *testing.T) {
	dir := t.TempDir()
	s := newFileSink(t, "JSON", nil, map[string]string{"path": dir, "rollover.interval": "1h"})
	sinkWrite(t, s, sinkRow(1, "a", t0))
	commit(t, s, 10)
	sinkWrite(t, s, sinkRow(2, "b", t0))
	commit(t, s, 11)
	files := tree(t, dir)
	if len(files) != 1 || len(temporary(files)) != 1 {
		t.Fatalf("files before the interval: %v, want one temporary file", files)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	files = tree(t, dir)
	if strings.Join(files, " ") != "part-11-0001.jsonl" {
		t.Fatalf("files after Close: %v", files)
	}
	if n := strings.Count(readText(t, filepath.Join(dir, files[0])), "\n"); n != 2 {
		t.Errorf("the file has %d rows, want 2", n)
	}
}

// No temporary file is left once a Commit has published, and several
// partitions are published together without leaving a commit marker.
func TestSinkNoTemporaryFileAfterCommit(t *testing.T) {
	dir := t.TempDir()
	s := newFileSink(t, "CSV", nil, map[string]string{"path": dir + "/{qty}/", "rollover.interval": "0"})
	for e := uint64(1); e <= 3; e++ {
		sinkWrite(t, s, sinkRow(int64(e), "a", t0), sinkRow(int64(e)+10, "b", t0))
		commit(t, s, e)
		files := tree(t, dir)
		if tmp := temporary(files); len(tmp) > 0 {
			t.Fatalf("after Commit %d: temporary files %v", e, tmp)
		}
		if len(files) != int(2*e) {
			t.Fatalf("after Commit %d: files %v", e, files)
		}
	}
}

func TestSinkRemovesACrashedWritersFiles(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/{name}/"
	crashed := newFileSink(t, "PARQUET", nil, map[string]string{"path": path, "rollover.interval": "1h"})
	sinkWrite(t, crashed, sinkRow(1, "a", t0), sinkRow(2, "b", t0))
	commit(t, crashed, 5)
	// The crashed writer is never closed: its files stay temporary.
	if tmp := temporary(tree(t, dir)); len(tmp) != 2 {
		t.Fatalf("the crashed writer left %v, want 2 temporary files", tmp)
	}
	// A leftover marker's temporary file is removed too.
	if err := os.WriteFile(filepath.Join(dir, markerPrefix+"4"+tmpSuffix), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := newFileSink(t, "PARQUET", nil, map[string]string{"path": path, "rollover.interval": "0"})
	if files := tree(t, dir); len(temporary(files)) != 0 {
		t.Fatalf("after NewSink: %v", files)
	}
	if last, err := s.LastCommitted(context.Background()); err != nil || last != 0 {
		t.Fatalf("LastCommitted = %d, %v; want 0", last, err)
	}
	crashed.closed = true // its Cleanup must not publish into the directory
}

// A crash between the commit marker and the renames is finished by the next
// NewSink: the generation is published whole.
func TestSinkFinishesAnInterruptedPublication(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"a/.part-x-1.jsonl.tmp", "b/.part-x-2.jsonl.tmp", "c/.part-x-3.jsonl.tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), []byte("{}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// a was renamed before the crash; b was not; c is not in the marker.
	if err := os.Rename(filepath.Join(dir, "a/.part-x-1.jsonl.tmp"), filepath.Join(dir, "a/part-8-0001.jsonl")); err != nil {
		t.Fatal(err)
	}
	marker := "a/.part-x-1.jsonl.tmp\ta/part-8-0001.jsonl\nb/.part-x-2.jsonl.tmp\tb/part-8-0002.jsonl\n"
	if err := os.WriteFile(filepath.Join(dir, markerPrefix+"8"), []byte(marker), 0o644); err != nil {
		t.Fatal(err)
	}
	s := newFileSink(t, "JSON", nil, map[string]string{"path": dir + "/{name}/"})
	want := "a/part-8-0001.jsonl b/part-8-0002.jsonl"
	if got := strings.Join(tree(t, dir), " "); got != want {
		t.Fatalf("files %s, want %s", got, want)
	}
	if last, _ := s.LastCommitted(context.Background()); last != 8 {
		t.Errorf("LastCommitted = %d, want 8", last)
	}
}

func TestSinkReplayedEpochPublishesNothing(t *testing.T) {
	dir := t.TempDir()
	with := map[string]string{"path": dir, "rollover.interval": "0"}
	first := newFileSink(t, "JSON", nil, with)
	sinkWrite(t, first, sinkRow(1, "a", t0))
	commit(t, first, 5)
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}

	s := newFileSink(t, "JSON", nil, with)
	if last, err := s.LastCommitted(context.Background()); err != nil || last != 5 {
		t.Fatalf("LastCommitted = %d, %v; want 5", last, err)
	}
	for _, e := range []uint64{4, 5} {
		sinkWrite(t, s, sinkRow(1, "a", t0))
		commit(t, s, e)
		if got := strings.Join(tree(t, dir), " "); got != "part-5-0001.jsonl" {
			t.Fatalf("after replaying epoch %d: %s", e, got)
		}
	}
	sinkWrite(t, s, sinkRow(2, "b", t0))
	commit(t, s, 6)
	if got := strings.Join(tree(t, dir), " "); got != "part-5-0001.jsonl part-6-0001.jsonl" {
		t.Fatalf("after epoch 6: %s", got)
	}
	if got := readText(t, filepath.Join(dir, "part-6-0001.jsonl")); !strings.HasPrefix(got, `{"id":2,`) || strings.Count(got, "\n") != 1 {
		t.Errorf("part-6 holds %q, want only row 2", got)
	}
	if last, _ := s.LastCommitted(context.Background()); last != 6 {
		t.Errorf("LastCommitted = %d, want 6", last)
	}
}

func TestSinkRefusesDeletes(t *testing.T) {
	s := newFileSink(t, "JSON", nil, map[string]string{"path": t.TempDir()})
	rec := sinkRecord(t, memory.NewGoAllocator(), sinkRow(1, "a", t0))
	defer rec.Release()
	err := s.Write(context.Background(), connectors.SinkBatch{Record: rec, Kinds: []connectors.RowKind{connectors.RowDelete}})
	if err == nil {
		t.Fatal("a delete was accepted")
	}
}

func TestSinkReleasesRecords(t *testing.T) {
	alloc := memory.NewCheckedAllocator(memory.NewGoAllocator())
	dir := t.TempDir()
	s := newFileSink(t, "PARQUET", nil, map[string]string{"path": dir + "/{name}/", "rollover.interval": "0"})
	for e := uint64(1); e <= 2; e++ {
		rec := sinkRecord(t, alloc, sinkRow(1, "a", t0), sinkRow(2, "b", t0))
		if err := s.Write(context.Background(), connectors.SinkBatch{Record: rec}); err != nil {
			t.Fatal(err)
		}
		rec.Release()
		commit(t, s, e)
	}
	alloc.AssertSize(t, 0)
}

// A generation that rollover.interval makes due while no Commit comes is
// published by the sink's timer, under the last committed epoch.
func TestSinkPublishesAQuietGenerationAfterTheInterval(t *testing.T) {
	dir := t.TempDir()
	s := newFileSink(t, "JSON", nil, map[string]string{"path": dir, "rollover.interval": "50ms"})
	sinkWrite(t, s, sinkRow(1, "a", t0))
	commit(t, s, 12)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if got := strings.Join(tree(t, dir), " "); got == "part-12-0001.jsonl" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not published within 10s: %v", tree(t, dir))
		}
		time.Sleep(10 * time.Millisecond)
	}
}
