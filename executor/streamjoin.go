package executor

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sluicedb/sluice/expr"
	"github.com/sluicedb/sluice/plan"
	"github.com/sluicedb/sluice/types"
)

// StreamJoin is an incremental equi-join of two changing inputs (input 0 is
// the left side, 1 the right). Each side keeps its current rows by join key,
// as a multiset, so that an insert or a delete on one side is matched
// against the other side's rows and emitted as inserts or deletes of joined
// rows. Outer joins also keep, per key, whether the key has a match: when a
// key gains its first match, the NULL-padded rows are retracted and the
// joined rows emitted, and the reverse when it loses its last.
//
// The state lives as long as the rows do: joins over windows and intervals,
// whose state the watermark can free, are a later step.
type StreamJoin struct {
	node     *plan.Join
	alloc    memory.Allocator
	keyEnc   [2]*RowEncoder
	rowEnc   [2]*RowEncoder
	dec      [2]*RowDecoder
	width    [2]int
	arrowOf  [2]*arrow.Schema       // each side's rows
	side     [2]map[string]*joinKey // each side's rows by join key
	outer    [2]bool                // side 0 (left) / 1 (right) is preserved
	residual *expr.Program
	ectx     *expr.EvalContext
	schema   *arrow.Schema
	// For a window join: when each key's window ends, to free it.
	closing byEnd[string]
	ends    map[string]int64
	// For an interval join: when each stored row can no longer match.
	expiring byEnd[storedRow]

	// For incremental checkpoints (when tracking): the keys of each side
	// changed since the last SaveChanges.
	tracking bool
	ckDirty  [2]map[string]struct{}
}

type storedRow struct {
	side     int
	key, row string
}

// NewStreamJoin builds the streaming join of n. A residual predicate is only
// allowed on inner joins (the planner checks).
func NewStreamJoin(n *plan.Join, ectx *expr.EvalContext) (*StreamJoin, error) {
	j := &StreamJoin{node: n, alloc: ectx.Alloc, ectx: ectx, schema: n.Cols.Arrow()}
	schemas := [2]types.Schema{n.Left.Schema(), n.Right.Schema()}
	keys := [2][]int{n.LeftKeys, n.RightKeys}
	for s := 0; s < 2; s++ {
		kt := make([]types.T, len(keys[s]))
		for i, k := range keys[s] {
			kt[i] = schemas[s][k].Type
		}
		all := make([]int, len(schemas[s]))
		for i := range all {
			all[i] = i
		}
		j.keyEnc[s] = NewRowEncoder(keys[s], kt)
		j.rowEnc[s] = NewExactRowEncoder(all, schemas[s].Types())
		j.dec[s] = NewRowDecoder(schemas[s].Types())
		j.width[s] = len(schemas[s])
		j.arrowOf[s] = schemas[s].Arrow()
		j.side[s] = map[string]*joinKey{}
	}
	if n.WindowKey >= 0 {
		j.ends = map[string]int64{}
	}
	j.outer[0] = n.Type == plan.LeftJoin || n.Type == plan.FullJoin
	j.outer[1] = n.Type == plan.RightJoin || n.Type == plan.FullJoin
	if n.Residual != nil {
		if n.Type != plan.InnerJoin {
			return nil, fmt.Errorf("a streaming outer join takes only equality conditions")
		}
		prog, err := expr.Compile(n.Residual)
		if err != nil {
			return nil, err
		}
		j.residual = prog
	}
	return j, nil
}

// joinOut collects the output rows of one chunk of side me: each pairs a
// row of the chunk (by index, -1 for NULLs) with a stored row of the other
// side (its encoding, "" for NULLs). The chunk's side is gathered from the
// chunk's columns in one take per column; only the other side is decoded.
type joinOut struct {
	j      *StreamJoin
	me     int
	mine   []int32
	theirs []string
	ops    []Op
}

