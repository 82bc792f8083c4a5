package executor

import (
	"context"
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sluicedb/sluice/plan"
	"github.com/sluicedb/sluice/types"
)

var kv = types.Schema{{Name: "k", Type: types.Text}, {Name: "v", Type: types.Int8}}

func aggPlan(in types.Schema, keys []int, aggs []plan.AggCall, appendOnly bool) *plan.Aggregate {
	cols := types.Schema{}
	for _, k := range keys {
		cols = append(cols, in[k])
	}
	for _, a := range aggs {
		cols = append(cols, types.Column{Name: a.Func, Type: a.Ret})
	}
	return &plan.Aggregate{Input: &plan.Scan{Cols: in, AppendOnlyInput: appendOnly, EventTime: -1},
		Keys: keys, Aggs: aggs, Cols: cols, WindowEnd: -1, InputAppendOnly: appendOnly}
}

var kvAggs = []plan.AggCall{
	{Func: "count_star", Arg: -1, Ret: types.Int8},
	{Func: "sum", Arg: 1, ArgType: types.Int8, Ret: types.Numeric},
	{Func: "min", Arg: 1, ArgType: types.Int8, Ret: types.Int8},
	{Func: "max", Arg: 1, ArgType: types.Int8, Ret: types.Int8},
}

func TestHashAggEmitsChangesOncePerEpoch(t *testing.T) {
	ctx := context.Background()
	alloc := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer alloc.AssertSize(t, 0)
	n := aggPlan(kv, []int{0}, kvAggs, true)
	h, err := NewHashAgg(n, alloc)
	if err != nil {
		t.Fatal(err)
	}
	out := &collector{schema: n.Cols}
	push := func(rows ...[]types.Datum) {
		rec := record(t, alloc, kv, rows...)
		defer rec.Release()
		if err := h.Process(ctx, 0, Chunk{Rec: rec}, out.emit); err != nil {
			t.Fatal(err)
		}
	}
	push([]types.Datum{"a", int64(1)}, []types.Datum{"b", int64(5)})
	push([]types.Datum{"a", int64(3)}, []types.Datum{"a", nil})
	if got := out.take(); got != "" {
		t.Fatalf("emitted before the barrier:\n%s", got)
	}
	if err := h.Barrier(ctx, Barrier{Epoch: 1}, out.emit); err != nil {
		t.Fatal(err)
	}
	want := "+ a 3 4 1 3\n+ b 1 5 5 5"
	if got := out.take(); got != want {
		t.Fatalf("epoch 1:\n got %s\nwant %s", got, want)
	}
	push([]types.Datum{"a", int64(-2)})
	if err := h.Barrier(ctx, Barrier{Epoch: 2}, out.emit); err != nil {
		t.Fatal(err)
	}
	want = "- a 3 4 1 3\n+ a 4 2 -2 3"
	if got := out.take(); got != want {
		t.Fatalf("epoch 2:\n got %s\nwant %s", got, want)
	}
	if err := h.Barrier(ctx, Barrier{Epoch: 3}, out.emit); err != nil {
		t.Fatal(err)
	}
	if got := out.take(); got != "" {
		t.Fatalf("an epoch without input emitted:\n%s", got)
	}
}

