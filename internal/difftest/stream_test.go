package difftest

import (
	"database/sql"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

func TestWatermark(t *testing.T) {
	tests := []struct {
		name     string
		delay    time.Duration
		arrivals []time.Time
		wantLate []int
		wantWM   time.Time
	}{
		{
			name:     "the first row is never late and sets the watermark",
			delay:    5 * time.Second,
			arrivals: []time.Time{at(10_000)},
			wantWM:   at(5_000),
		},
		{
			name:     "a row exactly at the watermark is not late",
			delay:    5 * time.Second,
			arrivals: []time.Time{at(10_000), at(5_000)},
			wantWM:   at(5_000),
		},
		{
			name:     "a row one microsecond below the watermark is late",
			delay:    5 * time.Second,
			arrivals: []time.Time{at(10_000), at(5_000).Add(-time.Microsecond)},
			wantLate: []int{1},
			wantWM:   at(5_000),
		},
		{
			name:     "out of order within the delay is not late",
			delay:    5 * time.Second,
			arrivals: []time.Time{at(10_000), at(7_000), at(12_000), at(8_000)},
			wantWM:   at(7_000),
		},
		{
			name:     "the watermark only moves forward",
			delay:    time.Second,
			arrivals: []time.Time{at(10_000), at(9_500), at(9_000)},
			wantWM:   at(9_000),
		},
		{
			name:     "a late row does not move the watermark",
			delay:    time.Second,
			arrivals: []time.Time{at(10_000), at(1_000), at(9_000)},
			wantLate: []int{1},
			wantWM:   at(9_000),
		},
		{
			name:     "with no delay every row behind the largest time is late, a duplicate of it is not",
			delay:    0,
			arrivals: []time.Time{at(1_000), at(2_000), at(2_000), at(1_999), at(3_000)},
			wantLate: []int{3},
			wantWM:   at(3_000),
		},
		{
			name:     "rows are judged one by one, so a row raises the watermark for the next",
			delay:    2 * time.Second,
			arrivals: []time.Time{at(0), at(10_000), at(1_000), at(8_000)},
			wantLate: []int{2},
			wantWM:   at(8_000),
		},
		{
			name:     "times before 1970",
			delay:    time.Second,
			arrivals: []time.Time{time.Date(1969, 12, 31, 23, 59, 59, 0, time.UTC), time.Date(1969, 12, 31, 23, 59, 57, 0, time.UTC)},
			wantLate: []int{1},
			wantWM:   time.Date(1969, 12, 31, 23, 59, 58, 0, time.UTC),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows := make([]Row, len(tt.arrivals))
			for i, ts := range tt.arrivals {
				rows[i] = Row{TS: ts}
			}
			out := Simulate(rows, tt.delay)
			if !reflect.DeepEqual(out.Late, tt.wantLate) {
				t.Errorf("late rows %v, want %v", out.Late, tt.wantLate)
			}
			if len(out.Kept)+len(out.Late) != len(rows) {
				t.Errorf("%d kept and %d late rows out of %d", len(out.Kept), len(out.Late), len(rows))
			}
			if !out.HasWatermark || !out.Watermark.Equal(tt.wantWM) {
				t.Errorf("watermark %s (set: %v), want %s", out.Watermark, out.HasWatermark, tt.wantWM)
			}
		})
	}
	if out := Simulate(nil, time.Second); out.HasWatermark {
		t.Errorf("an empty stream has a watermark: %s", out.Watermark)
	}
}

func TestGenerateIsDeterministic(t *testing.T) {
	p := ParamsForSeed(7, 300)
	// Rows compare by their SQL: reflect.DeepEqual says NaN differs from NaN.
	if a, b := InsertSQL(Generate(p)), InsertSQL(Generate(p)); a != b {
		t.Fatal("the same parameters generated two different streams")
	}
	if InsertSQL(Generate(ParamsForSeed(7, 300))) == InsertSQL(Generate(ParamsForSeed(8, 300))) {
		t.Fatal("seeds 7 and 8 generated the same stream")
	}
}