func (o *joinOut) add(mine int32, theirs string, op Op) {
	o.mine = append(o.mine, mine)
	o.theirs = append(o.theirs, theirs)
	o.ops = append(o.ops, op)
}

// record builds the output rows, in the join's schema (left then right).
func (o *joinOut) record(ctx context.Context, in arrow.Record) (arrow.Record, error) {
	j, n := o.j, len(o.ops)
	nulls := 0
	var valid []byte
	for k, i := range o.mine {
		if i >= 0 {
			continue
		}
		if valid == nil {
			valid = make([]byte, bitutil.BytesForBits(int64(n)))
			bitutil.SetBitsTo(valid, 0, int64(n), true)
		}
		bitutil.ClearBit(valid, k)
		o.mine[k] = 0 // any row: the slot is NULL
		nulls++
	}
	mine := make([]arrow.Array, in.NumCols())
	if err := takeColumns(ctx, in.Columns(), o.mine, valid, nulls, mine); err != nil {
		return nil, err
	}
	defer releaseAll(mine)
	other := 1 - o.me
	bs := newBuilders(j.alloc, j.arrowOf[other])
	j.dec[other].AppendStrings(bs, o.theirs) // "" decodes as NULLs
	theirs := make([]arrow.Array, len(bs))
	for k, b := range bs {
		theirs[k] = b.NewArray()
		b.Release()
	}
	defer releaseAll(theirs)
	cols := append(append([]arrow.Array(nil), mine...), theirs...)
	if o.me == 1 {
		cols = append(append([]arrow.Array(nil), theirs...), mine...)
	}
	return array.NewRecord(j.schema, cols, int64(n)), nil
}

// Process applies a chunk of one side.
func (j *StreamJoin) Process(ctx context.Context, input int, c Chunk, emit Emit) error {
	n := c.Len()
	if n == 0 {
		return nil
	}
	me, other := input, 1-input
	if j.node.Temporal {
		if me == 1 {
			// The looked-up side only changes the state: rows already
			// joined stay as they were.
			return j.applyState(me, c)
		}
		if c.Ops != nil && !allInserts(c.Ops) {
			return fmt.Errorf("a temporal join's left side must be append-only")
		}
	}
	keys := j.keyEnc[me].Encode(c.Rec)
	rows := j.rowEnc[me].Encode(c.Rec)
	keyCols := make([]arrow.Array, 0, len(j.node.LeftKeys))
	for _, k := range [2][]int{j.node.LeftKeys, j.node.RightKeys}[me] {
		keyCols = append(keyCols, c.Rec.Column(k))
	}
	out := &joinOut{j: j, me: me}
	pair := out.add
	for i := 0; i < n; i++ {
		row, key := string(rows[i]), string(keys[i])
		nullKey := false
		for _, kc := range keyCols {
			if kc.IsNull(i) {
				nullKey = true
			}
		}
		op := c.OpAt(i)
		if nullKey {
			// A NULL key matches nothing: only an outer side shows it.
			if j.outer[me] {
				pair(int32(i), "", op)
			}
			continue
		}
		var matches map[string]int64
		if theirs := j.side[other][key]; theirs != nil {
			matches = theirs.rows
		}
		mine := j.side[me][key]
		hadMine := mine.count()
		// An outer other side: its rows of this key were NULL-padded while
		// this side had none; the first row here replaces that, the last
		// one gone brings it back.
		if j.outer[other] && op == Insert && hadMine == 0 && !j.node.Temporal {
			for r, cnt := range matches {
				for ; cnt > 0; cnt-- {
					pair(-1, r, Delete)
				}
			}
		}
		for r, cnt := range matches {
			for ; cnt > 0; cnt-- {
				pair(int32(i), r, op)
			}
		}
		if len(matches) == 0 && j.outer[me] {
			pair(int32(i), "", op)
		}
		if j.node.Temporal {
			continue // the stream side is looked up from, never into: no state
		}
		// Update this side's state.
		j.touch(me, key)
		if mine == nil {
			mine = &joinKey{rows: map[string]int64{}}
			j.side[me][key] = mine
			if j.ends != nil {
				if _, known := j.ends[key]; !known {
					end := int64At(keyCols[j.node.WindowKey], i) + j.node.WindowShift
					j.ends[key] = end
					j.closing.add(end, key)
				}
			}
		}
		if op == Insert {
			mine.rows[row]++
			mine.size++
			if j.node.HasTTL[me] {
				if tcol := c.Rec.Column(j.node.IntervalCol[me]); tcol.IsValid(i) {
					j.expiring.add(int64At(tcol, i)+j.node.TTL[me], storedRow{side: me, key: key, row: row})
				}
			}
		} else {
			j.remove(me, key, mine, row)
		}
		if j.outer[other] && op == Delete && mine.size <= 0 {
			for r, cnt := range matches {
				for ; cnt > 0; cnt-- {
					pair(-1, r, Insert)
				}
			}
		}
	}
	if len(out.ops) == 0 {
		return nil
	}
	rec, err := out.record(ctx, c.Rec)
	if err != nil {
		return err
	}
	defer rec.Release()
	ops := out.ops
	if j.residual != nil {
		res, err := j.residual.Eval(j.ectx, rec)
		if err != nil {
			return err
		}
		defer res.Release()
		mask := res.(*array.Boolean)
		keep := make([]bool, mask.Len())
		var kept []Op
		for i := range keep {
			keep[i] = mask.IsValid(i) && mask.Value(i)
			if keep[i] {
				kept = append(kept, ops[i])
			}
		}
		var idx []int32
		filtered, err := filterRecord(ctx, rec, keep, j.alloc, &idx)
		if err != nil {
			return err
		}
		defer filtered.Release()
		rec, ops = filtered, kept
		if rec.NumRows() == 0 {
			return nil
		}
	}
	if allInserts(ops) {
		ops = nil
	}
	return emit(ctx, Chunk{Rec: rec, Ops: ops})
}