func TestHashAggRetractsDeletedRowsAndGroups(t *testing.T) {
	ctx := context.Background()
	alloc := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer alloc.AssertSize(t, 0)
	n := aggPlan(kv, []int{0}, kvAggs, false)
	h, err := NewHashAgg(n, alloc)
	if err != nil {
		t.Fatal(err)
	}
	out := &collector{schema: n.Cols}
	apply := func(ops []Op, rows ...[]types.Datum) {
		rec := record(t, alloc, kv, rows...)
		defer rec.Release()
		if err := h.Process(ctx, 0, Chunk{Rec: rec, Ops: ops}, out.emit); err != nil {
			t.Fatal(err)
		}
		if err := h.Barrier(ctx, Barrier{}, out.emit); err != nil {
			t.Fatal(err)
		}
	}
	apply(nil, []types.Datum{"a", int64(1)}, []types.Datum{"a", int64(9)}, []types.Datum{"b", int64(2)})
	out.take()
	// Deleting the maximum reveals the next one.
	apply([]Op{Delete}, []types.Datum{"a", int64(9)})
	if got, want := out.take(), "- a 2 10 1 9\n+ a 1 1 1 1"; got != want {
		t.Fatalf("after delete:\n got %s\nwant %s", got, want)
	}
	// Deleting the last row of a group retracts the group.
	apply([]Op{Delete}, []types.Datum{"b", int64(2)})
	if got, want := out.take(), "- b 1 2 2 2"; got != want {
		t.Fatalf("after deleting the group:\n got %s\nwant %s", got, want)
	}
	if h.Groups() != 1 {
		t.Fatalf("groups held = %d, want 1", h.Groups())
	}
}

