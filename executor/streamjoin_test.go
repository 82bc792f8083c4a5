package executor

import (
	"bytes"
	"context"
	"strings"
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

// A join's state written by incremental checkpoints and loaded into a new
// join matches as the old one does: rows stored twice keep both copies, a
// key freed and started again within one checkpoint keeps its new rows, a
// key started and freed leaves nothing behind.
func TestStreamJoinStateSurvivesCheckpoints(t *testing.T) {
	ctx := context.Background()
	alloc := memory.DefaultAllocator
	n := joinOf(plan.InnerJoin, -1)
	push := func(j *StreamJoin, side int, ops []Op, rows ...[]types.Datum) string {
		t.Helper()
		out := &collector{schema: n.Cols}
		rec := record(t, alloc, adWindows, rows...)
		defer rec.Release()
		if err := j.Process(ctx, side, Chunk{Rec: rec, Ops: ops}, out.emit); err != nil {
			t.Fatal(err)
		}
		return out.take()
	}
	stored := joinStore{}
	checkpoint := func(j *StreamJoin) { stored.checkpoint(t, j) }
	w := ts("2026-01-01 00:00:10")
	ad := func(id int32) []types.Datum { return []types.Datum{id, w} }

	j := newTrackingJoin(t, n)
	push(j, 0, nil, ad(1), ad(1), ad(2))
	checkpoint(j)
	push(j, 0, []Op{Delete, Delete, Insert, Insert, Delete}, ad(1), ad(2), ad(2), ad(3), ad(3))
	checkpoint(j)
	if len(stored) != 2 {
		t.Fatalf("%d entries stored, want one per key left (1 and 2)", len(stored))
	}

	restored := stored.restore(t, n)
	want := "+ 1 2026-01-01 00:00:10 1 2026-01-01 00:00:10\n+ 2 2026-01-01 00:00:10 2 2026-01-01 00:00:10"
	for name, j := range map[string]*StreamJoin{"running": j, "restored": restored} {
		if got := push(j, 1, nil, ad(1), ad(2), ad(3)); got != want {
			t.Errorf("%s join, right rows 1, 2, 3:\n got %s\nwant %s", name, got, want)
		}
	}
}

// A key that gains rows over many checkpoints is stored as the segments
// each added, merged into one once there are too many; a key freed takes
// all its segments with it. Either way the stored state loads back whole.
func TestStreamJoinCheckpointsWriteOnlyNewRows(t *testing.T) {
	ctx := context.Background()
	alloc := memory.DefaultAllocator
	n := joinOf(plan.InnerJoin, -1)
	j := newTrackingJoin(t, n)
	w := ts("2026-01-01 00:00:10")
	push := func(side int, ops []Op, ids ...int32) {
		t.Helper()
		rows := make([][]types.Datum, len(ids))
		for i, id := range ids {
			rows[i] = []types.Datum{id, w}
		}
		rec := record(t, alloc, adWindows, rows...)
		defer rec.Release()
		if err := j.Process(ctx, side, Chunk{Rec: rec, Ops: ops}, (&collector{schema: n.Cols}).emit); err != nil {
			t.Fatal(err)
		}
	}
	stored := joinStore{}
	checkpoint := func() int { return stored.checkpoint(t, j) }

	push(0, nil, 5, 5, 5)
	first := checkpoint()
	merges := 0
	for i := 1; i < 3*maxSegments; i++ {
		push(0, nil, 4)
		if i == 10 {
			push(0, nil, 5)
		}
		if written := checkpoint(); written > first {
			merges++ // more than the first's three rows: key 4 written whole
		}
		if len(stored) > maxSegments+2 {
			t.Fatalf("checkpoint %d: %d entries stored, more than %d segments of key 4 and two of key 5", i, len(stored), maxSegments)
		}
	}
	if merges > 2 {
		t.Fatalf("%d checkpoints of one new row each wrote more than three rows; only merges (2) should", merges)
	}
	push(0, nil, 4)
	push(0, []Op{Delete, Delete, Delete, Delete}, 5, 5, 5, 5)
	checkpoint()

	restored := stored.restore(t, n)
	if restored.Keys() != 1 {
		t.Fatalf("restored %d keys, want key 4 alone", restored.Keys())
	}
	out := &collector{schema: n.Cols}
	rec := record(t, alloc, adWindows, []types.Datum{int32(4), w})
	defer rec.Release()
	if err := restored.Process(ctx, 1, Chunk{Rec: rec}, out.emit); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Count(out.take(), "+ 4"), 3*maxSegments; got != want {
		t.Fatalf("restored key 4 matched %d rows, want %d", got, want)
	}
}

// Entries written with a multiplicity above one (as StateWriter.Counts
// writes them) load as that many copies, and a delete takes one.
func TestStreamJoinLoadsCountedRows(t *testing.T) {
	ctx := context.Background()
	alloc := memory.DefaultAllocator
	n := joinOf(plan.InnerJoin, -1)
	j := newTrackingJoin(t, n)
	w := ts("2026-01-01 00:00:10")
	rec := record(t, alloc, adWindows, []types.Datum{int32(7), w})
	defer rec.Release()
	key := NewRowEncoder([]int{0, 1}, adWindows.Types()).Encode(rec)[0]
	row := NewExactRowEncoder([]int{0, 1}, adWindows.Types()).Encode(rec)[0]
	var v StateWriter
	v.Bool(false)
	v.Int(0)
	v.Int(3)
	v.Counts(map[string]int64{string(row): 3})
	if err := j.LoadEntry(append([]byte{'0'}, key...), v.Bytes()); err != nil {
		t.Fatal(err)
	}
	out := &collector{schema: n.Cols}
	if err := j.Process(ctx, 0, Chunk{Rec: rec, Ops: []Op{Delete}}, out.emit); err != nil {
		t.Fatal(err)
	}
	out.take()
	if err := j.Process(ctx, 1, Chunk{Rec: rec}, out.emit); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Count(out.take(), "+ 7"), 2; got != want {
		t.Fatalf("a row stored 3 times, deleted once, matched %d times; want %d", got, want)
	}
}

// joinStore stands in for the checkpoint store of one join: it applies the
// changes SaveChanges writes, and loads what it holds into a new join.
type joinStore map[string][]byte

// checkpoint applies j's changes and returns the bytes of values written.
func (s joinStore) checkpoint(t *testing.T, j *StreamJoin) (written int) {
	t.Helper()
	d := &StateDelta{}
	d.reset(1, false)
	j.SaveChanges(d, false)
	if err := d.Each(func(key, value []byte) error {
		if value == nil {
			delete(s, string(key))
		} else {
			written += len(value)
			s[string(key)] = bytes.Clone(value)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return written
}

// restore builds the join n with the state held.
func (s joinStore) restore(t *testing.T, n *plan.Join) *StreamJoin {
	t.Helper()
	j := newTrackingJoin(t, n)
	for key, value := range s {
		if err := j.LoadEntry([]byte(key), value); err != nil {
			t.Fatal(err)
		}
	}
	return j
}

// newTrackingJoin builds the join n, recording its changes for checkpoints.
func newTrackingJoin(t *testing.T, n *plan.Join) *StreamJoin {
	t.Helper()
	j, err := NewStreamJoin(n, &expr.EvalContext{Alloc: memory.DefaultAllocator})
	if err != nil {
		t.Fatal(err)
	}
	j.TrackChanges()
	return j
}

// An interval join frees each row of a key when the watermark passes its own
// time plus the bound, rows of one key arriving in any order, also rows a
// checkpoint brought back.
func TestIntervalJoinFreesEachRowOfAKeyInTime(t *testing.T) {
	ctx := context.Background()
	events := types.Schema{{Name: "ad", Type: types.Int4}, {Name: "ts", Type: types.Timestamp}}
	cols := append(append(types.Schema{}, events...), events...)
	n := &plan.Join{Left: &plan.Scan{Cols: events}, Right: &plan.Scan{Cols: events}, Type: plan.InnerJoin,
		LeftKeys: []int{0}, RightKeys: []int{0}, Cols: cols, WindowKey: -1,
		HasTTL: [2]bool{true, false}, TTL: [2]int64{5_000_000, 0}, IntervalCol: [2]int{1, 1}}
	j := newTrackingJoin(t, n)
	rec := record(t, memory.DefaultAllocator, events,
		[]types.Datum{int32(1), ts("2026-01-01 00:00:30")}, []types.Datum{int32(1), ts("2026-01-01 00:00:10")},
		[]types.Datum{int32(1), ts("2026-01-01 00:00:20")})
	defer rec.Release()
	if err := j.Process(ctx, 0, Chunk{Rec: rec}, (&collector{schema: cols}).emit); err != nil {
		t.Fatal(err)
	}
	stored := joinStore{}
	stored.checkpoint(t, j)
	restored := stored.restore(t, n)
	key := string(NewRowEncoder([]int{0}, events[:1].Types()).Encode(rec)[0])
	left := func(j *StreamJoin) int64 { return j.side[0][key].count() }
	for _, step := range []struct {
		wm   string
		rows int64
	}{
		{"2026-01-01 00:00:15", 3},        // 00:10 + 5 s is not below the watermark yet
		{"2026-01-01 00:00:15.000001", 2}, // now it is
		{"2026-01-01 00:00:25.5", 1},
		{"2026-01-01 00:00:36", 0},
	} {
		for name, j := range map[string]*StreamJoin{"running": j, "restored": restored} {
			if err := j.Watermark(ctx, ts(step.wm).(int64), nil); err != nil {
				t.Fatal(err)
			}
			if got := left(j); got != step.rows {
				t.Errorf("%s join at watermark %s: %d rows of key 1, want %d", name, step.wm, got, step.rows)
			}
		}
	}
}
