package executor

import (
	"context"
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sluicedb/sluice/types"
)

// memSpill is a SpillStore in memory: what the checkpoints wrote, applied
// only when the test says the checkpoint is durable.
type memSpill struct{ entries map[string][]byte }

func (m *memSpill) Get(key []byte, fn func([]byte) error) (bool, error) {
	v, ok := m.entries[string(key)]
	if !ok {
		return false, nil
	}
	return true, fn(v)
}

func (m *memSpill) GetSorted(keys [][]byte, fn func(int, []byte) error) error {
	for i, k := range keys {
		if v, ok := m.entries[string(k)]; ok {
			if err := fn(i, v); err != nil {
				return err
			}
		}
	}
	return nil
}

func (m *memSpill) Scan(fn func(key, value []byte) error) error {
	for k, v := range m.entries {
		if err := fn([]byte(k), v); err != nil {
			return err
		}
	}
	return nil
}

func (m *memSpill) apply(d *StateDelta) {
	_ = d.Each(func(k, v []byte) error {
		if v == nil {
			delete(m.entries, string(k))
		} else {
			m.entries[string(k)] = append([]byte(nil), v...)
		}
		return nil
	})
}

// newSpillingAgg returns count, sum, min and max by key over kv, spilling into
// an in-memory store under a budget of one byte, and a collector of its
// output.
func newSpillingAgg(t *testing.T, alloc memory.Allocator) (*HashAgg, *memSpill, *MemoryBudget, *collector) {
	t.Helper()
	n := aggPlan(kv, []int{0}, kvAggs, false)
	h, err := NewHashAgg(n, alloc)
	if err != nil {
		t.Fatal(err)
	}
	h.TrackChanges()
	store := &memSpill{entries: map[string][]byte{}}
	budget := NewMemoryBudget(1)
	if !h.EnableSpill(store, budget) {
		t.Fatal("a plain GROUP BY should spill")
	}
	return h, store, budget, &collector{schema: n.Cols}
}

// A spilling aggregation evicts only groups a durable checkpoint holds,
// reads them back when a row of theirs comes, and never reads back a group
// it released whose deletion is not durable yet: its output is the same as
// if everything had stayed in memory.
func TestHashAggSpillsOnlyDurableGroups(t *testing.T) {
	ctx := context.Background()
	alloc := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer alloc.AssertSize(t, 0)
	h, store, budget, out := newSpillingAgg(t, alloc)
	epoch := uint64(0)
	// step applies a chunk and closes its epoch with a barrier; with
	// checkpoint set the epoch is also a checkpoint, written durably when
	// durable is set (otherwise it is still being written).
	var inFlight *StateDelta
	step := func(ops []Op, rows [][]types.Datum, checkpoint bool) string {
		t.Helper()
		epoch++
		if len(rows) > 0 {
			rec := record(t, alloc, kv, rows...)
			defer rec.Release()
			if err := h.Process(ctx, 0, Chunk{Rec: rec, Ops: ops}, out.emit); err != nil {
				t.Fatal(err)
			}
		}
		if err := h.Barrier(ctx, Barrier{Epoch: epoch}, out.emit); err != nil {
			t.Fatal(err)
		}
		if checkpoint {
			d := &StateDelta{}
			d.reset(epoch, false)
			h.SaveChanges(d, false)
			inFlight = d
		}
		return out.take()
	}
	durable := func() {
		store.apply(inFlight)
		budget.Durable(inFlight.Epoch)
	}
	row := func(k string, v int64) []types.Datum { return []types.Datum{k, v} }

	step(nil, [][]types.Datum{row("a", 1), row("b", 2), row("c", 3)}, true)
	durable()
	budget.Evict(1)
	step(nil, nil, false) // the barrier at which the groups go
	if h.Groups() != 0 || budget.Evicted() != 3 {
		t.Fatalf("after an eviction round: %d groups in memory, %d evicted; want 0 and 3", h.Groups(), budget.Evicted())
	}
	// A row of an evicted group brings it back with its state.
	if got, want := step(nil, [][]types.Datum{row("a", 5)}, false), "- a 1 1 1 1\n+ a 2 6 1 5"; got != want {
		t.Fatalf("a row for an evicted group:\n got %s\nwant %s", got, want)
	}
	if budget.Reloaded() != 1 {
		t.Errorf("reloaded %d groups, want 1", budget.Reloaded())
	}
	// b is emptied and released; the checkpoint deleting it is taken but
	// not yet durable, so the store still has b, and a new row of b must
	// start the group afresh rather than read it back.
	if got, want := step([]Op{Delete}, [][]types.Datum{row("b", 2)}, true), "- b 1 2 2 2"; got != want {
		t.Fatalf("emptying b:\n got %s\nwant %s", got, want)
	}
	budget.Evict(1) // not acted on: the last checkpoint is not durable
	step(nil, nil, false)
	if got, want := step(nil, [][]types.Datum{row("b", 7)}, false), "+ b 1 7 7 7"; got != want {
		t.Fatalf("b after it was released:\n got %s\nwant %s", got, want)
	}
	if h.Groups() != 2 {
		t.Errorf("%d groups in memory, want a and b: a changed since the last durable checkpoint", h.Groups())
	}
	durable()
	step(nil, nil, true)
	durable()
	budget.Evict(1)
	step(nil, nil, false)
	if h.Groups() != 0 {
		t.Fatalf("%d groups in memory after a round with everything durable, want 0", h.Groups())
	}
	if got, want := step(nil, [][]types.Datum{row("b", 1), row("c", 4)}, false), "- b 1 7 7 7\n- c 1 3 3 3\n+ b 2 8 1 7\n+ c 2 7 3 4"; got != want {
		t.Fatalf("after the last eviction:\n got %s\nwant %s", got, want)
	}
}

