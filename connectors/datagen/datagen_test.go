package datagen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sluicedb/sluice/connectors"
	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/types"
)

func newSource(t *testing.T, schema types.Schema, with map[string]string) (*Source, error) {
	t.Helper()
	c := Connector()
	opts, err := c.Validate(with)
	if err != nil {
		return nil, err
	}
	alloc := memory.NewCheckedAllocator(memory.NewGoAllocator())
	t.Cleanup(func() { alloc.AssertSize(t, 0) })
	src, err := c.NewSource(context.Background(), connectors.SourceConfig{Schema: schema, Options: opts, Alloc: alloc})
	if err != nil {
		return nil, err
	}
	return src.(*Source), nil
}

func mustSource(t *testing.T, schema types.Schema, with map[string]string) *Source {
	t.Helper()
	s, err := newSource(t, schema, with)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// readRows reads split until it has n rows or ends, and renders them.
func readRows(t *testing.T, src *Source, split string, pos connectors.Position, n int) ([]string, connectors.Position, bool) {
	t.Helper()
	r, err := src.Open(context.Background(), connectors.Split{ID: split}, pos)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var rows []string
	for len(rows) < n {
		b, err := r.Next(context.Background())
		if errors.Is(err, io.EOF) {
			return rows, pos, true
		}
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < int(b.Record.NumRows()); i++ {
			var cells []string
			for _, col := range b.Record.Columns() {
				cells = append(cells, col.ValueStr(i))
			}
			rows = append(rows, strings.Join(cells, "|"))
		}
		b.Record.Release()
		pos = b.Position
	}
	return rows, pos, false
}

var randomSchema = types.Schema{
	{Name: "i", Type: types.Int4},
	{Name: "f", Type: types.Float8},
	{Name: "s", Type: types.Varchar},
	{Name: "b", Type: types.Bool},
}

func TestOptionErrors(t *testing.T) {
	tests := []struct {
		name   string
		schema types.Schema
		with   map[string]string
		code   string
		msg    string
	}{
		{"unknown key lists the known ones", randomSchema, map[string]string{"rows.per.second": "5"}, pgerror.InvalidParameterValue,
			`unknown option "rows.per.second" for connector datagen (known options: datagen.rows.per.second, datagen.split.num, ` +
				`fields.*.end, fields.*.kind, fields.*.length, fields.*.max, fields.*.max_past, fields.*.max_past_mode, ` +
				`fields.*.min, fields.*.seed, fields.*.start)`},
		{"unknown field option", randomSchema, map[string]string{"fields.i.step": "2"}, pgerror.InvalidParameterValue,
			`unknown option "fields.i.step" for connector datagen (known options: datagen.rows.per.second, datagen.split.num, ` +
				`fields.*.end, fields.*.kind, fields.*.length, fields.*.max, fields.*.max_past, fields.*.max_past_mode, ` +
				`fields.*.min, fields.*.seed, fields.*.start)`},
		{"bad kind", randomSchema, map[string]string{"fields.i.kind": "counter"}, pgerror.InvalidParameterValue,
			`invalid value for option "fields.i.kind": "counter" is not one of random, sequence`},
		{"no such column", randomSchema, map[string]string{"fields.x.kind": "random"}, pgerror.InvalidParameterValue,
			`option "fields.x.kind" names no column of the source`},
		{"sequence of text", randomSchema, map[string]string{"fields.s.kind": "sequence"}, pgerror.FeatureNotSupported,
			`column "s": datagen generates sequences of numbers only, not of type character varying`},
		{"start after end", randomSchema, map[string]string{"fields.i.kind": "sequence", "fields.i.start": "5", "fields.i.end": "1"},
			pgerror.InvalidParameterValue, `column "i": sequence start 5 is after its end 1`},
		{"fractional bound of an integer", randomSchema, map[string]string{"fields.i.max": "2.5"},
			pgerror.InvalidParameterValue, `column "i": max 2.5 is not a value of type integer`},
		{"bound out of range", types.Schema{{Name: "i", Type: types.Int2}}, map[string]string{"fields.i.max": "40000"},
			pgerror.InvalidParameterValue, `column "i": max 40000 is not a value of type smallint`},
		{"min above max", randomSchema, map[string]string{"fields.f.min": "3", "fields.f.max": "2"},
			pgerror.InvalidParameterValue, `column "f": min 3 is larger than max 2`},
		{"unsupported type", types.Schema{{Name: "d", Type: types.Date}}, nil,
			pgerror.FeatureNotSupported, `column "d": datagen cannot generate values of type date`},
		{"zero splits", randomSchema, map[string]string{"datagen.split.num": "0"},
			pgerror.InvalidParameterValue, `option "datagen.split.num" must be between 1 and 1024`},
		{"negative rate", randomSchema, map[string]string{"datagen.rows.per.second": "-1"},
			pgerror.InvalidParameterValue, `option "datagen.rows.per.second" must not be negative`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := newSource(t, tc.schema, tc.with)
			if err == nil || pgerror.Code(err) != tc.code || err.Error() != tc.msg {
				t.Errorf("got %v (%s)\nwant %s: %s", err, pgerror.Code(err), tc.code, tc.msg)
			}
		})
	}
}

