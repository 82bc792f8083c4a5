package executor

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"sort"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sluicedb/sluice/plan"
	"github.com/sluicedb/sluice/types"
)

// TopN keeps the first rows of each partition in an order and emits the
// changes to them (ROW_NUMBER(), RANK() or DENSE_RANK() ... WHERE rn <= N).
//
// Each row is kept as one byte string: an order-preserving encoding of its
// sort key followed by the exact encoding of the whole row. Comparing two
// such strings bytewise compares the sort keys and breaks ties on the row,
// so the order is total and deterministic, and a partition is a sorted
// slice of them. Over a retracting input every row is kept, since deleting
// a top row promotes the next one; over an append-only input a row that
// falls out of the top can never return and only the top rows are kept
// (Limit of them, more when RANK() or DENSE_RANK() keeps ties).
//
// The first time a partition changes in an epoch, its top rows are saved;
// at the barrier (Finish in batch mode) the saved rows are compared with
// the new top and only the difference is emitted: deletes of rows that left
// or changed rank, then inserts of rows that entered or changed rank.
// Without a rank column a row that only moves within the top is no change.
type TopN struct {
	node       *plan.TopN
	alloc      memory.Allocator
	limit      int
	appendOnly bool

	partEnc *RowEncoder
	ordEnc  *orderEncoder
	rowEnc  *RowEncoder
	rowDec  *RowDecoder
	inType  *arrow.Schema // the input columns
	outType *arrow.Schema

	parts map[string]*topNPartition
	dirty []*topNPartition
	// Scratch for the ranks of a partition's old and current top rows.
	oldRanks, curRanks []int
	// For a Top-N per event-time window: when each partition's window ends.
	closing byEnd[*topNPartition]

	// For incremental checkpoints (when tracking): the partitions changed
	// or dropped since the last SaveChanges.
	tracking bool
	changed  []*topNPartition
}

// topNRow is a kept row: its order key then its exact encoding, which
// starts at ordLen.
type topNRow struct {
	b      []byte
	ordLen int
}

type topNPartition struct {
	key   string
	rows  []topNRow // in order
	old   []topNRow // the top rows at the last emission; valid while dirty
	dirty bool
	// changed: in TopN.changed, for the next checkpoint.
	changed bool
	// end is the partition's window end, for a Top-N per window.
	end    int64
	hasEnd bool
}

// NewTopN builds the operator of n. inputAppendOnly lets it keep only
// the top rows of each partition; batch mode, whose input only inserts, sets it.
func NewTopN(n *plan.TopN, alloc memory.Allocator, inputAppendOnly bool) (*TopN, error) {
	in := n.Input.Schema()
	ts := in.Types()
	all := allColumns(len(in))
	partTypes := make([]types.T, len(n.PartitionBy))
	for i, c := range n.PartitionBy {
		partTypes[i] = ts[c]
	}
	limit := int(min(n.Limit, math.MaxInt32))
	return &TopN{
		node:       n,
		alloc:      alloc,
		limit:      limit,
		appendOnly: inputAppendOnly,
		partEnc:    NewRowEncoder(n.PartitionBy, partTypes),
		ordEnc:     newOrderEncoder(n.Order, ts),
		rowEnc:     NewExactRowEncoder(all, ts),
		rowDec:     NewRowDecoder(ts),
		inType:     in.Arrow(),
		outType:    n.Cols.Arrow(),
		parts:      make(map[string]*topNPartition),
	}, nil
}

// Process folds a chunk into the partitions.
func (t *TopN) Process(_ context.Context, _ int, c Chunk, _ Emit) error {
	n := c.Len()
	if n == 0 || t.limit == 0 {
		return nil
	}
	parts := t.partEnc.Encode(c.Rec)
	ords := t.ordEnc.encode(c.Rec)
	rows := t.rowEnc.Encode(c.Rec)
	for i := 0; i < n; i++ {
		p, ok := t.parts[string(parts[i])]
		if !ok {
			p = &topNPartition{key: string(parts[i])}
			t.parts[p.key] = p
			if wp := t.node.WindowPart; wp >= 0 {
				if col := c.Rec.Column(t.node.PartitionBy[wp]); col.IsValid(i) {
					p.end, p.hasEnd = int64At(col, i)+t.node.WindowShift, true
					t.closing.add(p.end, p)
				}
			}
		}
		if !p.dirty {
			p.dirty = true
			p.old = append(p.old[:0], p.rows[:t.kept(p.rows)]...)
			t.dirty = append(t.dirty, p)
			t.touch(p)
		}
		ord, row := ords[i], rows[i]
		at := p.search(ord, row)
		if c.OpAt(i) == Delete {
			if at < len(p.rows) && p.rows[at].equals(ord, row) {
				p.rows = append(p.rows[:at], p.rows[at+1:]...)
			}
			continue
		}
		if t.appendOnly && at > t.kept(p.rows) {
			continue // below the top, for good
		}
		b := make([]byte, 0, len(ord)+len(row))
		b = append(append(b, ord...), row...)
		p.rows = append(p.rows, topNRow{})
		copy(p.rows[at+1:], p.rows[at:])
		p.rows[at] = topNRow{b: b, ordLen: len(ord)}
		if t.appendOnly {
			// An insert only pushes rows down: one past the kept rows stays
			// out for good.
			k := t.kept(p.rows)
			clear(p.rows[k:])
			p.rows = p.rows[:k]
		}
	}
	return nil
}

