package executor

import (
	"context"
	"fmt"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sluicedb/sluice/plan"
	"github.com/sluicedb/sluice/types"
)

// HashAgg is an incremental hash aggregation. It folds inserts and deletes
// into per-group states and emits a changelog of its result:
//
//   - incremental (default): at each barrier (and at Finish in batch mode),
//     every group changed since the last emission is retracted with its old
//     value and inserted with its new one; a group whose rows are all deleted
//     is retracted;
//   - emit on window close: a group is emitted once, as an insert, when the
//     watermark reaches its window end, and never changes after.
//
// In both modes the state of a group whose window has closed is freed, so an
// unbounded windowed stream runs in bounded memory.
type HashAgg struct {
	node    *plan.Aggregate
	alloc   memory.Allocator
	keyEnc  *RowEncoder
	keyDec  *RowDecoder
	aggs    []aggregator
	outType *arrow.Schema

	groups map[string]int32
	// fixed indexes the groups by fixedKey as well, when the key is one or
	// two integer columns (fixedCols of them; 0 otherwise), for chunks
	// whose key columns have no NULL.
	fixed     *fixedTable
	fixedCols int
	fixedBuf  []fixedKey
	keys      []string // encoded key per group id
	rows      []int64  // input rows currently in each group
	live      []bool   // group id in use
	free      []int32  // recycled group ids
	emitted   []bool   // the group's current row is in the output
	dirty     []int32
	isDirty   []bool
	oldRows   groupRows // previous output of dirty groups, as emitted
	global    bool      // no GROUP BY: one group that always exists
	windowOf  []int64   // window end of each group (WindowEnd ≥ 0)
	hasEnd    []bool    // the group is in closing
	closing   byEnd[int32]

	// For incremental checkpoints (tracking set): the groups changed and
	// the keys of the groups released since the last SaveChanges.
	tracking bool
	ckDirty  []bool
	ckList   []int32
	ckGone   []string

	// spill is set when the groups may outgrow memory: groups a durable
	// checkpoint holds are evicted under pressure and read back on demand.
	// gone has the keys of groups released whose deletion is not durable
	// yet, with the epoch of the checkpoint that deletes them (0 before
	// one does): the store must not give them back.
	spill     *spill
	gone      map[string]uint64
	goneSwept uint64   // the durable epoch gone was last swept at
	missing   [][]byte // the keys of a chunk to read back, reused

	gids  []int32
	signs []int8
	err   error // first aggregate error of the current emission
}

// NewHashAgg builds the aggregation described by n.
func NewHashAgg(n *plan.Aggregate, alloc memory.Allocator) (*HashAgg, error) {
	in := n.Input.Schema()
	keyTypes := make([]types.T, len(n.Keys))
	for i, k := range n.Keys {
		keyTypes[i] = in[k].Type
	}
	h := &HashAgg{
		node:    n,
		alloc:   alloc,
		keyEnc:  NewRowEncoder(n.Keys, keyTypes),
		keyDec:  NewRowDecoder(keyTypes),
		outType: n.Cols.Arrow(),
		groups:  make(map[string]int32),
		global:  len(n.Keys) == 0,
	}
	for _, a := range n.Aggs {
		ag, err := newAggregator(a, n.InputAppendOnly)
		if err != nil {
			return nil, err
		}
		h.aggs = append(h.aggs, ag)
	}
	if h.global {
		h.group("", 0, nil)
	} else if h.fixedCols = fixedKeyColumns(h.keyEnc.storages); h.fixedCols > 0 {
		h.fixed = newFixedTable(0)
	}
	return h, nil
}