func TestHashAggWithoutGroupByHasARowOverEmptyInput(t *testing.T) {
	ctx := context.Background()
	n := aggPlan(kv, nil, kvAggs, true)
	h, err := NewHashAgg(n, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	out := &collector{schema: n.Cols}
	if err := h.Finish(ctx, out.emit); err != nil {
		t.Fatal(err)
	}
	if got, want := out.take(), "+ 0 NULL NULL NULL"; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

// windowed is (window_end, k, v) grouped by window_end and k.
var windowed = types.Schema{{Name: "window_end", Type: types.Timestamp}, {Name: "k", Type: types.Text}, {Name: "v", Type: types.Int8}}

func TestHashAggEmitOnWindowCloseEmitsOnceAndFreesState(t *testing.T) {
	ctx := context.Background()
	alloc := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer alloc.AssertSize(t, 0)
	n := aggPlan(windowed, []int{0, 1}, []plan.AggCall{{Func: "count_star", Arg: -1, Ret: types.Int8}}, true)
	n.WindowEnd = 0
	n.EmitOnWindowClose = true
	h, err := NewHashAgg(n, alloc)
	if err != nil {
		t.Fatal(err)
	}
	out := &collector{schema: n.Cols}
	rec := record(t, alloc, windowed,
		[]types.Datum{ts("2026-01-01 00:00:10"), "a", int64(1)},
		[]types.Datum{ts("2026-01-01 00:00:10"), "a", int64(2)},
		[]types.Datum{ts("2026-01-01 00:00:20"), "a", int64(3)})
	defer rec.Release()
	if err := h.Process(ctx, 0, Chunk{Rec: rec}, out.emit); err != nil {
		t.Fatal(err)
	}
	if err := h.Barrier(ctx, Barrier{Epoch: 1}, out.emit); err != nil {
		t.Fatal(err)
	}
	if got := out.take(); got != "" {
		t.Fatalf("emitted before its window closed:\n%s", got)
	}
	// A watermark just before the end closes nothing; at the end it closes.
	if err := h.Watermark(ctx, ts("2026-01-01 00:00:09.999999").(int64), out.emit); err != nil {
		t.Fatal(err)
	}
	if got := out.take(); got != "" {
		t.Fatalf("emitted before the watermark reached window_end:\n%s", got)
	}
	if err := h.Watermark(ctx, ts("2026-01-01 00:00:10").(int64), out.emit); err != nil {
		t.Fatal(err)
	}
	if got, want := out.take(), "+ 2026-01-01 00:00:10 a 2"; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	if h.Groups() != 1 {
		t.Fatalf("groups held after the first window closed = %d, want 1", h.Groups())
	}
	if err := h.Watermark(ctx, ts("2026-01-01 00:01:00").(int64), out.emit); err != nil {
		t.Fatal(err)
	}
	if got, want := out.take(), "+ 2026-01-01 00:00:20 a 1"; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	if h.Groups() != 0 {
		t.Fatalf("groups held after every window closed = %d, want 0", h.Groups())
	}
}

func TestHashAggIncrementalFreesClosedWindows(t *testing.T) {
	ctx := context.Background()
	n := aggPlan(windowed, []int{0, 1}, []plan.AggCall{{Func: "count_star", Arg: -1, Ret: types.Int8}}, true)
	n.WindowEnd = 0
	h, err := NewHashAgg(n, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	out := &collector{schema: n.Cols}
	rec := record(t, memory.DefaultAllocator, windowed, []types.Datum{ts("2026-01-01 00:00:10"), "a", int64(1)})
	defer rec.Release()
	if err := h.Process(ctx, 0, Chunk{Rec: rec}, out.emit); err != nil {
		t.Fatal(err)
	}
	// The watermark passes the window before any barrier: the pending
	// change must still come out before the state is freed.
	if err := h.Watermark(ctx, ts("2026-01-01 00:00:30").(int64), out.emit); err != nil {
		t.Fatal(err)
	}
	if got, want := out.take(), "+ 2026-01-01 00:00:10 a 1"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if h.Groups() != 0 {
		t.Fatalf("groups held = %d, want 0", h.Groups())
	}
}

// count(DISTINCT) over integers keeps each value's count, so a delete takes
// one copy away, and writes its state in the form the row codec gives the
// values (that of every other type, and of checkpoints before integers were
// kept apart), which loads back.
func TestCountDistinctOfIntegers(t *testing.T) {
	in := types.Schema{{Name: "v", Type: types.Int4}}
	rec := record(t, memory.DefaultAllocator, in,
		[]types.Datum{int32(1)}, []types.Datum{int32(2)}, []types.Datum{int32(2)}, []types.Datum{nil}, []types.Datum{int32(-3)})
	defer rec.Release()
	newAgg := func() *countDistinctAgg {
		a := &countDistinctAgg{st: storageOf(types.Int4)}
		a.grow(1)
		return a
	}
	result := func(a *countDistinctAgg) int64 {
		b := array.NewInt64Builder(memory.DefaultAllocator)
		defer b.Release()
		if err := a.result(b, 0); err != nil {
			t.Fatal(err)
		}
		return b.Value(0)
	}
	a := newAgg()
	gids := []int32{0, 0, 0, 0, 0}
	if err := a.update(rec.Column(0), gids, []int8{1, 1, 1, 1, 1}); err != nil {
		t.Fatal(err)
	}
	if got := result(a); got != 3 {
		t.Fatalf("count(DISTINCT) of 1, 2, 2, NULL, -3 = %d, want 3", got)
	}
	// Delete one 2: the other keeps it counted.
	if err := a.update(rec.Column(0), gids, []int8{0, -1, 0, 0, 0}); err != nil {
		t.Fatal(err)
	}
	if got := result(a); got != 3 {
		t.Fatalf("after deleting one of two 2s: %d, want 3", got)
	}

	var w StateWriter
	a.save(&w, 0)
	saved := NewStateReader(w.Bytes()).Counts()
	want := map[string]int64{}
	for i, n := range []int64{1, 1, 0, 0, 1} {
		if n > 0 {
			want[string(appendValue(nil, rec.Column(0), i, stInt32, false))] = n
		}
	}
	if fmt.Sprint(saved) != fmt.Sprint(want) {
		t.Fatalf("saved %v, want the row codec's form %v", saved, want)
	}
	b := newAgg()
	if err := b.load(NewStateReader(w.Bytes()), 0); err != nil {
		t.Fatal(err)
	}
	if err := b.update(rec.Column(0), gids, []int8{-1, 0, 0, 0, 0}); err != nil {
		t.Fatal(err)
	}
	if got := result(b); got != 2 {
		t.Fatalf("loaded, then 1 deleted: %d, want 2 (2 and -3)", got)
	}
}