// Sources wait for room only while the budget is held, and all go on when it
// is released.
func TestMemoryBudgetHoldsReadersUntilReleased(t *testing.T) {
	ctx := context.Background()
	b := NewMemoryBudget(1 << 20)
	if err := b.WaitForRoom(ctx); err != nil {
		t.Fatalf("an unheld budget made a reader wait: %v", err)
	}
	b.Hold()
	b.Hold() // holding twice is holding once
	waited := make(chan error, 2)
	for i := 0; i < 2; i++ {
		go func() { waited <- b.WaitForRoom(ctx) }()
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if err := b.WaitForRoom(canceled); err == nil {
		t.Fatal("a held budget let a reader through with its context canceled")
	}
	select {
	case err := <-waited:
		t.Fatalf("a reader went on while the budget was held (err %v)", err)
	default:
	}
	b.Release()
	for i := 0; i < 2; i++ {
		if err := <-waited; err != nil {
			t.Fatal(err)
		}
	}
	if b.Held() {
		t.Error("the budget is still held after Release")
	}
}

// After an eviction leaves few groups of many, the per-group arrays are
// rebuilt at the size of what is left, and the groups left and those read
// back go on as before.
func TestHashAggCompactsAfterEviction(t *testing.T) {
	ctx := context.Background()
	alloc := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer alloc.AssertSize(t, 0)
	h, store, budget, out := newSpillingAgg(t, alloc)
	apply := func(epoch uint64, ops []Op, rows [][]types.Datum) {
		t.Helper()
		rec := record(t, alloc, kv, rows...)
		defer rec.Release()
		if err := h.Process(ctx, 0, Chunk{Rec: rec, Ops: ops}, out.emit); err != nil {
			t.Fatal(err)
		}
		if err := h.Barrier(ctx, Barrier{Epoch: epoch}, out.emit); err != nil {
			t.Fatal(err)
		}
	}
	const groups = 2 * compactMinGroups
	rows := make([][]types.Datum, groups)
	for i := range rows {
		rows[i] = []types.Datum{fmt.Sprintf("g%d", i), int64(i)}
	}
	apply(1, nil, rows)
	d := &StateDelta{}
	d.reset(1, false)
	h.SaveChanges(d, false)
	store.apply(d)
	budget.Durable(1)
	out.take()
	// Two groups change after the checkpoint and so stay; the others go
	// at the next barrier, and the arrays shrink to fit.
	budget.Evict(1)
	apply(2, nil, [][]types.Datum{{"g1", int64(10)}, {"g2", int64(20)}})
	if h.Groups() != 2 || len(h.keys) > 16 {
		t.Fatalf("after the eviction: %d groups, arrays for %d; want 2 and a few", h.Groups(), len(h.keys))
	}
	if got, want := out.take(), "- g1 1 1 1 1\n- g2 1 2 2 2\n+ g1 2 11 1 10\n+ g2 2 22 2 20"; got != want {
		t.Fatalf("epoch 2:\n got %s\nwant %s", got, want)
	}
	// g1 was changed since the checkpoint: the next one still writes it.
	d.reset(3, false)
	h.SaveChanges(d, false)
	if d.Len() != 2 {
		t.Errorf("the checkpoint after compacting wrote %d groups, want the 2 changed", d.Len())
	}
	apply(4, []Op{Delete, Insert}, [][]types.Datum{{"g1", int64(1)}, {"g7", int64(3)}})
	if got, want := out.take(), "- g1 2 11 1 10\n- g7 1 7 7 7\n+ g1 1 10 10 10\n+ g7 2 10 3 7"; got != want {
		t.Fatalf("epoch 4:\n got %s\nwant %s", got, want)
	}
}
