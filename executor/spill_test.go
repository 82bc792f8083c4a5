package executor

import (
	"context"
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

// A spilling aggregation evicts only groups a durable checkpoint holds,
// reads them back when a row of theirs comes, and never reads back a group
// it released whose deletion is not durable yet: its output is the same as
// if everything had stayed in memory.
func TestHashAggSpillsOnlyDurableGroups(t *testing.T) {
	ctx := context.Background()
	alloc := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer alloc.AssertSize(t, 0)
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
	out := &collector{schema: n.Cols}
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