// kept returns how many of rows, in order, have a rank within the limit.
// For RANK() and DENSE_RANK() rows that tie with a kept row are kept too.
func (t *TopN) kept(rows []topNRow) int {
	switch t.node.Func {
	case plan.Rank:
		if len(rows) <= t.limit {
			return len(rows)
		}
		if t.limit == 0 {
			return 0
		}
		n := t.limit
		for n < len(rows) && rows[n].tiesWith(rows[t.limit-1]) {
			n++
		}
		return n
	case plan.DenseRank:
		distinct := 0
		for i := range rows {
			if i == 0 || !rows[i].tiesWith(rows[i-1]) {
				distinct++
				if distinct > t.limit {
					return i
				}
			}
		}
		return len(rows)
	}
	return min(len(rows), t.limit)
}

// ranks appends to dst the rank of each of rows, which are in order.
func (t *TopN) ranks(dst []int, rows []topNRow) []int {
	dst = dst[:0]
	for i := range rows {
		var r int
		switch {
		case i == 0:
			r = 1
		case t.node.Func == plan.RowNumber:
			r = i + 1
		case rows[i].tiesWith(rows[i-1]):
			r = dst[i-1]
		case t.node.Func == plan.Rank:
			r = i + 1
		default: // DENSE_RANK
			r = dst[i-1] + 1
		}
		dst = append(dst, r)
	}
	return dst
}

// search returns the position of the first kept row not before (ord, row).
func (p *topNPartition) search(ord, row []byte) int {
	return sort.Search(len(p.rows), func(i int) bool {
		return p.rows[i].compare(ord, row) >= 0
	})
}

func (r topNRow) compare(ord, row []byte) int {
	if c := bytes.Compare(r.b[:r.ordLen], ord); c != 0 {
		return c
	}
	return bytes.Compare(r.b[r.ordLen:], row)
}

// tiesWith reports whether r and o have the same sort key.
func (r topNRow) tiesWith(o topNRow) bool {
	return bytes.Equal(r.b[:r.ordLen], o.b[:o.ordLen])
}

func (r topNRow) equals(ord, row []byte) bool {
	return r.ordLen == len(ord) && bytes.Equal(r.b[:r.ordLen], ord) && bytes.Equal(r.b[r.ordLen:], row)
}

// Barrier emits the changes of the epoch.
func (t *TopN) Barrier(ctx context.Context, _ Barrier, emit Emit) error {
	return t.flush(ctx, emit)
}

// Finish emits the result of a bounded input.
func (t *TopN) Finish(ctx context.Context, emit Emit) error {
	return t.flush(ctx, emit)
}

