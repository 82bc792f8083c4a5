package executor

import (
	"context"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sluicedb/sluice/plan"
	"github.com/sluicedb/sluice/types"
)

func sessionPlan(gapMicros int64) *plan.Window {
	cols := append(append(types.Schema{}, events...),
		types.Column{Name: "window_start", Type: types.Timestamp}, types.Column{Name: "window_end", Type: types.Timestamp})
	return &plan.Window{Input: &plan.Scan{Cols: events, AppendOnlyInput: true}, Func: plan.Session, TimeCol: 1,
		Gap: gapMicros, PartitionBy: []int{0}, Cols: cols}
}

func TestSessionWindowRetractsWhenSessionsMergeAndFreesClosedOnes(t *testing.T) {
	ctx := context.Background()
	alloc := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer alloc.AssertSize(t, 0)
	const minute = 60_000_000
	w := NewSessionWindow(sessionPlan(10*minute), alloc)
	out := &collector{schema: w.node.Cols}
	push := func(rows ...[]types.Datum) {
		t.Helper()
		rec := record(t, alloc, events, rows...)
		defer rec.Release()
		if err := w.Process(ctx, 0, Chunk{Rec: rec}, out.emit); err != nil {
			t.Fatal(err)
		}
		if err := w.Barrier(ctx, Barrier{}, out.emit); err != nil {
			t.Fatal(err)
		}
	}
	push([]types.Datum{"a", ts("2026-01-01 10:00:00")}, []types.Datum{"a", ts("2026-01-01 10:15:00")}, []types.Datum{"b", ts("2026-01-01 10:05:00")})
	want := "+ a 2026-01-01 10:00:00 2026-01-01 10:00:00 2026-01-01 10:10:00\n" +
		"+ a 2026-01-01 10:15:00 2026-01-01 10:15:00 2026-01-01 10:25:00\n" +
		"+ b 2026-01-01 10:05:00 2026-01-01 10:05:00 2026-01-01 10:15:00"
	if got := out.take(); got != want {
		t.Fatalf("first epoch:\n%s\nwant\n%s", got, want)
	}
	// 10:07 bridges a's two sessions: both are retracted, all three rows
	// come back in the merged session.
	push([]types.Datum{"a", ts("2026-01-01 10:07:00")})
	want = "- a 2026-01-01 10:00:00 2026-01-01 10:00:00 2026-01-01 10:10:00\n" +
		"- a 2026-01-01 10:15:00 2026-01-01 10:15:00 2026-01-01 10:25:00\n" +
		"+ a 2026-01-01 10:00:00 2026-01-01 10:00:00 2026-01-01 10:25:00\n" +
		"+ a 2026-01-01 10:07:00 2026-01-01 10:00:00 2026-01-01 10:25:00\n" +
		"+ a 2026-01-01 10:15:00 2026-01-01 10:00:00 2026-01-01 10:25:00"
	if got := out.take(); got != want {
		t.Fatalf("after the bridge:\n%s\nwant\n%s", got, want)
	}
	// A row inside a session that keeps its window only adds itself.
	push([]types.Datum{"a", ts("2026-01-01 10:08:00")})
	if got, want := out.take(), "+ a 2026-01-01 10:08:00 2026-01-01 10:00:00 2026-01-01 10:25:00"; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	if err := w.Watermark(ctx, ts("2026-01-01 10:15:00").(int64), out.emit); err != nil {
		t.Fatal(err)
	}
	if w.Sessions() != 1 {
		t.Fatalf("sessions held after b's closed = %d, want 1", w.Sessions())
	}
	if err := w.Watermark(ctx, ts("2026-01-01 10:25:00").(int64), out.emit); err != nil {
		t.Fatal(err)
	}
	if w.Sessions() != 0 {
		t.Fatalf("sessions held after all closed = %d, want 0", w.Sessions())
	}
}