// applyState folds a chunk of side me into the state without emitting.
func (j *StreamJoin) applyState(me int, c Chunk) error {
	keys := j.keyEnc[me].Encode(c.Rec)
	rows := j.rowEnc[me].Encode(c.Rec)
	for i := range rows {
		key, row := string(keys[i]), string(rows[i])
		j.touch(me, key)
		k := j.side[me][key]
		if c.OpAt(i) == Insert {
			if k == nil {
				k = &joinKey{rows: map[string]int64{}}
				j.side[me][key] = k
			}
			k.rows[row]++
			k.size++
			continue
		}
		if k != nil {
			j.remove(me, key, k, row)
		}
	}
	return nil
}

// joinKey is one side's rows of one join key, with their multiplicities.
type joinKey struct {
	rows map[string]int64
	size int64 // the sum of the multiplicities
}

// count is the number of rows, 0 for a key without state.
func (k *joinKey) count() int64 {
	if k == nil {
		return 0
	}
	return k.size
}

// remove takes one copy of row out of side's rows of key, forgetting the key
// once it has none.
func (j *StreamJoin) remove(side int, key string, k *joinKey, row string) {
	if k.rows[row]--; k.rows[row] <= 0 {
		delete(k.rows, row)
	}
	if k.size--; k.size <= 0 {
		delete(j.side[side], key)
	}
}

// Watermark frees the state of the windows of a window join that the
// watermark has passed: no row of theirs can arrive any more (it would be
// late), so their joined rows are final. Nothing is emitted.
func (j *StreamJoin) Watermark(_ context.Context, wm int64, _ Emit) error {
	// Interval join: a row whose time plus its bound is below the
	// watermark can meet no future row (its time would be late).
	for j.expiring.endsBy(wm - 1) {
		r := j.expiring.next().v
		k := j.side[r.side][r.key]
		if k == nil || k.rows[r.row] == 0 {
			continue // deleted meanwhile
		}
		j.touch(r.side, r.key)
		j.remove(r.side, r.key, k, r.row)
	}
	for j.closing.endsBy(wm) {
		key := j.closing.next().v
		delete(j.ends, key)
		for s := 0; s < 2; s++ {
			j.touch(s, key)
			delete(j.side[s], key)
		}
	}
	return nil
}