// TestGenerateCoversTheEdges checks that the streams of a few seeds contain
// every kind of row the harness promises to exercise.
func TestGenerateCoversTheEdges(t *testing.T) {
	found := map[string]bool{}
	for seed := uint64(1); seed <= 8; seed++ {
		p := ParamsForSeed(seed, 400)
		rows := Generate(p)
		if len(rows) != p.Rows {
			t.Fatalf("seed %d: %d rows, want %d", seed, len(rows), p.Rows)
		}
		wm := NewWatermark(p.Delay)
		seen := map[time.Time]bool{}
		for i, row := range rows {
			current, has := wm.Value()
			late := wm.Arrive(row.TS)
			switch {
			case late:
				found["late"] = true
			case has && row.TS.Equal(current):
				found["exactly at the watermark"] = true
			case has && row.TS.Before(current.Add(time.Second)) && i > 0 && row.TS.Before(rows[i-1].TS):
				found["out of order, not late"] = true
			}
			if has && row.TS.Equal(current.Add(-time.Microsecond)) {
				found["one microsecond below the watermark"] = true
			}
			if seen[row.TS] {
				found["duplicate time"] = true
			}
			seen[row.TS] = true
			if !late && row.TS.Equal(floorTime(row.TS, windowGrid)) {
				found["on a window boundary, not late"] = true
			}
			if row.TS.Nanosecond()%int(time.Millisecond) != 0 {
				found["microseconds"] = true
			}
			if row.TS.Before(time.Unix(0, 0)) {
				found["before 1970"] = true
			}
			found["NULL k"] = found["NULL k"] || !row.K.Valid
			found["NULL g"] = found["NULL g"] || !row.G.Valid
			found["NULL v"] = found["NULL v"] || !row.V.Valid
			found["NULL f"] = found["NULL f"] || !row.F.Valid
			found["negative k"] = found["negative k"] || (row.K.Valid && row.K.Int32 < 0)
			found["negative v"] = found["negative v"] || (row.V.Valid && row.V.Int64 < 0)
			found["large v"] = found["large v"] || (row.V.Valid && row.V.Int64 > 1_000_000)
			found["empty g"] = found["empty g"] || (row.G.Valid && row.G.String == "")
			found["NaN f"] = found["NaN f"] || (row.F.Valid && math.IsNaN(row.F.Float64))
			found["infinite f"] = found["infinite f"] || (row.F.Valid && math.IsInf(row.F.Float64, 0))
		}
	}
	for _, kind := range []string{"late", "exactly at the watermark", "one microsecond below the watermark",
		"out of order, not late", "duplicate time", "on a window boundary, not late", "microseconds", "before 1970",
		"NULL k", "NULL g", "NULL v", "NULL f", "negative k", "negative v", "large v", "empty g", "NaN f", "infinite f"} {
		if !found[kind] {
			t.Errorf("no row %s in seeds 1 to 8", kind)
		}
	}
}

func TestBatches(t *testing.T) {
	rows := Generate(ParamsForSeed(3, 1000))
	var joined []Row
	batches := Batches(3, rows)
	for _, b := range batches {
		if len(b) < 1 || len(b) > 200 {
			t.Errorf("a batch of %d rows", len(b))
		}
		joined = append(joined, b...)
	}
	if InsertSQL(joined) != InsertSQL(rows) {
		t.Error("the batches do not add up to the stream in order")
	}
	if len(batches) < 5 {
		t.Errorf("%d batches of 1000 rows: sizes are not random", len(batches))
	}
}

func TestInsertSQL(t *testing.T) {
	rows := []Row{
		{K: sql.NullInt32{Int32: -1, Valid: true}, G: sql.NullString{String: "o'k", Valid: true},
			V: sql.NullInt64{Int64: -5, Valid: true}, F: sql.NullFloat64{Float64: 1.5, Valid: true}, TS: at(1).Add(2 * time.Microsecond)},
		{TS: time.Date(1969, 12, 31, 23, 59, 59, 0, time.UTC)},
		{F: sql.NullFloat64{Float64: math.NaN(), Valid: true}, TS: t0},
		{F: sql.NullFloat64{Float64: math.Inf(-1), Valid: true}, G: sql.NullString{Valid: true}, TS: t0},
	}
	want := "INSERT INTO ev (k, g, v, f, ts) VALUES " +
		"(-1, 'o''k', -5, 1.5, TIMESTAMP '2026-03-01 12:00:00.001002'), " +
		"(NULL, NULL, NULL, NULL, TIMESTAMP '1969-12-31 23:59:59'), " +
		"(NULL, NULL, NULL, 'NaN', TIMESTAMP '2026-03-01 12:00:00'), " +
		"(NULL, '', NULL, '-Infinity', TIMESTAMP '2026-03-01 12:00:00')"
	if got := InsertSQL(rows); got != want {
		t.Errorf("InsertSQL:\n got %s\nwant %s", got, want)
	}
}

func TestFloorTime(t *testing.T) {
	tests := []struct{ in, want time.Time }{
		{at(7_300), at(5_000)},
		{at(5_000), at(5_000)},
		{time.Date(1969, 12, 31, 23, 59, 58, 0, time.UTC), time.Date(1969, 12, 31, 23, 59, 55, 0, time.UTC)},
		{time.Date(1969, 12, 31, 23, 59, 55, 0, time.UTC), time.Date(1969, 12, 31, 23, 59, 55, 0, time.UTC)},
	}
	for _, tt := range tests {
		if got := floorTime(tt.in, 5*time.Second); !got.Equal(tt.want) {
			t.Errorf("floorTime(%s, 5s) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestKeyedWorkload(t *testing.T) {
	a, b := KeyedWorkload(5, 40), KeyedWorkload(5, 40)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the same seed gave two workloads")
	}
	if len(a) != 40 {
		t.Fatalf("%d statements, want 40", len(a))
	}
	kinds := map[string]bool{}
	for _, stmt := range a {
		kinds[strings.Fields(stmt)[0]] = true
	}
	for _, k := range []string{"INSERT", "UPDATE", "DELETE"} {
		if !kinds[k] {
			t.Errorf("no %s among %q", k, a)
		}
	}
}
