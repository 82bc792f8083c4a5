package executor

import (
	"bytes"
	"context"
	"encoding/binary"
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
// A window join frees a key's rows once the watermark passes its window's
// end, an interval join a row once the watermark passes its time plus the
// side's bound; other joins keep rows as long as they are there.
type StreamJoin struct {
	node     *plan.Join
	alloc    memory.Allocator
	keyEnc   [2]*RowEncoder
	rowEnc   [2]*RowEncoder
	dec      [2]*RowDecoder
	storages [2][]storage // each side's row layout, to read a row's time
	arrowOf  [2]*arrow.Schema
	side     [2]map[string]*joinKey // each side's rows by join key
	outer    [2]bool                // side 0 (left) / 1 (right) is preserved
	residual *expr.Program
	ectx     *expr.EvalContext
	schema   *arrow.Schema
	nullKeys []bool // scratch: a chunk's rows with a NULL key
	// For a window join: when each key's window ends, to free it.
	closing byEnd[string]
	ends    map[string]int64
	// For an interval join: when the first row of a key can no longer
	// match, to look through the key's rows then. A key has one entry that
	// counts (at its expiresAt); others are stale and skipped.
	expiring byEnd[*joinKey]

	// For incremental checkpoints (when tracking): the keys changed since
	// the last SaveChanges, on each side.
	tracking bool
	changed  [2][]*joinKey
}

// joinKey is one side's rows of one join key. The rows are kept in one
// buffer per key rather than as a string each, so that storing a row costs
// no allocation of its own and a checkpoint writes the buffer as it is. An
// entry is the row's length (uvarint), the row, and its multiplicity
// (varint): the layout of StateWriter.Counts. An insert appends an entry
// of multiplicity 1, even for a row already there: the same row may have
// several entries, which the multiset counts together.
//
// In a checkpoint a key is a list of segments, each a run of entries: a
// checkpoint writes only the entries appended since the last one, as a new
// segment, so that a key that keeps gaining rows (an auction's bids) is not
// written whole every time. A removal, or too many segments, makes the next
// checkpoint write the key anew as one segment.
type joinKey struct {
	key     string
	side    int
	rows    []byte
	entries int   // the entries in rows
	size    int64 // the sum of the multiplicities
	changed bool  // in StreamJoin.changed
	gone    bool  // freed: no longer in StreamJoin.side
	// expiresAt, with hasExpiry, is when the key's first row expires: the
	// key's entry in StreamJoin.expiring.
	expiresAt int64
	hasExpiry bool

	// What the checkpoints hold: segments 0 to segments-1, covering
	// rows[:saved], which had savedEntries entries and savedSize rows.
	segments            int
	saved, savedEntries int
	savedSize           int64
	rewrite             bool // rows[:saved] changed since
}

// maxSegments is how many segments a key may have before a checkpoint
// writes it anew as one.
const maxSegments = 32

// count is the number of rows, 0 for a key without state.
func (k *joinKey) count() int64 {
	if k == nil {
		return 0
	}
	return k.size
}

// entry reads the entry at p: its row, its multiplicity and where the next
// entry starts.
func (k *joinKey) entry(p int) (row []byte, n int64, next int) {
	l, w := binary.Uvarint(k.rows[p:])
	start := p + w
	end := start + int(l)
	n, w = binary.Varint(k.rows[end:])
	return k.rows[start:end:end], n, end + w
}

// add appends n copies of row.
func (k *joinKey) add(row []byte, n int64) {
	k.rows = binary.AppendUvarint(k.rows, uint64(len(row)))
	k.rows = append(k.rows, row...)
	k.rows = binary.AppendVarint(k.rows, n)
	k.entries++
	k.size += n
}

// removeOne takes one copy of row out, reporting whether there was one.
func (k *joinKey) removeOne(row []byte) bool {
	for p := 0; p < len(k.rows); {
		r, n, next := k.entry(p)
		if !bytes.Equal(r, row) {
			p = next
			continue
		}
		k.size--
		k.rewrite = true
		if n == 1 {
			k.rows = append(k.rows[:p], k.rows[next:]...)
			k.entries--
			return true
		}
		countAt := next - varintLen(n)
		tail := append(binary.AppendVarint(nil, n-1), k.rows[next:]...)
		k.rows = append(k.rows[:countAt], tail...)
		return true
	}
	return false
}

func varintLen(n int64) int {
	var buf [binary.MaxVarintLen64]byte
	return binary.PutVarint(buf[:], n)
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
		all := allColumns(len(schemas[s]))
		j.keyEnc[s] = NewRowEncoder(keys[s], kt)
		j.rowEnc[s] = NewExactRowEncoder(all, schemas[s].Types())
		j.dec[s] = NewRowDecoder(schemas[s].Types())
		j.storages[s] = j.rowEnc[s].storages
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
// side (nil for NULLs). The chunk's side is gathered from the chunk's
// columns in one take per column; only the other side is decoded. The
// stored rows are read in place: Process changes only its own side's.
type joinOut struct {
	j      *StreamJoin
	me     int
	mine   []int32
	theirs [][]byte
	ops    []Op
}

func (o *joinOut) add(mine int32, theirs []byte, op Op) {
	o.mine = append(o.mine, mine)
	o.theirs = append(o.theirs, theirs)
	o.ops = append(o.ops, op)
}

// addMatches pairs row mine with every stored row of k, each as many times
// as it is there.
func (o *joinOut) addMatches(mine int32, k *joinKey, op Op) {
	if k == nil {
		return
	}
	for p := 0; p < len(k.rows); {
		row, n, next := k.entry(p)
		for ; n > 0; n-- {
			o.add(mine, row, op)
		}
		p = next
	}
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
	j.dec[other].AppendRows(bs, o.theirs) // nil decodes as NULLs
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
	keyCols := j.keyColumns(me, c.Rec)
	nullKeys := nullRows(keyCols, &j.nullKeys)
	out := &joinOut{j: j, me: me}
	for i := 0; i < n; i++ {
		op := c.OpAt(i)
		if nullKeys != nil && nullKeys[i] {
			// A NULL key matches nothing: only an outer side shows it.
			if j.outer[me] {
				out.add(int32(i), nil, op)
			}
			continue
		}
		theirs := j.side[other][string(keys[i])]
		mine := j.side[me][string(keys[i])]
		// An outer other side: its rows of this key were NULL-padded while
		// this side had none; the first row here replaces that, the last
		// one gone brings it back.
		if j.outer[other] && op == Insert && mine.count() == 0 && !j.node.Temporal {
			out.addMatches(-1, theirs, Delete)
		}
		out.addMatches(int32(i), theirs, op)
		if theirs.count() == 0 && j.outer[me] {
			out.add(int32(i), nil, op)
		}
		if j.node.Temporal {
			continue // the stream side is looked up from, never into: no state
		}
		if op == Insert {
			if mine == nil {
				mine = j.newKey(me, keys[i], keyCols, i)
			}
			j.insert(mine, rows[i], c.Rec, i)
			continue
		}
		if j.remove(mine, rows[i]) && j.outer[other] && mine.count() == 0 {
			out.addMatches(-1, theirs, Insert)
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
	keyCols := j.keyColumns(me, c.Rec)
	for i := range rows {
		k := j.side[me][string(keys[i])]
		if c.OpAt(i) == Insert {
			if k == nil {
				k = j.newKey(me, keys[i], keyCols, i)
			}
			j.insert(k, rows[i], c.Rec, i)
		} else {
			j.remove(k, rows[i])
		}
	}
	return nil
}

// nullRows marks the rows where some of cols is NULL, in scratch; nil when
// none is (the usual case, found without looking at a row).
func nullRows(cols []arrow.Array, scratch *[]bool) []bool {
	var marks []bool
	for _, c := range cols {
		if c.NullN() == 0 {
			continue
		}
		if marks == nil {
			*scratch = grow(*scratch, c.Len())
			marks = *scratch
			clear(marks)
		}
		for i := range marks {
			marks[i] = marks[i] || c.IsNull(i)
		}
	}
	return marks
}

// keyColumns are the join key columns of a chunk of side.
func (j *StreamJoin) keyColumns(side int, rec arrow.Record) []arrow.Array {
	cols := make([]arrow.Array, 0, len(j.node.LeftKeys))
	for _, k := range [2][]int{j.node.LeftKeys, j.node.RightKeys}[side] {
		cols = append(cols, rec.Column(k))
	}
	return cols
}

// newKey starts side's rows of key, whose row i of the chunk has the key
// columns keyCols. A window join learns when the key's window ends.
func (j *StreamJoin) newKey(side int, key []byte, keyCols []arrow.Array, i int) *joinKey {
	k := &joinKey{key: string(key), side: side}
	j.side[side][k.key] = k
	if j.ends != nil {
		if _, known := j.ends[k.key]; !known {
			end := int64At(keyCols[j.node.WindowKey], i) + j.node.WindowShift
			j.ends[k.key] = end
			j.closing.add(end, k.key)
		}
	}
	return k
}

// insert stores row, row i of rec, in k. On a side with a bound (an
// interval join), the row's expiry is remembered.
func (j *StreamJoin) insert(k *joinKey, row []byte, rec arrow.Record, i int) {
	j.touch(k)
	k.add(row, 1)
	if j.node.HasTTL[k.side] {
		if tcol := rec.Column(j.node.IntervalCol[k.side]); tcol.IsValid(i) {
			j.expireBy(k, int64At(tcol, i)+j.node.TTL[k.side])
		}
	}
}

// expireBy makes sure k is looked through by the time its row expiring at
// at can no longer match.
func (j *StreamJoin) expireBy(k *joinKey, at int64) {
	if !k.hasExpiry || at < k.expiresAt {
		k.expiresAt, k.hasExpiry = at, true
		j.expiring.add(at, k)
	}
}

// remove takes one copy of row out of k, forgetting the key once it has
// none. It reports whether k had the row.
func (j *StreamJoin) remove(k *joinKey, row []byte) bool {
	if k == nil || !k.removeOne(row) {
		return false
	}
	j.touch(k)
	j.forgetIfEmpty(k)
	return true
}

func (j *StreamJoin) forgetIfEmpty(k *joinKey) {
	if k.size <= 0 {
		j.forget(k)
	}
}

// forget frees k.
func (j *StreamJoin) forget(k *joinKey) {
	j.touch(k)
	k.gone = true
	delete(j.side[k.side], k.key)
}

// Watermark frees the state the watermark has passed: nothing is emitted,
// the joined rows of that state are final.
func (j *StreamJoin) Watermark(_ context.Context, wm int64, _ Emit) error {
	// Interval join: a row whose time plus its bound is below the
	// watermark can meet no future row (its time would be late).
	for j.expiring.endsBy(wm - 1) {
		e := j.expiring.next()
		if k := e.v; !k.gone && k.hasExpiry && k.expiresAt == e.end {
			j.expire(k, wm)
		}
	}
	// Window join: a key's window is over, on both sides.
	for j.closing.endsBy(wm) {
		key := j.closing.next().v
		delete(j.ends, key)
		for s := 0; s < 2; s++ {
			if k := j.side[s][key]; k != nil {
				j.forget(k)
			}
		}
	}
	return nil
}

// expire drops the rows of k whose time plus the side's bound is below wm,
// and sets when the first of the others expires.
func (j *StreamJoin) expire(k *joinKey, wm int64) {
	col, ttl := j.node.IntervalCol[k.side], j.node.TTL[k.side]
	var first int64
	expires := false
	kept := k.rows[:0]
	for p := 0; p < len(k.rows); {
		row, n, next := k.entry(p)
		t, ok := int64Field(j.storages[k.side], row, col)
		if ok && t+ttl < wm {
			k.entries--
			k.size -= n
		} else {
			// The entry moves down over dropped ones; copy handles overlap.
			kept = append(kept, k.rows[p:next]...)
			if ok && (!expires || t+ttl < first) {
				first, expires = t+ttl, true
			}
		}
		p = next
	}
	k.hasExpiry = false
	if expires {
		j.expireBy(k, first)
	}
	if len(kept) != len(k.rows) {
		k.rows = kept
		k.rewrite = true
		j.touch(k)
		j.forgetIfEmpty(k)
	}
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

// touch records that k changed, for the next checkpoint.
func (j *StreamJoin) touch(k *joinKey) {
	if j.tracking && !k.changed {
		k.changed = true
		j.changed[k.side] = append(j.changed[k.side], k)
	}
}

// TrackChanges records changed keys for incremental checkpoints.
func (j *StreamJoin) TrackChanges() { j.tracking = true }

// SaveChanges writes the keys of each side changed since the last call
// (all of them when all is set): each key's new segment, or the whole key
// anew, and deletes for the segments of freed keys. A segment's entry holds,
// for a window join, the key's window end, then its rows with their
// multiplicities. Segment 0 is under the side and the key (the form of a
// key written whole, as before segments), the others under
// segmentPrefix[side], the key and the segment's number.
func (j *StreamJoin) SaveChanges(d *StateDelta, all bool) {
	for side := 0; side < 2; side++ {
		for _, k := range j.changed[side] {
			k.changed = false
			switch {
			case all:
			case k.gone:
				// A key started again since comes later in the list: its
				// writes follow these deletes.
				j.deleteSegments(d, k, 0)
				k.segments = 0
			default:
				j.saveKey(d, k)
			}
		}
		clear(j.changed[side])
		j.changed[side] = j.changed[side][:0]
		if all {
			// The stored entries are replaced by these: no deletes.
			for _, k := range j.side[side] {
				k.segments = 0
				j.saveKey(d, k)
			}
		}
	}
}

// saveKey writes what k has gained since the last checkpoint.
func (j *StreamJoin) saveKey(d *StateDelta, k *joinKey) {
	if k.rewrite || k.segments == 0 || k.segments >= maxSegments {
		j.putSegment(d, k, 0, k.rows, k.entries, k.size)
		j.deleteSegments(d, k, 1)
		k.segments, k.rewrite = 1, false
	} else if len(k.rows) > k.saved {
		j.putSegment(d, k, k.segments, k.rows[k.saved:], k.entries-k.savedEntries, k.size-k.savedSize)
		k.segments++
	}
	k.saved, k.savedEntries, k.savedSize = len(k.rows), k.entries, k.size
}

func (j *StreamJoin) putSegment(d *StateDelta, k *joinKey, seg int, rows []byte, entries int, size int64) {
	w := d.Value()
	end, hasEnd := j.ends[k.key]
	w.Bool(hasEnd)
	w.Int(end)
	w.Int(size)
	w.Uint(uint64(entries))
	w.Raw(rows)
	if seg == 0 {
		d.Put(sidePrefix[k.side], k.key)
	} else {
		d.Put(segmentPrefix[k.side], segmentKey(k.key, seg))
	}
}

// deleteSegments deletes k's segments from the first on.
func (j *StreamJoin) deleteSegments(d *StateDelta, k *joinKey, first int) {
	for seg := first; seg < k.segments; seg++ {
		if seg == 0 {
			d.Delete(sidePrefix[k.side], k.key)
		} else {
			d.Delete(segmentPrefix[k.side], segmentKey(k.key, seg))
		}
	}
}

// segmentKey is key followed by seg, four bytes big-endian: the loader
// takes the number from the end, since keys vary in length.
func segmentKey(key string, seg int) string {
	return string(binary.BigEndian.AppendUint32([]byte(key), uint32(seg)))
}

// sidePrefix starts the entry keys of each side's segment 0, segmentPrefix
// those of the other segments.
var (
	sidePrefix    = [2][]byte{{'0'}, {'1'}}
	segmentPrefix = [2][]byte{{'2'}, {'3'}}
)

// LoadEntry restores one segment of one side's rows of a key. An interval
// join's rows get their expiry again from their time column.
func (j *StreamJoin) LoadEntry(entry, value []byte) error {
	if len(entry) == 0 || entry[0] < '0' || entry[0] > '3' {
		return fmt.Errorf("%w: join entry %q", errCorruptState, entry)
	}
	side, key, seg := int(entry[0]-'0'), entry[1:], 0
	if side >= 2 {
		if len(key) < 4 {
			return fmt.Errorf("%w: join entry %q", errCorruptState, entry)
		}
		side -= 2
		seg = int(binary.BigEndian.Uint32(key[len(key)-4:]))
		key = key[:len(key)-4]
	}
	r := NewStateReader(value)
	hasEnd, end := r.Bool(), r.Int()
	size := r.Int()
	k := j.side[side][string(key)]
	if k == nil {
		k = &joinKey{key: string(key), side: side}
		j.side[side][k.key] = k
	}
	from, sizeBefore := len(k.rows), k.size
	for n := r.Len(); n > 0 && r.Err() == nil; n-- {
		row := r.Blob()
		k.add(row, r.Int())
	}
	if err := r.Done(); err != nil {
		return err
	}
	if k.size-sizeBefore != size {
		return fmt.Errorf("%w: join entry %q holds %d rows, says %d", errCorruptState, entry, k.size-sizeBefore, size)
	}
	k.segments = max(k.segments, seg+1)
	k.saved, k.savedEntries, k.savedSize = len(k.rows), k.entries, k.size
	if hasEnd && j.ends != nil {
		if _, known := j.ends[k.key]; !known {
			j.ends[k.key] = end
			j.closing.add(end, k.key)
		}
	}
	if j.node.HasTTL[side] {
		col, ttl := j.node.IntervalCol[side], j.node.TTL[side]
		for p := from; p < len(k.rows); {
			row, _, next := k.entry(p)
			if t, ok := int64Field(j.storages[side], row, col); ok {
				j.expireBy(k, t+ttl)
			}
			p = next
		}
	}
	return nil
}