// flush emits, for each partition changed since the last flush, the
// difference between its saved top rows and its current ones.
func (t *TopN) flush(ctx context.Context, emit Emit) error {
	if len(t.dirty) == 0 {
		return nil
	}
	var dels, ins topNOut
	add := func(out *topNOut, r topNRow, rank int) {
		out.rows = append(out.rows, r.b[r.ordLen:])
		out.ranks = append(out.ranks, int64(rank))
	}
	for _, p := range t.dirty {
		cur := p.rows[:t.kept(p.rows)]
		// Both lists are sorted by row and, along them, ranks only grow: a
		// merge on (row, rank) finds the multiset difference. Without a rank
		// column a row that only changed rank is no change.
		oldRanks, curRanks := t.oldRanks[:0], t.curRanks[:0]
		if t.node.RankCol {
			oldRanks, curRanks = t.ranks(oldRanks, p.old), t.ranks(curRanks, cur)
		}
		rankAt := func(ranks []int, i int) int {
			if len(ranks) == 0 {
				return 0
			}
			return ranks[i]
		}
		i, j := 0, 0
		for i < len(p.old) || j < len(cur) {
			c := 0
			switch {
			case i == len(p.old):
				c = 1
			case j == len(cur):
				c = -1
			default:
				c = bytes.Compare(p.old[i].b, cur[j].b)
				if c == 0 {
					c = cmp.Compare(rankAt(oldRanks, i), rankAt(curRanks, j))
				}
			}
			switch {
			case c == 0:
				i++
				j++
			case c < 0:
				add(&dels, p.old[i], rankAt(oldRanks, i))
				i++
			default:
				add(&ins, cur[j], rankAt(curRanks, j))
				j++
			}
		}
		t.oldRanks, t.curRanks = oldRanks, curRanks
		clear(p.old)
		p.old = p.old[:0]
		p.dirty = false
		if len(p.rows) == 0 {
			delete(t.parts, p.key)
		}
	}
	clear(t.dirty)
	t.dirty = t.dirty[:0]
	for _, out := range []struct {
		topNOut
		del bool
	}{{dels, true}, {ins, false}} {
		if len(out.rows) == 0 {
			continue
		}
		bs := newBuilders(t.alloc, t.outType)
		t.rowDec.AppendRows(bs, out.rows)
		if t.node.RankCol {
			bs[len(bs)-1].(*array.Int64Builder).AppendValues(out.ranks, nil)
		}
		rec := finishRecord(t.outType, bs)
		c := Chunk{Rec: rec}
		if out.del {
			c.Ops = deletes(int(rec.NumRows()))
		}
		err := emit(ctx, c)
		rec.Release()
		if err != nil {
			return fmt.Errorf("top-n: %w", err)
		}
	}
	return nil
}

// topNOut is rows a flush retracts or adds: each row's stored values and,
// when the output has a rank column, its rank.
type topNOut struct {
	rows  [][]byte
	ranks []int64
}

// Watermark frees the partitions whose window the watermark has passed:
// their rows can no longer change (a row of theirs would be late). Their
// pending changes go out first.
func (t *TopN) Watermark(ctx context.Context, wm int64, emit Emit) error {
	if !t.closing.endsBy(wm) {
		return nil
	}
	if err := t.flush(ctx, emit); err != nil {
		return err
	}
	for t.closing.endsBy(wm) {
		p := t.closing.next().v
		if t.parts[p.key] == p {
			delete(t.parts, p.key)
			t.touch(p)
		}
	}
	return nil
}

// Partitions is the number of partitions held in state, for tests.
func (t *TopN) Partitions() int { return len(t.parts) }

// Rows is the number of rows held in state, for tests.
func (t *TopN) Rows() int {
	n := 0
	for _, p := range t.parts {
		n += len(p.rows)
	}
	return n
}

// orderEncoder encodes sort keys so that bytewise order is the sort order,
// as ORDER BY compares: -0 equals 0, NaN is above every number and equal to
// itself, intervals compare by their span, text by its bytes (the C
// collation). Each encoding is prefix-free, so a key may be followed by
// other bytes without changing how it compares.
type orderEncoder struct {
	keys     []plan.SortKey
	storages []storage
	arena    []byte
	offsets  []int
	out      [][]byte
}

func newOrderEncoder(keys []plan.SortKey, ts []types.T) *orderEncoder {
	e := &orderEncoder{keys: keys}
	for _, k := range keys {
		e.storages = append(e.storages, storageOf(ts[k.Col]))
	}
	return e
}

// Null markers: a NULL sorts below (first) or above (last) every value,
// whatever the direction.
const (
	ordNullFirst byte = 0
	ordValue     byte = 1
	ordNullLast  byte = 2
)

// encode returns one key per row of rec, valid until the next call.
func (e *orderEncoder) encode(rec arrow.Record) [][]byte {
	n := int(rec.NumRows())
	e.arena = e.arena[:0]
	e.offsets = append(e.offsets[:0], 0)
	arrs := make([]arrow.Array, len(e.keys))
	for j, k := range e.keys {
		arrs[j] = rec.Column(k.Col)
	}
	for i := 0; i < n; i++ {
		for j, a := range arrs {
			k := e.keys[j]
			if a.IsNull(i) {
				if k.NullsFirst {
					e.arena = append(e.arena, ordNullFirst)
				} else {
					e.arena = append(e.arena, ordNullLast)
				}
				continue
			}
			e.arena = append(e.arena, ordValue)
			start := len(e.arena)
			e.arena = appendOrdered(e.arena, a, i, e.storages[j])
			if k.Desc {
				for x := start; x < len(e.arena); x++ {
					e.arena[x] = ^e.arena[x]
				}
			}
		}
		e.offsets = append(e.offsets, len(e.arena))
	}
	if cap(e.out) < n {
		e.out = make([][]byte, n)
	}
	e.out = e.out[:n]
	for i := range e.out {
		e.out[i] = e.arena[e.offsets[i]:e.offsets[i+1]:e.offsets[i+1]]
	}
	return e.out
}

