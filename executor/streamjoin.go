package executor

import (
	"context"
	"fmt"
	"sort"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
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
	side     [2]map[string]map[string]int64 // key -> row -> multiplicity
	size     [2]map[string]int64            // key -> rows on that side
	outer    [2]bool                        // side 0 (left) / 1 (right) is preserved
	residual *expr.Program
	ectx     *expr.EvalContext
	schema   *arrow.Schema
	// For a window join: when each key's window ends, to free it.
	closing byEnd[string]
	ends    map[string]int64
	// For an interval join: when each stored row can no longer match.
	expiring byEnd[storedRow]
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
		j.side[s] = map[string]map[string]int64{}
		j.size[s] = map[string]int64{}
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

// joinOut collects output rows: each is a left part and a right part (nil
// for NULLs), with an op.
type joinOut struct {
	j   *StreamJoin
	bs  []array.Builder
	ops []Op
}

func (o *joinOut) add(left, right string, op Op) {
	if o.bs == nil {
		o.bs = newBuilders(o.j.alloc, o.j.schema)
	}
	w := o.j.width[0]
	parts := [2]string{left, right}
	for s := 0; s < 2; s++ {
		bs := o.bs[:w]
		if s == 1 {
			bs = o.bs[w:]
		}
		if parts[s] == "" {
			for _, b := range bs {
				b.AppendNull()
			}
			continue
		}
		o.j.dec[s].Append(bs, []byte(parts[s]))
	}
	o.ops = append(o.ops, op)
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
	out := &joinOut{j: j}
	pair := func(mine, theirs string, op Op) {
		if me == 0 {
			out.add(mine, theirs, op)
		} else {
			out.add(theirs, mine, op)
		}
	}
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
				pair(row, "", op)
			}
			continue
		}
		matches := j.side[other][key]
		hadMine := j.size[me][key]
		// An outer other side: its rows of this key were NULL-padded while
		// this side had none; the first row here replaces that, the last
		// one gone brings it back.
		if j.outer[other] && op == Insert && hadMine == 0 && !j.node.Temporal {
			for r, cnt := range matches {
				for ; cnt > 0; cnt-- {
					pair("", r, Delete)
				}
			}
		}
		for r, cnt := range matches {
			for ; cnt > 0; cnt-- {
				pair(row, r, op)
			}
		}
		if len(matches) == 0 && j.outer[me] {
			pair(row, "", op)
		}
		if j.node.Temporal {
			continue // the stream side is looked up from, never into: no state
		}
		// Update this side's state.
		set := j.side[me][key]
		if set == nil {
			set = map[string]int64{}
			j.side[me][key] = set
			if j.ends != nil {
				if _, known := j.ends[key]; !known {
					end := int64At(keyCols[j.node.WindowKey], i) + j.node.WindowShift
					j.ends[key] = end
					j.closing.add(end, key)
				}
			}
		}
		if op == Insert {
			set[row]++
			j.size[me][key]++
			if j.node.HasTTL[me] {
				if tcol := c.Rec.Column(j.node.IntervalCol[me]); tcol.IsValid(i) {
					j.expiring.add(int64At(tcol, i)+j.node.TTL[me], storedRow{side: me, key: key, row: row})
				}
			}
		} else {
			if set[row]--; set[row] <= 0 {
				delete(set, row)
			}
			if j.size[me][key]--; j.size[me][key] <= 0 {
				delete(j.size[me], key)
				delete(j.side[me], key)
			}
		}
		if j.outer[other] && op == Delete && j.size[me][key] == 0 {
			for r, cnt := range matches {
				for ; cnt > 0; cnt-- {
					pair("", r, Insert)
				}
			}
		}
	}
	if out.bs == nil {
		return nil
	}
	rec := finishRecord(j.schema, out.bs)
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
		set := j.side[me][key]
		if c.OpAt(i) == Insert {
			if set == nil {
				set = map[string]int64{}
				j.side[me][key] = set
			}
			set[row]++
			j.size[me][key]++
			continue
		}
		if set == nil {
			continue
		}
		if set[row]--; set[row] <= 0 {
			delete(set, row)
		}
		if j.size[me][key]--; j.size[me][key] <= 0 {
			delete(j.size[me], key)
			delete(j.side[me], key)
		}
	}
	return nil
}

// Watermark frees the state of the windows of a window join that the
// watermark has passed: no row of theirs can arrive any more (it would be
// late), so their joined rows are final. Nothing is emitted.
func (j *StreamJoin) Watermark(_ context.Context, wm int64, _ Emit) error {
	// Interval join: a row whose time plus its bound is below the
	// watermark can meet no future row (its time would be late).
	for j.expiring.endsBy(wm - 1) {
		r := j.expiring.next().v
		set := j.side[r.side][r.key]
		if set[r.row] == 0 {
			continue // deleted meanwhile
		}
		if set[r.row]--; set[r.row] <= 0 {
			delete(set, r.row)
		}
		if j.size[r.side][r.key]--; j.size[r.side][r.key] <= 0 {
			delete(j.size[r.side], r.key)
			delete(j.side[r.side], r.key)
		}
	}
	for j.closing.endsBy(wm) {
		key := j.closing.next().v
		delete(j.ends, key)
		for s := 0; s < 2; s++ {
			delete(j.side[s], key)
			delete(j.size[s], key)
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

// SaveState writes each side's rows by key, the window end of each key of a
// window join, and the rows of an interval join waiting to expire (their
// order as a heap is kept, so loading needs no re-sort).
func (j *StreamJoin) SaveState(w *StateWriter) {
	for s := 0; s < 2; s++ {
		keys := make([]string, 0, len(j.side[s]))
		for k := range j.side[s] {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		w.Uint(uint64(len(keys)))
		for _, k := range keys {
			w.String(k)
			w.Int(j.size[s][k])
			w.Counts(j.side[s][k])
		}
	}
	w.Uint(uint64(len(j.ends)))
	for k, end := range j.ends {
		w.String(k)
		w.Int(end)
	}
	w.Uint(uint64(len(j.expiring)))
	for _, e := range j.expiring {
		w.Int(e.end)
		w.Uint(uint64(e.v.side))
		w.String(e.v.key)
		w.String(e.v.row)
	}
}

// LoadState reads what SaveState wrote.
func (j *StreamJoin) LoadState(r *StateReader) error {
	for s := 0; s < 2; s++ {
		n := r.Len()
		for i := 0; i < n && r.Err() == nil; i++ {
			k := r.String()
			j.size[s][k] = r.Int()
			j.side[s][k] = r.Counts()
		}
	}
	n := r.Len()
	if n > 0 && j.ends == nil {
		return fmt.Errorf("%w: window ends saved for a join that is not a window join", errCorruptState)
	}
	for i := 0; i < n && r.Err() == nil; i++ {
		k := r.String()
		end := r.Int()
		j.ends[k] = end
		j.closing.add(end, k)
	}
	n = r.Len()
	j.expiring = make(byEnd[storedRow], 0, n)
	for i := 0; i < n && r.Err() == nil; i++ {
		end, side := r.Int(), int(r.Uint())
		if side > 1 {
			return fmt.Errorf("%w: join side %d", errCorruptState, side)
		}
		j.expiring = append(j.expiring, ending[storedRow]{end: end, v: storedRow{side: side, key: r.String(), row: r.String()}})
	}
	return r.Err()
}
