package executor

import (
	"context"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sluicedb/sluice/expr"
	"github.com/sluicedb/sluice/types"
)

// watermarkMinus returns a filter over `events` with WATERMARK FOR ts AS ts - d.
func watermarkMinus(t *testing.T, d string, splits int, stats *SourceStats) *WatermarkFilter {
	t.Helper()
	iv, err := types.ParseText(d, types.Interval)
	if err != nil {
		t.Fatal(err)
	}
	e, err := expr.Operator("-", &expr.ColumnRef{Index: 1, T: types.Timestamp, Name: "ts"}, &expr.Const{Value: iv, T: types.Interval})
	if err != nil {
		t.Fatal(err)
	}
	prog, err := expr.Compile(e)
	if err != nil {
		t.Fatal(err)
	}
	return NewWatermarkFilter(1, prog, splits, &expr.EvalContext{Alloc: memory.DefaultAllocator, Lenient: true}, stats)
}

func TestWatermarkFilterDropsLateRowsRowByRow(t *testing.T) {
	stats := NewSourceStats()
	w := watermarkMinus(t, "5 seconds", 1, stats)
	rec := record(t, memory.DefaultAllocator, events,
		[]types.Datum{"a", ts("2026-01-01 00:00:10")}, // watermark becomes :05
		[]types.Datum{"b", ts("2026-01-01 00:00:06")}, // on time
		[]types.Datum{"c", ts("2026-01-01 00:00:04")}, // late: below :05
		[]types.Datum{"d", ts("2026-01-01 00:00:20")}, // watermark becomes :15
		[]types.Datum{"e", ts("2026-01-01 00:00:14")}, // late within the same batch
		[]types.Datum{"f", nil},                       // no event time: kept
	)
	defer rec.Release()
	out := &collector{schema: events}
	if err := w.Process(context.Background(), 0, Chunk{Rec: rec}, out.emit); err != nil {
		t.Fatal(err)
	}
	want := "+ a 2026-01-01 00:00:10\n+ b 2026-01-01 00:00:06\n+ d 2026-01-01 00:00:20\n+ f NULL"
	if got := out.take(); got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	if got := stats.LateRows.Load(); got != 2 {
		t.Fatalf("late rows = %d, want 2", got)
	}
	if got := stats.Rows.Load(); got != 6 {
		t.Fatalf("rows = %d, want 6", got)
	}
	wm, moved := w.Watermark()
	if !moved || wm != ts("2026-01-01 00:00:15").(int64) {
		t.Fatalf("watermark = %d (moved %v), want :15", wm, moved)
	}
	if _, moved := w.Watermark(); moved {
		t.Fatal("watermark reported as moved twice")
	}
}

func TestWatermarkIsTheMinimumOverSplits(t *testing.T) {
	stats := NewSourceStats()
	w := watermarkMinus(t, "0 seconds", 2, stats)
	push := func(split int, at string) {
		rec := record(t, memory.DefaultAllocator, events, []types.Datum{"x", ts(at)})
		defer rec.Release()
		if err := w.Process(context.Background(), split, Chunk{Rec: rec}, func(context.Context, Chunk) error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
	push(0, "2026-01-01 00:01:00")
	if wm, _ := w.Watermark(); wm != NoWatermark {
		t.Fatalf("one split alone moved the watermark to %d", wm)
	}
	push(1, "2026-01-01 00:00:30")
	if wm, _ := w.Watermark(); wm != ts("2026-01-01 00:00:30").(int64) {
		t.Fatalf("watermark = %d, want the slower split's :30", wm)
	}
	// A row of the fast split older than the stream watermark is late even
	// though its own split is far ahead.
	push(0, "2026-01-01 00:00:10")
	if got := stats.LateRows.Load(); got != 1 {
		t.Fatalf("late rows = %d, want 1", got)
	}
}

func TestAnIdleSplitStopsHoldingTheWatermarkBack(t *testing.T) {
	stats := NewSourceStats()
	w := watermarkMinus(t, "0 seconds", 2, stats)
	rec := record(t, memory.DefaultAllocator, events, []types.Datum{"x", ts("2026-01-01 00:01:00")})
	defer rec.Release()
	if err := w.Process(context.Background(), 0, Chunk{Rec: rec}, func(context.Context, Chunk) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if wm, _ := w.Watermark(); wm != NoWatermark {
		t.Fatalf("split 1 has sent nothing, yet the watermark moved to %d", wm)
	}
	w.Idle(1)
	if wm, moved := w.Watermark(); !moved || wm != ts("2026-01-01 00:01:00").(int64) {
		t.Fatalf("after split 1 went idle the watermark is %d (moved %v), want split 0's", wm, moved)
	}
	// The idle split comes back with an older row: it is late, and the
	// watermark does not go back.
	old := record(t, memory.DefaultAllocator, events, []types.Datum{"y", ts("2026-01-01 00:00:30")})
	defer old.Release()
	if err := w.Process(context.Background(), 1, Chunk{Rec: old}, func(context.Context, Chunk) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if got := stats.LateRows.Load(); got != 1 {
		t.Fatalf("late rows = %d, want 1", got)
	}
	if wm, _ := w.Watermark(); wm != ts("2026-01-01 00:01:00").(int64) {
		t.Fatalf("watermark went back to %d", wm)
	}
}

func TestWhenEverySplitIsIdleTheWatermarkIsTheirMaximum(t *testing.T) {
	w := watermarkMinus(t, "0 seconds", 2, NewSourceStats())
	rec := record(t, memory.DefaultAllocator, events, []types.Datum{"x", ts("2026-01-01 00:01:00")})
	defer rec.Release()
	if err := w.Process(context.Background(), 0, Chunk{Rec: rec}, func(context.Context, Chunk) error { return nil }); err != nil {
		t.Fatal(err)
	}
	w.Idle(0) // split 1 still holds the watermark back
	if wm, _ := w.Watermark(); wm != NoWatermark {
		t.Fatalf("watermark = %d while split 1 is active", wm)
	}
	w.Idle(1)
	if wm, _ := w.Watermark(); wm != ts("2026-01-01 00:01:00").(int64) {
		t.Fatalf("watermark = %d with every split idle, want split 0's", wm)
	}
}
