package executor

import (
	"context"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sluicedb/sluice/plan"
)

// WindowAssign appends window_start and window_end to every row: one window
// per row for TUMBLE, Size/Slide windows per row for HOP. Windows are
// half-open [start, end) and aligned to the Unix epoch plus the offset. A row
// whose time is NULL gets NULL windows (TUMBLE) or none (HOP).
type WindowAssign struct {
	node   *plan.Window
	alloc  memory.Allocator
	schema *arrow.Schema
	unread []bool // the plan's Unread, as it was when the operator was built
	idx    []int32
	starts []int64
	valid  []bool
	tmp    []int64
}

// NewWindowAssign builds the window assignment of n.
func NewWindowAssign(n *plan.Window, alloc memory.Allocator) *WindowAssign {
	return &WindowAssign{node: n, alloc: alloc, schema: n.Cols.Arrow(), unread: slices.Clone(n.Unread)}
}

// windowStart is the start of the last window of length size, at steps of
// slide from offset, that contains t: floor((t - offset) / slide) * slide + offset.
func windowStart(t, slide, offset int64) int64 {
	d := t - offset
	q := d / slide
	if d%slide != 0 && d < 0 {
		q--
	}
	return q*slide + offset
}

// Process assigns windows to the rows of c.
func (w *WindowAssign) Process(ctx context.Context, _ int, c Chunk, emit Emit) error {
	n := c.Len()
	if n == 0 {
		return nil
	}
	timeCol := c.Rec.Column(w.node.TimeCol)
	times := int64s(timeCol, w.tmp)
	w.tmp = times[:0]
	size, slide, offset := w.node.Size, w.node.Slide, w.node.Offset
	perRow := int(size / slide)
	w.idx, w.starts, w.valid = w.idx[:0], w.starts[:0], w.valid[:0]
	var ops []Op
	for i := 0; i < n; i++ {
		if timeCol.IsNull(i) {
			if w.node.Func == plan.Tumble {
				w.idx = append(w.idx, int32(i))
				w.starts = append(w.starts, 0)
				w.valid = append(w.valid, false)
				if c.Ops != nil {
					ops = append(ops, c.Ops[i])
				}
			}
			continue
		}
		last := windowStart(times[i], slide, offset)
		for k := perRow - 1; k >= 0; k-- {
			w.idx = append(w.idx, int32(i))
			w.starts = append(w.starts, last-int64(k)*slide)
			w.valid = append(w.valid, true)
			if c.Ops != nil {
				ops = append(ops, c.Ops[i])
			}
		}
	}
	var base arrow.Record
	if w.node.Func == plan.Tumble && len(w.idx) == n {
		base = c.Rec
		base.Retain()
	} else {
		in := w.withoutUnread(c.Rec)
		var err error
		if w.node.Func == plan.Hop && len(w.idx) == n*perRow {
			// No row lacks a time: each is repeated perRow times in place.
			base, err = repeatRecord(ctx, in, perRow, w.alloc)
		} else {
			base, err = takeRecord(ctx, in, w.idx, w.alloc)
		}
		in.Release()
		if err != nil {
			return err
		}
	}
	defer base.Release()
	startB := array.NewTimestampBuilder(w.alloc, w.node.Cols[len(w.node.Cols)-2].Type.Arrow().(*arrow.TimestampType))
	endB := array.NewTimestampBuilder(w.alloc, w.node.Cols[len(w.node.Cols)-1].Type.Arrow().(*arrow.TimestampType))
	defer startB.Release()
	defer endB.Release()
	startB.Reserve(len(w.starts))
	endB.Reserve(len(w.starts))
	for i, s := range w.starts {
		if !w.valid[i] {
			startB.AppendNull()
			endB.AppendNull()
			continue
		}
		startB.UnsafeAppend(arrow.Timestamp(s))
		endB.UnsafeAppend(arrow.Timestamp(s + size))
	}
	starts, ends := startB.NewArray(), endB.NewArray()
	defer starts.Release()
	defer ends.Release()
	cols := make([]arrow.Array, 0, base.NumCols()+2)
	cols = append(cols, base.Columns()...)
	for j, unread := range w.unread {
		if unread && cols[j].DataType().ID() == arrow.NULL {
			cols[j] = array.MakeArrayOfNull(w.alloc, w.schema.Field(j).Type, len(w.starts))
			defer cols[j].Release()
		}
	}
	cols = append(cols, starts, ends)
	out := array.NewRecord(w.schema, cols, int64(len(w.starts)))
	defer out.Release()
	return emit(ctx, Chunk{Rec: out, Ops: ops})
}

// withoutUnread is rec with the columns nothing reads (plan.Window.Unread)
// as arrays of the NULL type, which cost nothing to copy; Process gives
// them their type back, as NULLs, once the rows are spread over windows.
func (w *WindowAssign) withoutUnread(rec arrow.Record) arrow.Record {
	if w.unread == nil {
		rec.Retain()
		return rec
	}
	fields := append([]arrow.Field(nil), rec.Schema().Fields()...)
	cols := append([]arrow.Array(nil), rec.Columns()...)
	var nulls []arrow.Array
	for j, unread := range w.unread {
		if unread {
			fields[j] = arrow.Field{Name: fields[j].Name, Type: arrow.Null, Nullable: true}
			cols[j] = array.NewNull(int(rec.NumRows()))
			nulls = append(nulls, cols[j])
		}
	}
	out := array.NewRecord(arrow.NewSchema(fields, nil), cols, rec.NumRows())
	releaseAll(nulls)
	return out
}
