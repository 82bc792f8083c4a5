package expr

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/types"
)

// EvalContext is what an evaluation needs from its statement, and where it
// reports rows that failed. It is not safe for concurrent use: give each
// goroutine its own.
type EvalContext struct {
	// Alloc allocates result arrays; nil means memory.DefaultAllocator.
	Alloc memory.Allocator
	// Now is the statement timestamp in microseconds since the Unix epoch,
	// the value of now() and current_timestamp. Evaluation never reads the
	// wall clock.
	Now int64
	// Lenient turns row failures (overflow, division by zero, a bad cast)
	// into NULL results that are counted in Errors instead of failing the
	// batch, as streaming queries need. When false the first failure is
	// returned as the batch's error.
	Lenient bool
	// Errors counts the rows that failed in lenient mode.
	Errors int64
	// FirstErr is the first failure seen in lenient mode, for logs.
	FirstErr error
	// Catalog is what the system information functions (version(),
	// current_setting, pg_get_viewdef, regclass output, ...) read; the
	// engine sets it for ad-hoc queries. Without it they fail with 0A000.
	Catalog SystemCatalog
	// Subqueries runs the inner queries of Subquery expressions; the
	// executor sets it for batch queries. Evaluating a subquery without it
	// fails with 0A000 (streaming plans have no subqueries).
	Subqueries SubqueryRunner

	// subqueryResults holds what each uncorrelated subquery reduced to, so
	// that it runs once per statement rather than once per batch.
	subqueryResults map[*Subquery]node
}

// Program is a compiled expression. It holds no state between batches and
// may be evaluated by several goroutines at once, each with its own
// EvalContext.
type Program struct {
	root node
	t    types.T
}

// Type is the SQL type of the values the program computes.
func (p *Program) Type() types.T { return p.t }

// node evaluates one subexpression over a batch.
type node interface {
	eval(st *evalState) (vec, error)
}

// evalFn is a kernel: it computes a function over evaluated arguments. It is
// called once per batch, never per row. The arguments of a strict function
// are never the NULL constant (the caller answers NULL without calling).
type evalFn func(st *evalState, args []vec) (vec, error)

// kernelBuilder returns the kernel of one call at compile time; it may look
// at constant arguments (a LIKE pattern, a date_trunc unit) to prepare work
// once instead of per batch.
type kernelBuilder func(args []Expr) (evalFn, error)

// evalState is the state of one evaluation of a program over one batch.
type evalState struct {
	ctx   *EvalContext
	mem   memory.Allocator
	batch arrow.Record
	n     int
	// live marks the rows whose value is needed (nil: all of them). Parts of
	// CASE, COALESCE, AND and OR run with live narrowed to the rows that
	// reach them, so that a failure on another row is ignored.
	live []byte
	// failed marks rows that failed in lenient mode (nil: none).
	failed []byte
	// scratch is a reusable buffer for kernels that format text.
	scratch []byte
	// bytes is a reusable buffer of one byte per row.
	bytes []byte
}

// byteScratch returns a reusable buffer of n bytes.
func (st *evalState) byteScratch(n int) []byte {
	if cap(st.bytes) < n {
		st.bytes = make([]byte, n)
	}
	return st.bytes[:n]
}

// Compile prepares e for evaluation. Parameters must have been bound.
func Compile(e Expr) (*Program, error) {
	n, err := compileNode(e)
	if err != nil {
		return nil, err
	}
	return &Program{root: n, t: e.Type()}, nil
}

// Eval computes the expression for every row of batch. The result has
// batch.NumRows() values; the caller releases it.
func (p *Program) Eval(ctx *EvalContext, batch arrow.Record) (arrow.Array, error) {
	st := newEvalState(ctx, batch)
	v, err := p.root.eval(st)
	if err != nil {
		return nil, err
	}
	if v.scalar {
		b := broadcast(st, p.t, v)
		v.release()
		v = b
	}
	return st.applyFailures(v.arr), nil
}

func newEvalState(ctx *EvalContext, batch arrow.Record) *evalState {
	mem := ctx.Alloc
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	return &evalState{ctx: ctx, mem: mem, batch: batch, n: int(batch.NumRows())}
}

// applyFailures nulls the rows that failed in lenient mode and counts them.
// It takes over arr and returns the array to use instead.
func (st *evalState) applyFailures(arr arrow.Array) arrow.Array {
	if st.failed == nil {
		return arr
	}
	failed := bitutil.CountSetBits(st.failed, 0, st.n)
	st.ctx.Errors += int64(failed)
	if failed == 0 || arr.DataType().ID() == arrow.NULL {
		return arr
	}
	d := arr.Data()
	valid := st.allocBitmap(st.n)
	vb := valid.Bytes()
	if arr.NullN() > 0 {
		bitutil.CopyBitmap(arr.NullBitmapBytes(), d.Offset(), st.n, vb, 0)
	} else {
		bitutil.SetBitsTo(vb, 0, int64(st.n), true)
	}
	bitutil.BitmapAndNot(vb, st.failed, 0, 0, vb, 0, int64(st.n))
	if d.Offset() != 0 {
		// The validity bitmap of the new array must line up with its
		// values, which start at the array's offset.
		shifted := st.allocBitmap(st.n + d.Offset())
		bitutil.CopyBitmap(vb, 0, st.n, shifted.Bytes(), d.Offset())
		valid.Release()
		valid = shifted
	}
	bufs := append([]*memory.Buffer{valid}, d.Buffers()[1:]...)
	nd := array.NewData(d.DataType(), d.Len(), bufs, d.Children(), array.UnknownNullCount, d.Offset())
	out := array.MakeFromData(nd)
	nd.Release()
	valid.Release()
	arr.Release()
	return out
}