func TestBoundedSequenceEndsEachSplit(t *testing.T) {
	schema := types.Schema{{Name: "id", Type: types.Int8}, {Name: "v", Type: types.Float4}}
	src := mustSource(t, schema, map[string]string{
		"datagen.rows.per.second": "0",
		"datagen.split.num":       "3",
		"fields.id.kind":          "sequence", "fields.id.start": "1", "fields.id.end": "10",
		"fields.v.kind": "sequence", "fields.v.start": "0.5", "fields.v.end": "100",
	})
	want := map[string][]string{
		"0": {"1|0.5", "4|3.5", "7|6.5", "10|9.5"},
		"1": {"2|1.5", "5|4.5", "8|7.5"},
		"2": {"3|2.5", "6|5.5", "9|8.5"},
	}
	splits, _ := src.Splits(context.Background())
	if len(splits) != 3 {
		t.Fatalf("splits: %v", splits)
	}
	for _, sp := range splits {
		rows, _, ended := readRows(t, src, sp.ID, "", 100)
		if !ended || fmt.Sprint(rows) != fmt.Sprint(want[sp.ID]) {
			t.Errorf("split %s: rows %q (ended %v), want %q", sp.ID, rows, ended, want[sp.ID])
		}
	}
}

func TestDefaultSequenceEndsAt32767(t *testing.T) {
	src := mustSource(t, types.Schema{{Name: "id", Type: types.Int4}}, map[string]string{
		"datagen.rows.per.second": "0", "fields.id.kind": "sequence", "fields.id.start": "32760",
	})
	rows, _, ended := readRows(t, src, "0", "", 100)
	if !ended || len(rows) != 8 || rows[7] != "32767" {
		t.Errorf("rows %q, ended %v", rows, ended)
	}
}

func TestRandomIsDeterministicForASeed(t *testing.T) {
	with := map[string]string{"datagen.rows.per.second": "0", "fields.i.seed": "42", "fields.f.seed": "42", "fields.s.seed": "42"}
	a, _, _ := readRows(t, mustSource(t, randomSchema, with), "0", "", 3000)
	b, _, _ := readRows(t, mustSource(t, randomSchema, with), "0", "", 3000)
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Fatal("two sources with the same seed differ")
	}
	with["fields.i.seed"] = "43"
	c, _, _ := readRows(t, mustSource(t, randomSchema, with), "0", "", 3000)
	if fmt.Sprint(a) == fmt.Sprint(c) {
		t.Fatal("another seed gives the same rows")
	}
	// Resuming at a position continues the same rows.
	src := mustSource(t, randomSchema, map[string]string{"datagen.rows.per.second": "0", "fields.i.seed": "42", "fields.f.seed": "42", "fields.s.seed": "42"})
	first, pos, _ := readRows(t, src, "0", "", 1)
	rest, _, _ := readRows(t, src, "0", pos, 3000-len(first))
	if got := append(first, rest...); fmt.Sprint(got[:3000]) != fmt.Sprint(a[:3000]) {
		t.Errorf("resuming at %s gives other rows", pos)
	}
}

func TestRandomValuesStayInRange(t *testing.T) {
	schema := types.Schema{{Name: "i", Type: types.Int2}, {Name: "f", Type: types.Float8}, {Name: "s", Type: types.Text}}
	src := mustSource(t, schema, map[string]string{
		"datagen.rows.per.second": "0",
		"fields.i.min":            "-5", "fields.i.max": "5",
		"fields.f.min": "1.5", "fields.f.max": "2",
		"fields.s.length": "7",
	})
	rows, _, _ := readRows(t, src, "0", "", 2000)
	seen := map[string]bool{}
	for _, row := range rows {
		var i int
		var f float64
		var s string
		if _, err := fmt.Sscanf(strings.ReplaceAll(row, "|", " "), "%d %g %s", &i, &f, &s); err != nil {
			t.Fatalf("row %q: %v", row, err)
		}
		if i < -5 || i > 5 || f < 1.5 || f > 2 || len(s) != 7 {
			t.Fatalf("row %q out of range", row)
		}
		seen[fmt.Sprint(i)] = true
	}
	if len(seen) != 11 {
		t.Errorf("values of i seen: %v, want all of -5..5", seen)
	}
}