// appendOrdered appends the ascending order-preserving encoding of the
// non-NULL value a[i].
func appendOrdered(buf []byte, a arrow.Array, i int, st storage) []byte {
	const signBit = 1 << 63
	switch st {
	case stBool:
		if a.(*array.Boolean).Value(i) {
			return append(buf, 1)
		}
		return append(buf, 0)
	case stInt16, stInt32, stInt64:
		var v int64
		switch a := a.(type) {
		case *array.Int16:
			v = int64(a.Value(i))
		case *array.Int32:
			v = int64(a.Value(i))
		case *array.Date32:
			v = int64(a.Value(i))
		case *array.Int64:
			v = a.Value(i)
		case *array.Timestamp:
			v = int64(a.Value(i))
		case *array.Time64:
			v = int64(a.Value(i))
		}
		return binary.BigEndian.AppendUint64(buf, uint64(v)^signBit)
	case stFloat32, stFloat64:
		var f float64
		if st == stFloat32 {
			f = float64(a.(*array.Float32).Value(i))
		} else {
			f = a.(*array.Float64).Value(i)
		}
		return binary.BigEndian.AppendUint64(buf, floatPrefix(f))
	case stString:
		return appendEscaped(buf, a.(*array.String).Value(i))
	case stBinary:
		return appendEscaped(buf, a.(*array.Binary).Value(i))
	case stInterval:
		hi, lo := intervalSpan(a.(*array.MonthDayNanoInterval).Value(i))
		buf = binary.BigEndian.AppendUint64(buf, uint64(hi)^signBit)
		return binary.BigEndian.AppendUint64(buf, lo)
	}
	return buf // stNull: every value is NULL
}

// appendEscaped appends s with each 0 byte written 0 0xFF, then 0 0: the
// terminator sorts below every byte, so a prefix sorts first.
func appendEscaped[S string | []byte](buf []byte, s S) []byte {
	for k := 0; k < len(s); k++ {
		c := s[k]
		if c == 0 {
			buf = append(buf, 0, 0xFF)
			continue
		}
		buf = append(buf, c)
	}
	return append(buf, 0, 0)
}

// TrackChanges records changed partitions for incremental checkpoints.
func (t *TopN) TrackChanges() { t.tracking = true }

// touch records that p changed or was dropped, for the next checkpoint.
func (t *TopN) touch(p *topNPartition) {
	if t.tracking && !p.changed {
		p.changed = true
		t.changed = append(t.changed, p)
	}
}

// SaveChanges writes the partitions changed since the last call (all of
// them when all is set) and deletes the dropped ones. A partition's entry,
// under its key, holds its window end and its rows in order.
func (t *TopN) SaveChanges(d *StateDelta, all bool) {
	put := func(p *topNPartition) {
		w := d.Value()
		w.Bool(p.hasEnd)
		w.Int(p.end)
		w.Uint(uint64(len(p.rows)))
		for _, row := range p.rows {
			w.Uint(uint64(row.ordLen))
			w.Blob(row.b)
		}
		d.Put(nil, p.key)
	}
	for _, p := range t.changed {
		p.changed = false
		switch now := t.parts[p.key]; {
		case all:
		case now == p:
			put(p)
		case now == nil:
			d.Delete(nil, p.key)
		default:
			// Dropped and started again: the new partition, later in the
			// list, is written instead.
		}
	}
	clear(t.changed)
	t.changed = t.changed[:0]
	if all {
		for _, p := range t.parts {
			put(p)
		}
	}
}

// LoadEntry restores one partition saved by SaveChanges.
func (t *TopN) LoadEntry(key, value []byte) error {
	r := NewStateReader(value)
	p := &topNPartition{key: string(key)}
	p.hasEnd, p.end = r.Bool(), r.Int()
	n := r.Len()
	p.rows = make([]topNRow, 0, n)
	for j := 0; j < n && r.Err() == nil; j++ {
		ordLen := int(r.Uint())
		b := append([]byte(nil), r.Blob()...)
		if ordLen > len(b) {
			return fmt.Errorf("%w: Top-N row shorter than its order key", errCorruptState)
		}
		p.rows = append(p.rows, topNRow{b: b, ordLen: ordLen})
	}
	if err := r.Done(); err != nil {
		return err
	}
	t.parts[p.key] = p
	if p.hasEnd {
		t.closing.add(p.end, p)
	}
	return nil
}