// group returns the id of the group with encoded key k, creating it; row
// and rec locate a row of the group, to read its window end.
func (h *HashAgg) group(k string, row int, rec arrow.Record) int32 {
	if g, ok := h.groups[k]; ok {
		return g
	}
	var g int32
	if n := len(h.free); n > 0 {
		g = h.free[n-1]
		h.free = h.free[:n-1]
	} else {
		g = int32(len(h.keys))
		h.keys = append(h.keys, "")
		h.rows = append(h.rows, 0)
		h.live = append(h.live, false)
		h.emitted = append(h.emitted, false)
		h.isDirty = append(h.isDirty, false)
		h.windowOf = append(h.windowOf, 0)
		h.hasEnd = append(h.hasEnd, false)
		h.ckDirty = append(h.ckDirty, false)
		for _, a := range h.aggs {
			a.grow(len(h.keys))
		}
	}
	h.groups[k] = g
	if h.fixed != nil {
		if fk, ok := fixedKeyOf(k, h.fixedCols); ok {
			h.fixed.put(fk, g)
		}
	}
	h.keys[g] = k
	h.live[g] = true
	if h.node.WindowEnd >= 0 && rec != nil {
		col := rec.Column(h.node.Keys[h.node.WindowEnd])
		if col.IsValid(row) {
			end := int64At(col, row) + h.node.WindowShift
			h.windowOf[g] = end
			h.hasEnd[g] = true
			h.closing.add(end, g)
		}
	}
	return g
}

// Process folds a chunk into the groups.
func (h *HashAgg) Process(ctx context.Context, _ int, c Chunk, emit Emit) error {
	n := c.Len()
	if n == 0 {
		return nil
	}
	h.gids = grow(h.gids, n)
	h.signs = grow(h.signs, n)
	// Integer keys are looked up as they are in the columns; other keys,
	// and chunks whose keys may have to be read back, are encoded.
	var keys [][]byte
	byFixed := h.fixed != nil && h.spill == nil && h.readFixedKeys(c.Rec)
	if !byFixed {
		keys = h.keyEnc.Encode(c.Rec)
		if h.spill != nil && h.spill.spilled {
			if err := h.reload(keys); err != nil {
				return err
			}
		}
	}
	for i := 0; i < n; i++ {
		var g int32
		var ok bool
		if byFixed {
			g, ok = h.fixed.get(h.fixedBuf[i])
		} else {
			g, ok = h.groups[string(keys[i])] // no allocation for a lookup
		}
		if !ok {
			if keys == nil {
				keys = h.keyEnc.Encode(c.Rec)
			}
			g = h.group(string(keys[i]), i, c.Rec)
		}
		h.gids[i] = g
		if c.OpAt(i) == Delete {
			h.signs[i] = -1
			h.rows[g]--
		} else {
			h.signs[i] = 1
			h.rows[g]++
		}
		if !h.isDirty[g] {
			h.markDirty(g)
		}
		if h.tracking && !h.ckDirty[g] {
			h.ckDirty[g] = true
			h.ckList = append(h.ckList, g)
		}
	}
	for j, a := range h.aggs {
		var col arrow.Array
		if arg := h.node.Aggs[j].Arg; arg >= 0 {
			col = c.Rec.Column(arg)
		} else {
			col = c.Rec.Column(0)
		}
		if err := a.update(col, h.gids, h.signs); err != nil {
			return err
		}
	}
	return nil
}

// markDirty records that g changes in this epoch, keeping the row it had in
// the output so that it can be retracted.
func (h *HashAgg) markDirty(g int32) {
	h.isDirty[g] = true
	h.dirty = append(h.dirty, g)
	if h.node.EmitOnWindowClose || !h.emitted[g] {
		return
	}
	h.appendRow(&h.oldRows, g)
}

// groupRows collects output rows of groups: each aggregate's result is
// appended as its group is added, the keys are decoded together when the
// rows are finished.
type groupRows struct {
	bs   []array.Builder
	keys []string
}

func (h *HashAgg) appendRow(out *groupRows, g int32) {
	if out.bs == nil {
		out.bs = newBuilders(h.alloc, h.outType)
	}
	out.keys = append(out.keys, h.keys[g])
	nk := len(h.node.Keys)
	for j, a := range h.aggs {
		if err := a.result(out.bs[nk+j], g); err != nil && h.err == nil {
			h.err = err
		}
	}
}

// finishRows returns the collected rows as a record, nil if there are none,
// and empties out.
func (h *HashAgg) finishRows(out *groupRows) arrow.Record {
	if out.bs == nil {
		return nil
	}
	h.keyDec.AppendStrings(out.bs[:len(h.node.Keys)], out.keys)
	rec := finishRecord(h.outType, out.bs)
	clear(out.keys)
	out.bs, out.keys = nil, out.keys[:0]
	return rec
}

