package file

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sluicedb/sluice/connectors"
	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/types"
)

var schema = types.Schema{
	{Name: "id", Type: types.Int8},
	{Name: "name", Type: types.Text},
}

// open validates with the connector's declared options, as CREATE SOURCE
// does, and builds the source.
func open(t *testing.T, with map[string]string, encode string, encodeOpts map[string]string) (connectors.Source, error) {
	t.Helper()
	c := Connector()
	opts, err := c.Validate(with)
	if err != nil {
		return nil, err
	}
	alloc := memory.NewCheckedAllocator(memory.NewGoAllocator())
	t.Cleanup(func() { alloc.AssertSize(t, 0) })
	return c.NewSource(context.Background(), connectors.SourceConfig{
		Name:    "src",
		Schema:  schema,
		Options: opts,
		Format:  connectors.Format{Format: "PLAIN", Encode: encode, Options: encodeOpts},
		Alloc:   alloc,
	})
}

func mustOpen(t *testing.T, with map[string]string, encode string, encodeOpts map[string]string) connectors.Source {
	t.Helper()
	src, err := open(t, with, encode, encodeOpts)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func openReader(t *testing.T, src connectors.Source, split string, pos connectors.Position) connectors.Reader {
	t.Helper()
	r, err := src.Open(context.Background(), connectors.Split{ID: split}, pos)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func appendTo(t *testing.T, path, data string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(data); err != nil {
		t.Fatal(err)
	}
}

// result is a batch rendered for comparison.
type result struct {
	rows   []string
	errors []string // "where: error"
	pos    connectors.Position
}

func next(t *testing.T, r connectors.Reader) result {
	t.Helper()
	b, err := r.Next(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return render(b)
}

func render(b connectors.Batch) result {
	var res result
	if b.Record != nil {
		for i := 0; i < int(b.Record.NumRows()); i++ {
			var cells []string
			for _, col := range b.Record.Columns() {
				if col.IsNull(i) {
					cells = append(cells, "NULL")
				} else {
					cells = append(cells, col.ValueStr(i))
				}
			}
			res.rows = append(res.rows, strings.Join(cells, "|"))
		}
		b.Record.Release()
	}
	for _, e := range b.Errors {
		res.errors = append(res.errors, e.Where+": "+e.Err.Error())
	}
	res.pos = b.Position
	return res
}

func eq(a, b []string) bool { return fmt.Sprint(a) == fmt.Sprint(b) }

// nextAsync calls Next in the background, so that a test can append to the
// file after the reader has started waiting.
func nextAsync(r connectors.Reader) <-chan result {
	ch := make(chan result, 1)
	go func() {
		b, err := r.Next(context.Background())
		if err != nil {
			ch <- result{errors: []string{err.Error()}}
			return
		}
		ch <- render(b)
	}()
	return ch
}

func await(t *testing.T, ch <-chan result) result {
	t.Helper()
	select {
	case res := <-ch:
		return res
	case <-time.After(30 * time.Second): // a hang guard, not a synchronisation
		t.Fatal("Next did not return")
		return result{}
	}
}

func TestOptionValidation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.json")
	write(t, path, "")
	tests := []struct {
		name string
		with map[string]string
		code string
		msg  string
	}{
		{"unknown key lists the known ones", map[string]string{"path": path, "poll": "1s"}, pgerror.InvalidParameterValue,
			`unknown option "poll" for connector file (known options: batch.size, path, poll.interval, scan.startup.mode)`},
		{"missing path", map[string]string{}, pgerror.InvalidParameterValue, `option "path" is required for connector file`},
		{"bad enum", map[string]string{"path": path, "scan.startup.mode": "middle"}, pgerror.InvalidParameterValue,
			`invalid value for option "scan.startup.mode": "middle" is not one of earliest, latest`},
		{"bad duration", map[string]string{"path": path, "poll.interval": "soon"}, pgerror.InvalidParameterValue,
			`invalid value for option "poll.interval": "soon" is not a duration (such as '5s', '100ms', or a number of milliseconds)`},
		{"bad integer", map[string]string{"path": path, "batch.size": "many"}, pgerror.InvalidParameterValue,
			`invalid value for option "batch.size": "many" is not an integer`},
		{"zero batch", map[string]string{"path": path, "batch.size": "0"}, pgerror.InvalidParameterValue,
			`option "batch.size" must be between 1 and 1048576`},
		{"missing file", map[string]string{"path": filepath.Join(dir, "nope.json")}, pgerror.UndefinedFile,
			fmt.Sprintf(`could not open file %q for reading: no such file or directory`, filepath.Join(dir, "nope.json"))},
		{"glob without matches", map[string]string{"path": filepath.Join(dir, "*.csv")}, pgerror.UndefinedFile,
			fmt.Sprintf(`no file matches path %q`, filepath.Join(dir, "*.csv"))},
		{"a directory", map[string]string{"path": dir}, pgerror.UndefinedFile,
			fmt.Sprintf(`could not open file %q for reading: it is a directory`, dir)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := open(t, tc.with, "JSON", nil)
			if err == nil || pgerror.Code(err) != tc.code || err.Error() != tc.msg {
				t.Errorf("got %v (%s), want %s: %s", err, pgerror.Code(err), tc.code, tc.msg)
			}
		})
	}
	_, err := open(t, map[string]string{"PATH": path, "Connector": "file"}, "JSON", nil)
	if err != nil {
		t.Errorf("keys are case-insensitive and connector is not an option: %v", err)
	}
	_, err = open(t, map[string]string{"path": path}, "AVRO", nil)
	if pgerror.Code(err) != pgerror.FeatureNotSupported {
		t.Errorf("ENCODE AVRO: got %v", err)
	}
}

func TestReadThenFollowAppendedLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bids.json")
	write(t, path, `{"id":1,"name":"a"}`+"\n"+`{"id":2,"name":"b"}`+"\n")
	src := mustOpen(t, map[string]string{"path": path, "poll.interval": "5ms"}, "JSON", nil)
	r := openReader(t, src, path, "")

	if got := next(t, r); !eq(got.rows, []string{"1|a", "2|b"}) || got.pos != "40" {
		t.Fatalf("first batch: %+v", got)
	}

	// Next waits for appended data: start it, then append.
	pending := nextAsync(r)
	appendTo(t, path, `{"id":3,"name":"c"}`+"\n"+`{"id":4,`)
	if got := await(t, pending); !eq(got.rows, []string{"3|c"}) || got.pos != "60" {
		t.Fatalf("after append: %+v", got)
	}

	// The partial line is held back until its newline arrives.
	pending = nextAsync(r)
	appendTo(t, path, `"name":"d"}`+"\n")
	if got := await(t, pending); !eq(got.rows, []string{"4|d"}) || got.pos != "80" {
		t.Fatalf("after completing the line: %+v", got)
	}
}