func TestTimestamps(t *testing.T) {
	schema := types.Schema{{Name: "now", Type: types.Timestamp}, {Name: "past", Type: types.TimestampTZ}}
	src := mustSource(t, schema, map[string]string{"datagen.rows.per.second": "0", "fields.past.max_past": "1h"})
	before := time.Now().UnixMicro()
	r, err := src.Open(context.Background(), connectors.Split{ID: "0"}, "")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := r.Next(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Record.Release()
	after := time.Now().UnixMicro()
	nowCol := timestamps(b.Record.Column(0))
	pastCol := timestamps(b.Record.Column(1))
	for i := range nowCol {
		if nowCol[i] < before || nowCol[i] > after {
			t.Fatalf("now row %d = %d, not between %d and %d", i, nowCol[i], before, after)
		}
		if pastCol[i] > after || pastCol[i] < before-3600_000_000 {
			t.Fatalf("past row %d = %d, not within the hour before %d", i, pastCol[i], after)
		}
	}
}

func timestamps(a arrow.Array) []int64 {
	ts := a.(*array.Timestamp)
	out := make([]int64, ts.Len())
	for i := range out {
		out[i] = int64(ts.Value(i))
	}
	return out
}

func TestRateIsSharedBetweenSplits(t *testing.T) {
	src := mustSource(t, randomSchema, map[string]string{"datagen.rows.per.second": "10", "datagen.split.num": "3"})
	var rates []int64
	for _, id := range []string{"0", "1", "2"} {
		r, err := src.Open(context.Background(), connectors.Split{ID: id}, "")
		if err != nil {
			t.Fatal(err)
		}
		rates = append(rates, r.(*reader).pace.rate)
		r.Close()
	}
	if fmt.Sprint(rates) != "[4 3 3]" {
		t.Errorf("rates %v, want [4 3 3]", rates)
	}
}

// fakeClock drives a pacer: sleeping advances it.
type fakeClock struct {
	t     time.Time
	slept []time.Duration
}

func (c *fakeClock) install(p *pacer) {
	p.now = func() time.Time { return c.t }
	p.sleep = func(ctx context.Context, d time.Duration) error {
		c.slept = append(c.slept, d)
		c.t = c.t.Add(d)
		return nil
	}
}

func TestPacer(t *testing.T) {
	start := time.Unix(1000, 0)
	tests := []struct {
		name  string
		rate  int64
		steps []time.Duration // clock advances before each take
		takes []int           // rows granted by each take
	}{
		// One row each tenth of a second: take waits for it.
		{"slow rate waits for each row", 10, []time.Duration{0, 0, 0}, []int{1, 1, 1}},
		// A caller that comes back after 2.5 s gets one second of credit.
		{"credit is capped at one second", 10, []time.Duration{2500 * time.Millisecond, 0}, []int{10, 1}},
		// At 10000 rows/s a take waits for 10 ms worth (100 rows).
		{"fast rate gives batches", 10000, []time.Duration{0, 0}, []int{100, 100}},
		// Capped by the batch limit.
		{"batch limit", 1_000_000, []time.Duration{time.Second}, []int{1024}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newPacer(start, tc.rate, false)
			clock := &fakeClock{t: start}
			clock.install(&p)
			for i, step := range tc.steps {
				clock.t = clock.t.Add(step)
				n, err := p.take(context.Background(), maxBatchRows)
				if err != nil || n != tc.takes[i] {
					t.Fatalf("take %d: got %d, %v; want %d (slept %v)", i, n, err, tc.takes[i], clock.slept)
				}
			}
		})
	}
}

func TestUnlimitedRate(t *testing.T) {
	p := newPacer(time.Now(), 0, true)
	if n, err := p.take(context.Background(), 7); n != 7 || err != nil {
		t.Errorf("got %d, %v", n, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.take(ctx, 7); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: got %v", err)
	}
}