// Barrier emits the changes of the epoch.
func (h *HashAgg) Barrier(ctx context.Context, _ Barrier, emit Emit) error {
	if h.node.EmitOnWindowClose {
		return nil
	}
	if err := h.flush(ctx, emit); err != nil {
		return err
	}
	if h.spill != nil {
		h.forgetDurablyGone()
		if share := h.spill.evictShare(); share > 0 {
			h.evict(share)
			if len(h.keys) > compactMinGroups && len(h.groups) < len(h.keys)/4 {
				if err := h.compact(); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// Finish emits the result of a bounded input.
func (h *HashAgg) Finish(ctx context.Context, emit Emit) error {
	if h.node.EmitOnWindowClose {
		return h.closeWindows(ctx, int64(^uint64(0)>>1), emit)
	}
	return h.flush(ctx, emit)
}

// flush emits the retractions and new rows of every dirty group.
func (h *HashAgg) flush(ctx context.Context, emit Emit) error {
	if h.global && !h.emitted[0] && !h.isDirty[0] {
		h.markDirty(0) // an aggregate without GROUP BY has a row even over no input
	}
	if len(h.dirty) == 0 {
		return nil
	}
	h.err = nil
	if rec := h.finishRows(&h.oldRows); rec != nil {
		err := emit(ctx, Chunk{Rec: rec, Ops: deletes(int(rec.NumRows()))})
		rec.Release()
		if err != nil {
			return err
		}
	}
	var out groupRows
	for _, g := range h.dirty {
		h.isDirty[g] = false
		if h.rows[g] > 0 || h.global {
			h.appendRow(&out, g)
			h.emitted[g] = true
		} else {
			h.emitted[g] = false
			h.release(g)
		}
	}
	h.dirty = h.dirty[:0]
	rec := h.finishRows(&out)
	if rec == nil {
		return nil
	}
	defer rec.Release()
	if h.err != nil {
		return fmt.Errorf("aggregate: %w", h.err)
	}
	return emit(ctx, Chunk{Rec: rec})
}

// Watermark closes the windows that end at or before wm.
func (h *HashAgg) Watermark(ctx context.Context, wm int64, emit Emit) error {
	if h.node.WindowEnd < 0 {
		return nil
	}
	if !h.node.EmitOnWindowClose && h.closing.endsBy(wm) {
		// Groups about to be freed must have their last change out first.
		if err := h.flush(ctx, emit); err != nil {
			return err
		}
	}
	return h.closeWindows(ctx, wm, emit)
}

func (h *HashAgg) closeWindows(ctx context.Context, wm int64, emit Emit) error {
	var out groupRows
	h.err = nil
	for h.closing.endsBy(wm) {
		wg := h.closing.next()
		g := wg.v
		if !h.live[g] || h.windowOf[g] != wg.end {
			continue
		}
		if h.node.EmitOnWindowClose && h.rows[g] > 0 {
			h.appendRow(&out, g)
		}
		if h.isDirty[g] {
			h.isDirty[g] = false
			h.removeDirty(g)
		}
		h.release(g)
	}
	rec := h.finishRows(&out)
	if rec == nil {
		return nil
	}
	defer rec.Release()
	if h.err != nil {
		return fmt.Errorf("aggregate: %w", h.err)
	}
	return emit(ctx, Chunk{Rec: rec})
}

func (h *HashAgg) removeDirty(g int32) {
	for i, d := range h.dirty {
		if d == g {
			h.dirty = append(h.dirty[:i], h.dirty[i+1:]...)
			return
		}
	}
}

// release frees group g's state and recycles its id.
func (h *HashAgg) release(g int32) {
	if h.global {
		return
	}
	if h.tracking {
		h.ckGone = append(h.ckGone, h.keys[g])
		h.ckDirty[g] = false
	}
	if h.spill != nil {
		// Until a durable checkpoint deletes it, the store still has
		// the group.
		h.gone[h.keys[g]] = 0
	}
	h.drop(g)
}

// drop forgets group g in memory and recycles its id.
func (h *HashAgg) drop(g int32) {
	delete(h.groups, h.keys[g])
	if h.fixed != nil {
		if fk, ok := fixedKeyOf(h.keys[g], h.fixedCols); ok {
			h.fixed.del(fk)
		}
	}
	h.keys[g] = ""
	h.rows[g] = 0
	h.live[g] = false
	h.emitted[g] = false
	h.hasEnd[g] = false
	for _, a := range h.aggs {
		a.reset(g)
	}
	h.free = append(h.free, g)
}

// Groups is the number of groups held in state, for tests and metrics.
func (h *HashAgg) Groups() int { return len(h.groups) }

func newBuilders(alloc memory.Allocator, s *arrow.Schema) []array.Builder {
	bs := make([]array.Builder, s.NumFields())
	for i, f := range s.Fields() {
		bs[i] = array.NewBuilder(alloc, f.Type)
	}
	return bs
}

// finishRecord turns builders into a record and releases the builders.
func finishRecord(s *arrow.Schema, bs []array.Builder) arrow.Record {
	cols := make([]arrow.Array, len(bs))
	n := int64(0)
	for i, b := range bs {
		cols[i] = b.NewArray()
		n = int64(cols[i].Len())
		b.Release()
	}
	rec := array.NewRecord(s, cols, n)
	for _, c := range cols {
		c.Release()
	}
	return rec
}

func deletes(n int) []Op {
	ops := make([]Op, n)
	for i := range ops {
		ops[i] = Delete
	}
	return ops
}

// TrackChanges records changed groups for incremental checkpoints.
func (h *HashAgg) TrackChanges() { h.tracking = true }

// SaveChanges writes the groups changed since the last call (every live
// group when all is set) and deletes the released ones. A group's entry is
// its row count, whether its row is in the output, its window end and each
// aggregate's state, under its encoded key.
func (h *HashAgg) SaveChanges(d *StateDelta, all bool) {
	if all {
		for g := range h.keys {
			if h.live[g] {
				h.putGroup(d, int32(g))
			}
		}
	} else {
		for _, k := range h.ckGone {
			d.Delete(nil, k)
		}
		for _, g := range h.ckList {
			if h.ckDirty[g] && h.live[g] {
				h.putGroup(d, g)
			}
		}
	}
	for _, g := range h.ckList {
		h.ckDirty[g] = false
	}
	h.ckList, h.ckGone = h.ckList[:0], h.ckGone[:0]
	if h.spill != nil {
		h.spill.saved = d.Epoch
		for k, epoch := range h.gone {
			if epoch == 0 {
				h.gone[k] = d.Epoch
			}
		}
	}
}

func (h *HashAgg) putGroup(d *StateDelta, g int32) {
	h.writeGroup(d.Value(), g)
	d.Put(nil, h.keys[g])
}

// writeGroup writes group g's entry: what LoadEntry reads.
func (h *HashAgg) writeGroup(w *StateWriter, g int32) {
	w.Int(h.rows[g])
	w.Bool(h.emitted[g])
	w.Bool(h.hasEnd[g])
	w.Int(h.windowOf[g])
	for _, a := range h.aggs {
		a.save(w, g)
	}
}

// LoadEntry restores one group saved by SaveChanges.
func (h *HashAgg) LoadEntry(key, value []byte) error {
	r := NewStateReader(value)
	g := h.group(string(key), 0, nil)
	h.rows[g] = r.Int()
	h.emitted[g] = r.Bool()
	h.hasEnd[g] = r.Bool()
	h.windowOf[g] = r.Int()
	if h.hasEnd[g] {
		h.closing.add(h.windowOf[g], g)
	}
	for _, a := range h.aggs {
		if err := a.load(r, g); err != nil {
			return err
		}
	}
	return r.Done()
}

// EnableSpill lets the groups outgrow memory, unless they are windowed (freed
// at the watermark) or the one group of an aggregate without GROUP BY.
func (h *HashAgg) EnableSpill(store SpillStore, budget *MemoryBudget) bool {
	if h.global || h.node.WindowEnd >= 0 || !h.tracking {
		return false
	}
	h.spill = &spill{store: store, budget: budget}
	h.gone = map[string]uint64{}
	return true
}

// RecoverSpilled starts with every group in the store, reading only their
// keys.
func (h *HashAgg) RecoverSpilled() error {
	h.spill.spilled = true
	return h.spill.store.Scan(func(key, _ []byte) error {
		h.spill.stored.add(key)
		return nil
	})
}

// reload reads back from the store the groups of keys that are not in
// memory and may be there, in one sorted batch.
func (h *HashAgg) reload(keys [][]byte) error {
	h.missing = sortedCandidates(h.missing, keys, func(k []byte) bool {
		_, ok := h.groups[string(k)]
		return !ok && h.spill.stored.mayHave(k)
	})
	// A released group starts anew (once changed, it stays in memory until
	// a durable checkpoint holds it), and the store must not give its old
	// state back.
	h.missing = slices.DeleteFunc(h.missing, func(k []byte) bool {
		if _, ok := h.gone[string(k)]; ok {
			delete(h.gone, string(k))
			return true
		}
		return false
	})
	return h.spill.store.GetSorted(h.missing, func(i int, value []byte) error {
		h.spill.budget.reloaded.Add(1)
		return h.LoadEntry(h.missing[i], value)
	})
}

// forgetDurablyGone drops the released keys whose deletion a durable
// checkpoint holds.
func (h *HashAgg) forgetDurablyGone() {
	durable := h.spill.budget.durable.Load()
	if len(h.gone) == 0 || durable == h.goneSwept {
		return
	}
	h.goneSwept = durable
	for k, epoch := range h.gone {
		if epoch != 0 && epoch <= durable {
			delete(h.gone, k)
		}
	}
}

// evict drops share of the groups from memory, choosing among those
// unchanged since the last checkpoint, which is durable: their entries in
// the store are their current state.
func (h *HashAgg) evict(share float64) {
	target := evictCount(len(h.groups), share)
	evicted := 0
	for _, g := range h.groups {
		if evicted == target {
			break
		}
		if h.isDirty[g] || h.ckDirty[g] {
			continue
		}
		h.spill.stored.add([]byte(h.keys[g]))
		h.drop(g)
		evicted++
	}
	if evicted > 0 {
		h.spill.spilled = true
		h.spill.budget.evicted.Add(int64(evicted))
	}
}

// compactMinGroups is the size of the per-group arrays below which
// compacting them after an eviction is not worth it.
const compactMinGroups = 1 << 16

// compact gives back the memory of evicted groups. The per-group arrays
// and the map keep the size of the most groups ever held at once; when far
// fewer are left, the groups are renumbered into arrays and a map of their
// size, through the entries a checkpoint would write of them. It runs after
// the barrier's emission, when no group is waiting to be emitted.
func (h *HashAgg) compact() error {
	n := len(h.groups)
	keys := make([]string, 0, n)
	changed := make([]bool, 0, n)
	ends := make([]int, 0, n)
	var w StateWriter
	for k, g := range h.groups {
		keys = append(keys, k)
		changed = append(changed, h.ckDirty[g])
		h.writeGroup(&w, g)
		ends = append(ends, len(w.buf))
	}
	for j := range h.aggs {
		a, err := newAggregator(h.node.Aggs[j], h.node.InputAppendOnly)
		if err != nil {
			return err
		}
		h.aggs[j] = a
	}
	h.groups = make(map[string]int32, n)
	if h.fixed != nil {
		h.fixed = newFixedTable(n)
	}
	h.keys, h.rows, h.live, h.emitted, h.isDirty = nil, nil, nil, nil, nil
	h.windowOf, h.hasEnd, h.ckDirty, h.free = nil, nil, nil, nil
	h.ckList = make([]int32, 0, len(h.ckList))
	start := 0
	for i, k := range keys {
		if err := h.LoadEntry([]byte(k), w.buf[start:ends[i]]); err != nil {
			return fmt.Errorf("aggregate: compacting the groups: %w", err)
		}
		start = ends[i]
		if changed[i] {
			g := h.groups[k]
			h.ckDirty[g] = true
			h.ckList = append(h.ckList, g)
		}
	}
	return nil
}
