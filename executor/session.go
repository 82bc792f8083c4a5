package executor

import (
	"context"
	"fmt"
	"sort"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sluicedb/sluice/plan"
	"github.com/sluicedb/sluice/types"
)

// SessionWindow assigns rows to sessions: per partition key, rows whose
// event times are less than the gap apart share a session, whose
// window_start is its first event time and window_end its last plus the gap.
//
// A session's window changes as rows extend it or bridge it to another
// session, so the operator's output is a changelog: when a session's window
// changes, the rows it had emitted are retracted with the old window and
// emitted again with the new one. Changes are emitted once per epoch (at
// barriers), and before a watermark is passed on, so a downstream
// aggregation sees final sessions before it closes their windows. Once the
// watermark reaches a session's end, no row can join it any more and its
// rows are dropped from the state.
type SessionWindow struct {
	node   *plan.Window
	alloc  memory.Allocator
	keyEnc *RowEncoder
	rowEnc *RowEncoder
	rowDec *RowDecoder
	schema *arrow.Schema
	tsType *arrow.TimestampType

	parts   map[string][]*session
	dirty   []*session
	retired []emittedRows
	closing byEnd[*session]
	times   []int64
}

type session struct {
	key         string
	start, last int64
	rows        []string // encoded input rows, in arrival order
	removed     bool
	dirty       bool
	// What downstream has: the first emittedRows rows, with this window.
	emitted                  bool
	emittedStart, emittedEnd int64
	emittedRows              int
}

// emittedRows are rows downstream holds with a window that no longer exists.
type emittedRows struct {
	rows       []string
	start, end int64
}

// NewSessionWindow builds the session assignment of n, whose Func is
// plan.Session.
func NewSessionWindow(n *plan.Window, alloc memory.Allocator) *SessionWindow {
	in := n.Input.Schema()
	keyTypes := make([]types.T, len(n.PartitionBy))
	for i, c := range n.PartitionBy {
		keyTypes[i] = in[c].Type
	}
	all := allColumns(len(in))
	return &SessionWindow{
		node:   n,
		alloc:  alloc,
		keyEnc: NewRowEncoder(n.PartitionBy, keyTypes),
		rowEnc: NewExactRowEncoder(all, in.Types()),
		rowDec: NewRowDecoder(in.Types()),
		schema: n.Cols.Arrow(),
		tsType: n.Cols[len(n.Cols)-1].Type.Arrow().(*arrow.TimestampType),
		parts:  make(map[string][]*session),
	}
}

// Process assigns the rows of c to sessions; output waits for the barrier.
func (w *SessionWindow) Process(ctx context.Context, _ int, c Chunk, _ Emit) error {
	n := c.Len()
	if n == 0 {
		return nil
	}
	if c.Ops != nil {
		for _, op := range c.Ops {
			if op == Delete {
				return fmt.Errorf("SESSION windows need an append-only input")
			}
		}
	}
	timeCol := c.Rec.Column(w.node.TimeCol)
	times := int64s(timeCol, w.times)
	w.times = times[:0]
	keys := w.keyEnc.Encode(c.Rec)
	rows := w.rowEnc.Encode(c.Rec)
	gap := w.node.Gap
	for i := 0; i < n; i++ {
		if timeCol.IsNull(i) {
			continue // a row without event time belongs to no session
		}
		t := times[i]
		sessions := w.parts[string(keys[i])]
		// The sessions that t is less than gap away from; they become one.
		var into *session
		kept := sessions[:0]
		for _, s := range sessions {
			if t > s.start-gap && t < s.last+gap {
				if into == nil {
					into = s
				} else {
					w.merge(into, s)
					continue
				}
			}
			kept = append(kept, s)
		}
		if into == nil {
			into = &session{key: string(keys[i]), start: t, last: t}
			kept = append(kept, into)
		}
		w.parts[into.key] = kept
		into.start, into.last = min(into.start, t), max(into.last, t)
		into.rows = append(into.rows, string(rows[i]))
		w.markDirty(into)
	}
	return nil
}

// merge moves session b's rows into a.
func (w *SessionWindow) merge(a, b *session) {
	if b.emitted {
		w.retired = append(w.retired, emittedRows{rows: b.rows[:b.emittedRows], start: b.emittedStart, end: b.emittedEnd})
	}
	a.start, a.last = min(a.start, b.start), max(a.last, b.last)
	a.rows = append(a.rows, b.rows...)
	b.removed = true
	w.markDirty(a)
}

func (w *SessionWindow) markDirty(s *session) {
	if !s.dirty {
		s.dirty = true
		w.dirty = append(w.dirty, s)
	}
}

// Barrier emits the epoch's changes.
func (w *SessionWindow) Barrier(ctx context.Context, _ Barrier, emit Emit) error {
	return w.flush(ctx, emit)
}

// Finish emits every session of a bounded input.
func (w *SessionWindow) Finish(ctx context.Context, emit Emit) error {
	return w.flush(ctx, emit)
}

// Watermark emits pending changes, then forgets the sessions that have
// ended at or before wm.
func (w *SessionWindow) Watermark(ctx context.Context, wm int64, emit Emit) error {
	if err := w.flush(ctx, emit); err != nil {
		return err
	}
	for w.closing.endsBy(wm) {
		c := w.closing.next()
		s := c.v
		if s.removed || s.last+w.node.Gap != c.end {
			continue // merged away or extended since
		}
		s.removed = true
		sessions := w.parts[s.key]
		for i, x := range sessions {
			if x == s {
				sessions = append(sessions[:i], sessions[i+1:]...)
				break
			}
		}
		if len(sessions) == 0 {
			delete(w.parts, s.key)
		} else {
			w.parts[s.key] = sessions
		}
	}
	return nil
}

