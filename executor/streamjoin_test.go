package executor

import (
	"context"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sluicedb/sluice/expr"
	"github.com/sluicedb/sluice/plan"
	"github.com/sluicedb/sluice/types"
)

// windowed rows: (ad, window_end).
var adWindows = types.Schema{{Name: "ad", Type: types.Int4}, {Name: "window_end", Type: types.Timestamp}}

func joinOf(typ plan.JoinType, windowKey int) *plan.Join {
	cols := append(append(types.Schema{}, adWindows...), adWindows...)
	return &plan.Join{Left: &plan.Scan{Cols: adWindows}, Right: &plan.Scan{Cols: adWindows}, Type: typ,
		LeftKeys: []int{0, 1}, RightKeys: []int{0, 1}, Cols: cols, WindowKey: windowKey}
}

func TestStreamJoinMatchesChangesOfBothSides(t *testing.T) {
	ctx := context.Background()
	alloc := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer alloc.AssertSize(t, 0)
	j, err := NewStreamJoin(joinOf(plan.LeftJoin, -1), &expr.EvalContext{Alloc: alloc})
	if err != nil {
		t.Fatal(err)
	}
	out := &collector{schema: joinOf(plan.LeftJoin, -1).Cols}
	push := func(side int, ops []Op, rows ...[]types.Datum) {
		t.Helper()
		rec := record(t, alloc, adWindows, rows...)
		defer rec.Release()
		if err := j.Process(ctx, side, Chunk{Rec: rec, Ops: ops}, out.emit); err != nil {
			t.Fatal(err)
		}
	}
	w := ts("2026-01-01 00:00:10")
	push(0, nil, []types.Datum{int32(1), w})
	if got, want := out.take(), "+ 1 2026-01-01 00:00:10 NULL NULL"; got != want {
		t.Fatalf("left row without a match: %q, want %q", got, want)
	}
	push(1, nil, []types.Datum{int32(1), w})
	if got, want := out.take(), "- 1 2026-01-01 00:00:10 NULL NULL\n+ 1 2026-01-01 00:00:10 1 2026-01-01 00:00:10"; got != want {
		t.Fatalf("first match: %q, want %q", got, want)
	}
	push(1, []Op{Delete}, []types.Datum{int32(1), w})
	if got, want := out.take(), "- 1 2026-01-01 00:00:10 1 2026-01-01 00:00:10\n+ 1 2026-01-01 00:00:10 NULL NULL"; got != want {
		t.Fatalf("last match gone: %q, want %q", got, want)
	}
}

func TestWindowJoinFreesClosedWindows(t *testing.T) {
	ctx := context.Background()
	j, err := NewStreamJoin(joinOf(plan.InnerJoin, 1), &expr.EvalContext{Alloc: memory.DefaultAllocator})
	if err != nil {
		t.Fatal(err)
	}
	out := &collector{schema: joinOf(plan.InnerJoin, 1).Cols}
	for side := 0; side < 2; side++ {
		rec := record(t, memory.DefaultAllocator, adWindows,
			[]types.Datum{int32(1), ts("2026-01-01 00:00:10")}, []types.Datum{int32(1), ts("2026-01-01 00:00:20")})
		if err := j.Process(ctx, side, Chunk{Rec: rec}, out.emit); err != nil {
			t.Fatal(err)
		}
		rec.Release()
	}
	if j.Keys() != 4 {
		t.Fatalf("keys held = %d, want 2 per side", j.Keys())
	}
	if err := j.Watermark(ctx, ts("2026-01-01 00:00:10").(int64), out.emit); err != nil {
		t.Fatal(err)
	}
	if j.Keys() != 2 {
		t.Fatalf("keys held after the first window closed = %d, want 2", j.Keys())
	}
	if err := j.Watermark(ctx, ts("2026-01-01 00:01:00").(int64), out.emit); err != nil {
		t.Fatal(err)
	}
	if j.Keys() != 0 {
		t.Fatalf("keys held after every window closed = %d, want 0", j.Keys())
	}
}

func TestIntervalJoinFreesRowsPastTheirBound(t *testing.T) {
	ctx := context.Background()
	events := types.Schema{{Name: "ad", Type: types.Int4}, {Name: "ts", Type: types.Timestamp}}
	cols := append(append(types.Schema{}, events...), events...)
	n := &plan.Join{Left: &plan.Scan{Cols: events}, Right: &plan.Scan{Cols: events}, Type: plan.InnerJoin,
		LeftKeys: []int{0}, RightKeys: []int{0}, Cols: cols, WindowKey: -1,
		// right.ts within [left.ts, left.ts + 5s]
		HasTTL: [2]bool{true, true}, TTL: [2]int64{5_000_000, 0}, IntervalCol: [2]int{1, 1}}
	j, err := NewStreamJoin(n, &expr.EvalContext{Alloc: memory.DefaultAllocator})
	if err != nil {
		t.Fatal(err)
	}
	out := &collector{schema: cols}
	for side := 0; side < 2; side++ {
		rec := record(t, memory.DefaultAllocator, events, []types.Datum{int32(1), ts("2026-01-01 00:00:10")})
		if err := j.Process(ctx, side, Chunk{Rec: rec}, out.emit); err != nil {
			t.Fatal(err)
		}
		rec.Release()
	}
	// At 00:00:11 the right row (bound 0) can meet no future left row; the
	// left row (bound 5 s) can still meet right rows until 00:00:15.
	if err := j.Watermark(ctx, ts("2026-01-01 00:00:11").(int64), out.emit); err != nil {
		t.Fatal(err)
	}
	if j.Keys() != 1 {
		t.Fatalf("keys held = %d, want only the left row's", j.Keys())
	}
	if err := j.Watermark(ctx, ts("2026-01-01 00:00:15.000001").(int64), out.emit); err != nil {
		t.Fatal(err)
	}
	if j.Keys() != 0 {
		t.Fatalf("keys held = %d, want none", j.Keys())
	}
}