func TestResumeAtPosition(t *testing.T) {
	path := filepath.Join(t.TempDir(), "n.json")
	var lines strings.Builder
	for i := 1; i <= 5; i++ {
		fmt.Fprintf(&lines, `{"id":%d}`+"\n", i)
	}
	write(t, path, lines.String())
	src := mustOpen(t, map[string]string{"path": path, "batch.size": "2"}, "JSON", nil)

	r := openReader(t, src, path, "")
	first := next(t, r)
	if !eq(first.rows, []string{"1|NULL", "2|NULL"}) {
		t.Fatalf("first batch: %+v", first)
	}
	r.Close()

	r = openReader(t, src, path, first.pos)
	var rest []string
	for len(rest) < 3 {
		rest = append(rest, next(t, r).rows...)
	}
	if !eq(rest, []string{"3|NULL", "4|NULL", "5|NULL"}) {
		t.Errorf("after resuming at %s: %q", first.pos, rest)
	}
}

func TestMalformedLinesAreCountedAndSkipped(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mixed.json")
	write(t, path, `{"id":1}`+"\n"+`{"id":`+"\n\n   \n"+`{"id":"x"}`+"\r\n"+`{"id":4}`+"\n")
	src := mustOpen(t, map[string]string{"path": path}, "JSON", nil)
	r := openReader(t, src, path, "")
	got := next(t, r)
	wantErrs := []string{
		"line 2 of " + path + ": invalid JSON: expected a value at end of input",
		"line 5 of " + path + `: column "id": invalid input syntax for type bigint: "x"`,
	}
	if !eq(got.rows, []string{"1|NULL", "4|NULL"}) || !eq(got.errors, wantErrs) {
		t.Errorf("got rows %q errors %q, want errors %q", got.rows, got.errors, wantErrs)
	}
}

func TestBadRecordKeepsRawBytes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.json")
	write(t, path, "not json\n")
	src := mustOpen(t, map[string]string{"path": path}, "JSON", nil)
	r := openReader(t, src, path, "")
	b, err := r.Next(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if b.Record != nil || len(b.Errors) != 1 || string(b.Errors[0].Raw) != "not json" || b.Bytes != 9 {
		t.Errorf("got %+v", b)
	}
}

func TestCSV(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name   string
		opts   map[string]string
		data   string
		rows   []string
		errors []string
	}{
		{
			name: "without header, by position",
			data: "1,one\n2,\"t,w\"\"o\"\n3\n\n4,\"multi\nline\"\n",
			rows: []string{"1|one", `2|t,w"o`, "4|multi\nline"},
			errors: []string{
				"line 3 of %s: expected 2 fields, found 1",
			},
		},
		{
			name: "with header, by name",
			opts: map[string]string{"header": "true", "delimiter": ";"},
			data: "name;extra;id\nx;1;10\n;2;\n",
			rows: []string{"10|x", "NULL|"},
		},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, fmt.Sprintf("%d.csv", i))
			write(t, path, tc.data)
			src := mustOpen(t, map[string]string{"path": path}, "CSV", tc.opts)
			got := next(t, openReader(t, src, path, ""))
			var wantErrs []string
			for _, e := range tc.errors {
				wantErrs = append(wantErrs, fmt.Sprintf(e, path))
			}
			if !eq(got.rows, tc.rows) || !eq(got.errors, wantErrs) {
				t.Errorf("got rows %q errors %q; want rows %q errors %q", got.rows, got.errors, tc.rows, wantErrs)
			}
		})
	}
}