// Sessions is the number of open sessions held in state.
func (w *SessionWindow) Sessions() int {
	n := 0
	for _, ss := range w.parts {
		n += len(ss)
	}
	return n
}

func (w *SessionWindow) flush(ctx context.Context, emit Emit) error {
	if len(w.dirty) == 0 && len(w.retired) == 0 {
		return nil
	}
	gap := w.node.Gap
	del := newWindowedBuilder(w)
	for _, r := range w.retired {
		del.add(r.rows, r.start, r.end)
	}
	w.retired = w.retired[:0]
	ins := newWindowedBuilder(w)
	for _, s := range w.dirty {
		s.dirty = false
		if s.removed {
			continue
		}
		start, end := s.start, s.last+gap
		switch {
		case s.emitted && s.emittedStart == start && s.emittedEnd == end:
			ins.add(s.rows[s.emittedRows:], start, end)
		default:
			if s.emitted {
				del.add(s.rows[:s.emittedRows], s.emittedStart, s.emittedEnd)
			}
			ins.add(s.rows, start, end)
		}
		s.emitted, s.emittedStart, s.emittedEnd, s.emittedRows = true, start, end, len(s.rows)
		w.closing.add(end, s)
	}
	w.dirty = w.dirty[:0]
	if err := del.emit(ctx, emit, true); err != nil {
		ins.release()
		return err
	}
	return ins.emit(ctx, emit, false)
}

// windowedBuilder builds output rows: decoded input rows plus their window.
type windowedBuilder struct {
	w      *SessionWindow
	bs     []array.Builder
	starts []int64
	ends   []int64
}

func newWindowedBuilder(w *SessionWindow) *windowedBuilder {
	return &windowedBuilder{w: w}
}

func (b *windowedBuilder) add(rows []string, start, end int64) {
	if len(rows) == 0 {
		return
	}
	if b.bs == nil {
		b.bs = newBuilders(b.w.alloc, b.w.node.Input.Schema().Arrow())
	}
	b.w.rowDec.AppendStrings(b.bs, rows)
	for range rows {
		b.starts = append(b.starts, start)
		b.ends = append(b.ends, end)
	}
}

func (b *windowedBuilder) release() {
	for _, x := range b.bs {
		x.Release()
	}
	b.bs = nil
}

func (b *windowedBuilder) emit(ctx context.Context, emit Emit, deleted bool) error {
	if b.bs == nil {
		return nil
	}
	cols := make([]arrow.Array, 0, len(b.bs)+2)
	for _, x := range b.bs {
		cols = append(cols, x.NewArray())
		x.Release()
	}
	b.bs = nil
	for _, vals := range [][]int64{b.starts, b.ends} {
		tb := array.NewTimestampBuilder(b.w.alloc, b.w.tsType)
		for _, v := range vals {
			tb.Append(arrow.Timestamp(v))
		}
		cols = append(cols, tb.NewArray())
		tb.Release()
	}
	rec := array.NewRecord(b.w.schema, cols, int64(len(b.starts)))
	for _, c := range cols {
		c.Release()
	}
	defer rec.Release()
	var ops []Op
	if deleted {
		ops = deletes(len(b.starts))
	}
	return emit(ctx, Chunk{Rec: rec, Ops: ops})
}

// SaveState writes the open sessions of every partition. At a barrier every
// session's rows are out with its current window, so the window's end is
// where the watermark frees it.
func (w *SessionWindow) SaveState(sw *StateWriter) {
	keys := make([]string, 0, len(w.parts))
	for k := range w.parts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	sw.Uint(uint64(len(keys)))
	for _, k := range keys {
		sw.String(k)
		sw.Uint(uint64(len(w.parts[k])))
		for _, s := range w.parts[k] {
			sw.Int(s.start)
			sw.Int(s.last)
			sw.Bool(s.emitted)
			sw.Int(s.emittedStart)
			sw.Int(s.emittedEnd)
			sw.Uint(uint64(s.emittedRows))
			sw.Uint(uint64(len(s.rows)))
			for _, row := range s.rows {
				sw.String(row)
			}
		}
	}
}

// LoadState reads what SaveState wrote.
func (w *SessionWindow) LoadState(r *StateReader) error {
	nparts := r.Len()
	for i := 0; i < nparts && r.Err() == nil; i++ {
		key := r.String()
		n := r.Len()
		sessions := make([]*session, 0, n)
		for j := 0; j < n && r.Err() == nil; j++ {
			s := &session{key: key, start: r.Int(), last: r.Int(), emitted: r.Bool(),
				emittedStart: r.Int(), emittedEnd: r.Int(), emittedRows: int(r.Uint())}
			rows := r.Len()
			s.rows = make([]string, 0, rows)
			for k := 0; k < rows && r.Err() == nil; k++ {
				s.rows = append(s.rows, r.String())
			}
			if s.emitted {
				w.closing.add(s.last+w.node.Gap, s)
			}
			sessions = append(sessions, s)
		}
		w.parts[key] = sessions
	}
	return r.Err()
}