// Keys is the number of join keys held in state, for tests and metrics.
func (j *StreamJoin) Keys() int { return len(j.side[0]) + len(j.side[1]) }

func allInserts(ops []Op) bool {
	for _, op := range ops {
		if op == Delete {
			return false
		}
	}
	return true
}

// touch records that side's rows of key changed, for the next checkpoint.
func (j *StreamJoin) touch(side int, key string) {
	if j.tracking {
		j.ckDirty[side][key] = struct{}{}
	}
}

// TrackChanges records changed keys for incremental checkpoints.
func (j *StreamJoin) TrackChanges() {
	j.tracking = true
	j.ckDirty = [2]map[string]struct{}{{}, {}}
}

// SaveChanges writes the keys of each side changed since the last call
// (all of them when all is set). An entry, under the side and the key, holds
// the side's rows of the key with their multiplicities and, for a window
// join, the key's window end; a key without rows is deleted.
func (j *StreamJoin) SaveChanges(d *StateDelta, all bool) {
	for side := 0; side < 2; side++ {
		if all {
			for key := range j.side[side] {
				j.putKey(d, side, key)
			}
		} else {
			for key := range j.ckDirty[side] {
				if _, ok := j.side[side][key]; ok {
					j.putKey(d, side, key)
				} else {
					d.Delete(sidePrefix[side], key)
				}
			}
		}
		clear(j.ckDirty[side])
	}
}

func (j *StreamJoin) putKey(d *StateDelta, side int, key string) {
	w := d.Value()
	end, hasEnd := j.ends[key]
	w.Bool(hasEnd)
	w.Int(end)
	k := j.side[side][key]
	w.Int(k.size)
	w.Counts(k.rows)
	d.Put(sidePrefix[side], key)
}

// sidePrefix starts the entry keys of each side.
var sidePrefix = [2][]byte{{'0'}, {'1'}}

// LoadEntry restores one side's rows of a key. An interval join's rows get
// their expiry again from their time column.
func (j *StreamJoin) LoadEntry(entry, value []byte) error {
	if len(entry) == 0 || (entry[0] != '0' && entry[0] != '1') {
		return fmt.Errorf("%w: join entry %q", errCorruptState, entry)
	}
	side, key := int(entry[0]-'0'), string(entry[1:])
	r := NewStateReader(value)
	hasEnd, end := r.Bool(), r.Int()
	size := r.Int()
	rows := r.Counts()
	if err := r.Done(); err != nil {
		return err
	}
	j.side[side][key] = &joinKey{rows: rows, size: size}
	if hasEnd && j.ends != nil {
		if _, known := j.ends[key]; !known {
			j.ends[key] = end
			j.closing.add(end, key)
		}
	}
	if j.node.HasTTL[side] {
		j.expireAgain(side, key, rows)
	}
	return nil
}

// expireAgain puts the stored rows of an interval join's side back on the
// expiry heap, once per copy, as Process did when they arrived.
func (j *StreamJoin) expireAgain(side int, key string, rows map[string]int64) {
	list := make([]string, 0, len(rows))
	for row := range rows {
		list = append(list, row)
	}
	bs := newBuilders(j.alloc, j.arrowOf[side])
	j.dec[side].AppendStrings(bs, list)
	rec := finishRecord(j.arrowOf[side], bs)
	defer rec.Release()
	tcol := rec.Column(j.node.IntervalCol[side])
	for i, row := range list {
		if tcol.IsValid(i) {
			for n := rows[row]; n > 0; n-- {
				j.expiring.add(int64At(tcol, i)+j.node.TTL[side], storedRow{side: side, key: key, row: row})
			}
		}
	}
}