// EvalPredicate evaluates a boolean program and returns the rows where it is
// TRUE as a boolean array without NULLs (a NULL predicate selects nothing),
// and how many rows that is. The caller releases the array.
func EvalPredicate(ctx *EvalContext, p *Program, batch arrow.Record) (*array.Boolean, int, error) {
	if p.t != types.Bool {
		return nil, 0, pgerror.New(pgerror.DatatypeMismatch, "predicate is of type %s, not boolean", p.t)
	}
	st := newEvalState(ctx, batch)
	v, err := p.root.eval(st)
	if err != nil {
		return nil, 0, err
	}
	defer v.release()
	sel := st.allocBitmap(st.n)
	sb := sel.Bytes()
	t, _ := st.truth(v)
	copy(sb, t)
	if st.failed != nil {
		st.ctx.Errors += int64(bitutil.CountSetBits(st.failed, 0, st.n))
		bitutil.BitmapAndNot(sb, st.failed, 0, 0, sb, 0, int64(st.n))
	}
	count := bitutil.CountSetBits(sb, 0, st.n)
	data := array.NewData(arrow.FixedWidthTypes.Boolean, st.n, []*memory.Buffer{nil, sel}, nil, 0, 0)
	out := array.NewBooleanData(data)
	data.Release()
	sel.Release()
	return out, count, nil
}

// Filter returns the rows of batch for which pred is TRUE. When every row
// passes it returns batch itself, retained; the caller releases the result
// either way.
func Filter(ctx *EvalContext, batch arrow.Record, pred *Program) (arrow.Record, error) {
	sel, count, err := EvalPredicate(ctx, pred, batch)
	if err != nil {
		return nil, err
	}
	defer sel.Release()
	switch count {
	case int(batch.NumRows()):
		batch.Retain()
		return batch, nil
	case 0:
		return batch.NewSlice(0, 0), nil
	}
	mem := ctx.Alloc
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	d := sel.Data()
	idx := selectedRows(d.Buffers()[1].Bytes(), d.Len(), count)
	out, err := TakeRecord(mem, batch, idx)
	if err != nil {
		return nil, fmt.Errorf("filter batch: %w", err)
	}
	return out, nil
}

// truth returns bitmaps (offset 0, n bits) of the rows where the boolean v is
// TRUE and where it is FALSE; rows in neither are NULL.
func (st *evalState) truth(v vec) (t, f []byte) {
	nb := bitutil.BytesForBits(int64(st.n))
	t, f = make([]byte, nb), make([]byte, nb)
	if v.scalar {
		if v.arr.IsValid(0) {
			if v.arr.(*array.Boolean).Value(0) {
				bitutil.SetBitsTo(t, 0, int64(st.n), true)
			} else {
				bitutil.SetBitsTo(f, 0, int64(st.n), true)
			}
		}
		return t, f
	}
	d := v.arr.Data()
	off := int64(d.Offset())
	values := d.Buffers()[1].Bytes()
	if v.arr.NullN() == 0 {
		bitutil.CopyBitmap(values, int(off), st.n, t, 0)
		bitutil.InvertBitmap(values, int(off), st.n, f, 0)
		return t, f
	}
	valid := v.arr.NullBitmapBytes()
	bitutil.BitmapAnd(valid, values, off, off, t, 0, int64(st.n))
	bitutil.BitmapAndNot(valid, values, off, off, f, 0, int64(st.n))
	return t, f
}

// broadcast expands a scalar to one value per row.
func broadcast(st *evalState, t types.T, v vec) vec {
	pick := make([]int32, st.n)
	return gather(st, t, []vec{v}, pick)
}

// withLive runs fn with the needed rows narrowed to live (nil: unchanged).
func (st *evalState) withLive(live []byte, fn func() (vec, error)) (vec, error) {
	saved := st.live
	st.live = live
	defer func() { st.live = saved }()
	return fn()
}

// liveBits returns a fresh copy of the rows currently needed.
func (st *evalState) liveBits() []byte {
	b := make([]byte, bitutil.BytesForBits(int64(st.n)))
	if st.live == nil {
		bitutil.SetBitsTo(b, 0, int64(st.n), true)
	} else {
		copy(b, st.live)
	}
	return b
}

func (st *evalState) anySet(b []byte) bool {
	return bitutil.CountSetBits(b, 0, st.n) > 0
}

// errUnbound is returned when a program still contains a parameter.
func errUnbound(p *Param) error {
	return pgerror.New(pgerror.UndefinedParameter, "there is no parameter $%d", p.Index+1)
}
