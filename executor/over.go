package executor

import (
	"bytes"
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

// OverWindow computes window functions over each partition of its input,
// incrementally. It keeps every row of each partition in ORDER BY order (as
// TopN does, with no limit) and the output rows it has emitted; at a
// barrier (Finish in batch mode) it computes each changed partition's output
// again and emits the difference: a new row early in a partition changes
// the running sums and the lag of the rows after it, and only those rows
// are retracted and emitted again.
type OverWindow struct {
	node      *plan.OverWindow
	alloc     memory.Allocator
	partEnc   *RowEncoder
	ordEnc    *orderEncoder
	rowEnc    *RowEncoder
	rowDec    *RowDecoder
	outEnc    *RowEncoder
	outDec    *RowDecoder
	inSchema  *arrow.Schema
	outSchema *arrow.Schema

	parts map[string]*overPart
	dirty []*overPart
}

type overPart struct {
	key     string
	rows    []topNRow        // order key then exact row, sorted bytewise
	emitted map[string]int64 // the output rows downstream holds
	dirty   bool
}

// NewOverWindow builds the operator of n.
func NewOverWindow(n *plan.OverWindow, alloc memory.Allocator) *OverWindow {
	in := n.Input.Schema()
	ts := in.Types()
	all := allColumns(len(in))
	partTypes := make([]types.T, len(n.PartitionBy))
	for i, c := range n.PartitionBy {
		partTypes[i] = ts[c]
	}
	outAll := allColumns(len(n.Cols))
	return &OverWindow{
		node: n, alloc: alloc,
		partEnc:  NewRowEncoder(n.PartitionBy, partTypes),
		ordEnc:   newOrderEncoder(n.Order, ts),
		rowEnc:   NewExactRowEncoder(all, ts),
		rowDec:   NewRowDecoder(ts),
		outEnc:   NewExactRowEncoder(outAll, n.Cols.Types()),
		outDec:   NewRowDecoder(n.Cols.Types()),
		inSchema: in.Arrow(), outSchema: n.Cols.Arrow(),
		parts: map[string]*overPart{},
	}
}

// Process folds a chunk into the partitions.
func (w *OverWindow) Process(_ context.Context, _ int, c Chunk, _ Emit) error {
	n := c.Len()
	if n == 0 {
		return nil
	}
	parts := w.partEnc.Encode(c.Rec)
	ords := w.ordEnc.encode(c.Rec)
	rows := w.rowEnc.Encode(c.Rec)
	for i := 0; i < n; i++ {
		p, ok := w.parts[string(parts[i])]
		if !ok {
			p = &overPart{key: string(parts[i]), emitted: map[string]int64{}}
			w.parts[p.key] = p
		}
		if !p.dirty {
			p.dirty = true
			w.dirty = append(w.dirty, p)
		}
		b := make([]byte, 0, len(ords[i])+len(rows[i]))
		b = append(append(b, ords[i]...), rows[i]...)
		at := sort.Search(len(p.rows), func(j int) bool { return bytes.Compare(p.rows[j].b, b) >= 0 })
		if c.OpAt(i) == Delete {
			if at < len(p.rows) && bytes.Equal(p.rows[at].b, b) {
				p.rows = append(p.rows[:at], p.rows[at+1:]...)
			}
			continue
		}
		p.rows = append(p.rows, topNRow{})
		copy(p.rows[at+1:], p.rows[at:])
		p.rows[at] = topNRow{b: b, ordLen: len(ords[i])}
	}
	return nil
}

// Barrier emits the epoch's changes.
func (w *OverWindow) Barrier(ctx context.Context, _ Barrier, emit Emit) error {
	return w.flush(ctx, emit)
}

// Finish emits the result of a bounded input.
func (w *OverWindow) Finish(ctx context.Context, emit Emit) error { return w.flush(ctx, emit) }

func (w *OverWindow) flush(ctx context.Context, emit Emit) error {
	var gone, added []string
	for _, p := range w.dirty {
		p.dirty = false
		now, err := w.compute(ctx, p)
		if err != nil {
			return err
		}
		next := make(map[string]int64, len(now))
		for _, r := range now {
			next[r]++
		}
		for r, k := range p.emitted {
			for extra := k - next[r]; extra > 0; extra-- {
				gone = append(gone, r)
			}
		}
		for r, k := range next {
			for extra := k - p.emitted[r]; extra > 0; extra-- {
				added = append(added, r)
			}
		}
		p.emitted = next
		if len(p.rows) == 0 {
			delete(w.parts, p.key)
		}
	}
	w.dirty = w.dirty[:0]
	if len(gone) > 0 {
		rec := w.decode(gone)
		err := emit(ctx, Chunk{Rec: rec, Ops: deletes(len(gone))})
		rec.Release()
		if err != nil {
			return err
		}
	}
	if len(added) > 0 {
		rec := w.decode(added)
		defer rec.Release()
		return emit(ctx, Chunk{Rec: rec})
	}
	return nil
}

func (w *OverWindow) decode(rows []string) arrow.Record {
	bs := newBuilders(w.alloc, w.outSchema)
	w.outDec.AppendStrings(bs, rows)
	return finishRecord(w.outSchema, bs)
}

// compute returns the output rows of a partition, encoded.
func (w *OverWindow) compute(ctx context.Context, p *overPart) ([]string, error) {
	n := len(p.rows)
	if n == 0 {
		return nil, nil
	}
	bs := newBuilders(w.alloc, w.inSchema)
	values := make([][]byte, n)
	for i, r := range p.rows {
		values[i] = r.b[r.ordLen:]
	}
	w.rowDec.AppendRows(bs, values)
	in := finishRecord(w.inSchema, bs)
	defer in.Release()
	// last[i] is the last peer of row i (rows equal in the ORDER BY); first
	// the first.
	last, first := make([]int, n), make([]int, n)
	for i := n - 1; i >= 0; i-- {
		last[i] = i
		if i+1 < n && peers(p.rows[i], p.rows[i+1]) {
			last[i] = last[i+1]
		}
	}
	for i := 0; i < n; i++ {
		first[i] = i
		if i > 0 && peers(p.rows[i], p.rows[i-1]) {
			first[i] = first[i-1]
		}
	}
	cols := append([]arrow.Array(nil), in.Columns()...)
	var made []arrow.Array
	defer func() { releaseAll(made) }()
	for _, call := range w.node.Calls {
		a, err := w.call(ctx, call, in, first, last)
		if err != nil {
			return nil, err
		}
		made = append(made, a)
		cols = append(cols, a)
	}
	out := array.NewRecord(w.outSchema, cols, int64(n))
	defer out.Release()
	enc := w.outEnc.Encode(out)
	rows := make([]string, n)
	for i, r := range enc {
		rows[i] = string(r)
	}
	return rows, nil
}

func peers(a, b topNRow) bool { return bytes.Equal(a.b[:a.ordLen], b.b[:b.ordLen]) }

// call computes one window function over a partition's rows.
func (w *OverWindow) call(ctx context.Context, c plan.WindowCall, in arrow.Record, first, last []int) (arrow.Array, error) {
	n := int(in.NumRows())
	ints := func(f func(i int) int64) arrow.Array {
		b := array.NewInt64Builder(w.alloc)
		defer b.Release()
		b.Reserve(n)
		for i := 0; i < n; i++ {
			b.UnsafeAppend(f(i))
		}
		return b.NewArray()
	}
	// gather takes, for each row, the row idx(i) of values (-1: NULL).
	gather := func(values arrow.Array, idx func(i int) int) (arrow.Array, error) {
		ix := make([]int32, n)
		valid := make([]byte, (n+7)/8)
		nulls := 0
		for i := 0; i < n; i++ {
			if j := idx(i); j >= 0 {
				ix[i] = int32(j)
				valid[i/8] |= 1 << (i % 8)
			} else {
				nulls++
			}
		}
		if nulls == 0 {
			valid = nil
		}
		return expr.Take(w.alloc, values, ix, valid)
	}
	switch c.Func {
	case "row_number":
		return ints(func(i int) int64 { return int64(i + 1) }), nil
	case "rank":
		return ints(func(i int) int64 { return int64(first[i] + 1) }), nil
	case "dense_rank":
		dense, k := make([]int64, n), int64(0)
		for i := 0; i < n; i++ {
			if first[i] == i {
				k++
			}
			dense[i] = k
		}
		return ints(func(i int) int64 { return dense[i] }), nil
	case "count":
		nonNull := make([]int64, n+1) // prefix counts
		var arg arrow.Array
		if c.Arg >= 0 {
			arg = in.Column(c.Arg)
		}
		for i := 0; i < n; i++ {
			nonNull[i+1] = nonNull[i]
			if arg == nil || arg.IsValid(i) {
				nonNull[i+1]++
			}
		}
		return ints(func(i int) int64 { return nonNull[last[i]+1] }), nil
	case "first_value":
		return gather(in.Column(c.Arg), func(int) int { return 0 })
	case "last_value":
		return gather(in.Column(c.Arg), func(i int) int { return last[i] })
	case "lag", "lead":
		values := in.Column(c.Arg)
		shift := int(c.Offset)
		if c.Func == "lag" {
			shift = -shift
		}
		if c.Default >= 0 {
			both, err := array.Concatenate([]arrow.Array{values, in.Column(c.Default)}, w.alloc)
			if err != nil {
				return nil, err
			}
			defer both.Release()
			values = both
		}
		return gather(values, func(i int) int {
			if j := i + shift; j >= 0 && j < n {
				return j
			}
			if c.Default >= 0 {
				return n + i
			}
			return -1
		})
	case "min", "max":
		arg := in.Column(c.Arg)
		best := -1
		bestAt := make([]int, n) // the best row among rows 0..i, -1 if all NULL
		for i := 0; i < n; i++ {
			if arg.IsValid(i) && (best < 0 || better(arg, i, best, c.Func == "max")) {
				best = i
			}
			bestAt[i] = best
		}
		return gather(arg, func(i int) int { return bestAt[last[i]] })
	case "sum", "avg":
		return w.runningSum(c, in.Column(c.Arg), last)
	}
	return nil, fmt.Errorf("window function %s is not implemented", c.Func)
}

// better reports whether row i of a beats row j for max (or min).
func better(a arrow.Array, i, j int, max bool) bool {
	var cmp int
	switch a := a.(type) {
	case *array.String:
		cmp = bytes.Compare([]byte(a.Value(i)), []byte(a.Value(j)))
	case *array.Float64, *array.Float32:
		v := float64s(a, nil)
		cmp = cmpFloat(v[i], v[j])
	default:
		v := int64s(a, nil)
		switch {
		case v[i] < v[j]:
			cmp = -1
		case v[i] > v[j]:
			cmp = 1
		}
	}
	if max {
		return cmp > 0
	}
	return cmp < 0
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// runningSum is sum or avg over each row's frame (the partition's start to
// its last peer), in the call's result type.
func (w *OverWindow) runningSum(c plan.WindowCall, arg arrow.Array, last []int) (arrow.Array, error) {
	n := arg.Len()
	integer := arg.DataType().ID() == arrow.INT16 || arg.DataType().ID() == arrow.INT32 || arg.DataType().ID() == arrow.INT64
	sums, isums, counts := make([]float64, n+1), make([]int64, n+1), make([]int64, n+1)
	var fv []float64
	var iv []int64
	if integer {
		iv = int64s(arg, nil)
	} else {
		fv = float64s(arg, nil)
	}
	for i := 0; i < n; i++ {
		sums[i+1], isums[i+1], counts[i+1] = sums[i], isums[i], counts[i]
		if !arg.IsValid(i) {
			continue
		}
		counts[i+1]++
		if integer {
			isums[i+1] += iv[i]
			sums[i+1] += float64(iv[i])
		} else {
			sums[i+1] += fv[i]
		}
	}
	b := array.NewBuilder(w.alloc, c.Ret.Arrow())
	defer b.Release()
	for i := 0; i < n; i++ {
		k := last[i] + 1
		if counts[k] == 0 {
			b.AppendNull()
			continue
		}
		switch b := b.(type) {
		case *array.Int64Builder:
			b.Append(isums[k])
		case *array.Float64Builder:
			if c.Func == "avg" {
				b.Append(sums[k] / float64(counts[k]))
			} else {
				b.Append(sums[k])
			}
		default:
			return nil, fmt.Errorf("window function %s into %s is not implemented", c.Func, c.Ret)
		}
	}
	return b.NewArray(), nil
}

// SaveState writes every partition's rows and the output rows it emitted.
func (w *OverWindow) SaveState(sw *StateWriter) {
	sw.Uint(uint64(len(w.parts)))
	for _, p := range w.parts {
		sw.String(p.key)
		sw.Uint(uint64(len(p.rows)))
		for _, r := range p.rows {
			sw.Uint(uint64(r.ordLen))
			sw.Blob(r.b)
		}
		sw.Counts(p.emitted)
	}
}

// LoadState reads what SaveState wrote.
func (w *OverWindow) LoadState(r *StateReader) error {
	n := r.Len()
	for i := 0; i < n && r.Err() == nil; i++ {
		p := &overPart{key: r.String()}
		rows := r.Len()
		for j := 0; j < rows && r.Err() == nil; j++ {
			ordLen := int(r.Uint())
			b := append([]byte(nil), r.Blob()...)
			if ordLen > len(b) {
				return fmt.Errorf("%w: window row shorter than its order key", errCorruptState)
			}
			p.rows = append(p.rows, topNRow{b: b, ordLen: ordLen})
		}
		p.emitted = r.Counts()
		w.parts[p.key] = p
	}
	return r.Err()
}