func TestCSVHeaderIsReadAgainWhenResuming(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.csv")
	write(t, path, "name,id\na,1\nb,2\n")
	src := mustOpen(t, map[string]string{"path": path, "batch.size": "1"}, "CSV", map[string]string{"header": "true"})
	r := openReader(t, src, path, "")
	first := next(t, r)
	if !eq(first.rows, []string{"1|a"}) {
		t.Fatalf("first: %+v", first)
	}
	r.Close()
	r = openReader(t, src, path, first.pos)
	if got := next(t, r); !eq(got.rows, []string{"2|b"}) {
		t.Errorf("after resuming: %+v", got)
	}
}

func TestLatestSkipsExistingLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "l.json")
	write(t, path, `{"id":1}`+"\n"+`{"id":2`)
	src := mustOpen(t, map[string]string{"path": path, "scan.startup.mode": "latest", "poll.interval": "5ms"}, "JSON", nil)
	r := openReader(t, src, path, "")
	pending := nextAsync(r)
	appendTo(t, path, "}\n")
	if got := await(t, pending); !eq(got.rows, []string{"2|NULL"}) {
		t.Errorf("got %+v, want the line completed after opening", got)
	}
}

func TestBatchSizeBoundsBatches(t *testing.T) {
	path := filepath.Join(t.TempDir(), "b.json")
	write(t, path, strings.Repeat(`{"id":7}`+"\n", 5))
	src := mustOpen(t, map[string]string{"path": path, "batch.size": "2"}, "JSON", nil)
	r := openReader(t, src, path, "")
	var sizes []int
	for total := 0; total < 5; {
		n := len(next(t, r).rows)
		sizes = append(sizes, n)
		total += n
	}
	if fmt.Sprint(sizes) != "[2 2 1]" {
		t.Errorf("batch sizes %v, want [2 2 1]", sizes)
	}
}

func TestGlobSplits(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "b.json"), `{"id":2}`+"\n")
	write(t, filepath.Join(dir, "a.json"), `{"id":1}`+"\n")
	write(t, filepath.Join(dir, "c.txt"), "ignored\n")
	src := mustOpen(t, map[string]string{"path": filepath.Join(dir, "*.json")}, "JSON", nil)
	splits, err := src.Splits(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []connectors.Split{{ID: filepath.Join(dir, "a.json")}, {ID: filepath.Join(dir, "b.json")}}
	if fmt.Sprint(splits) != fmt.Sprint(want) {
		t.Fatalf("splits %v, want %v", splits, want)
	}
	write(t, filepath.Join(dir, "d.json"), "")
	if splits, _ = src.Splits(context.Background()); len(splits) != 3 {
		t.Errorf("a new file is a new split: %v", splits)
	}
	if got := next(t, openReader(t, src, splits[1].ID, "")); !eq(got.rows, []string{"2|NULL"}) {
		t.Errorf("split b: %+v", got)
	}
}

func TestTruncatedFileIsReadFromTheStart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.json")
	write(t, path, `{"id":1}`+"\n"+`{"id":2}`+"\n")
	src := mustOpen(t, map[string]string{"path": path, "poll.interval": "5ms"}, "JSON", nil)
	r := openReader(t, src, path, "")
	next(t, r)
	pending := nextAsync(r)
	write(t, path, `{"id":3}`+"\n")
	if got := await(t, pending); !eq(got.rows, []string{"3|NULL"}) || got.pos != "9" {
		t.Errorf("after truncation: %+v", got)
	}
}

func TestNextReturnsWhenCancelled(t *testing.T) {
	path := filepath.Join(t.TempDir(), "e.json")
	write(t, path, "")
	src := mustOpen(t, map[string]string{"path": path, "poll.interval": "1h"}, "JSON", nil)
	r := openReader(t, src, path, "")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := r.Next(ctx)
		done <- err
	}()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("got %v, want context.Canceled", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Next did not return after cancel")
	}
}

func TestOpenMissingSplit(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "x.json"), "")
	src := mustOpen(t, map[string]string{"path": filepath.Join(dir, "*.json")}, "JSON", nil)
	_, err := src.Open(context.Background(), connectors.Split{ID: filepath.Join(dir, "gone.json")}, "")
	if pgerror.Code(err) != pgerror.UndefinedFile {
		t.Errorf("got %v", err)
	}
	_, err = src.Open(context.Background(), connectors.Split{ID: filepath.Join(dir, "x.json")}, "100")
	if err == nil || !strings.Contains(err.Error(), "past its end") {
		t.Errorf("position past the end: got %v", err)
	}
}
