package executor

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sluicedb/sluice/expr"
	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/plan"
	"github.com/sluicedb/sluice/types"
)

// ProjectSet runs the set-returning functions of a SELECT list
// (plan.ProjectSet): for each input row, every call in lockstep, the row's
// columns repeated once per output row. Like TableFunction it works a piece
// of at most tableFunctionPiece rows at a time and runs in batch mode only.
type ProjectSet struct {
	n      *plan.ProjectSet
	progs  [][]*expr.Program // per call, per argument
	ectx   *expr.EvalContext
	schema *arrow.Schema
	width  int // the input's columns
}

// NewProjectSet compiles the arguments of n's calls.
func NewProjectSet(n *plan.ProjectSet, ectx *expr.EvalContext) (*ProjectSet, error) {
	p := &ProjectSet{n: n, ectx: ectx, schema: n.Cols.Arrow(), width: len(n.Input.Schema())}
	for _, c := range n.Calls {
		var progs []*expr.Program
		for _, a := range c.Args {
			prog, err := expr.Compile(a)
			if err != nil {
				return nil, err
			}
			progs = append(progs, prog)
		}
		p.progs = append(p.progs, progs)
	}
	return p, nil
}

// Process outputs the rows of the calls over each row of c.
func (p *ProjectSet) Process(ctx context.Context, _ int, c Chunk, emit Emit) error {
	if c.Ops != nil {
		return pgerror.New(pgerror.FeatureNotSupported, "set-returning functions in the SELECT list cannot read a changing input")
	}
	rec := c.Rec
	args := make([][]arrow.Array, len(p.progs))
	defer func() {
		for _, as := range args {
			for _, a := range as {
				a.Release()
			}
		}
	}()
	for i, progs := range p.progs {
		for _, prog := range progs {
			a, err := prog.Eval(p.ectx, rec)
			if err != nil {
				return err
			}
			args[i] = append(args[i], a)
		}
	}

	mem := p.ectx.Alloc
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	values := make([]array.Builder, len(p.n.Calls))
	for i, c := range p.n.Calls {
		values[i] = array.NewBuilder(mem, c.Func.Ret.Arrow())
	}
	defer func() {
		for _, b := range values {
			b.Release()
		}
	}()
	rowsOf := make([]int32, 0, 64)
	calls := make([]*expr.SetRows, len(p.n.Calls))
	live := make([]bool, len(p.n.Calls))
	got := make([]int, len(p.n.Calls))
	var datums []types.Datum
	for i := 0; i < int(rec.NumRows()); i++ {
		for k, c := range p.n.Calls {
			datums = datums[:0]
			for j, a := range args[k] {
				datums = append(datums, types.Value(a, i, c.Func.Args[j]))
			}
			rows, err := c.Func.Start(datums)
			if err != nil {
				return err
			}
			calls[k], live[k] = rows, true
		}
		for {
			if len(rowsOf) == tableFunctionPiece {
				if err := p.flush(ctx, rec, values, rowsOf, emit); err != nil {
					return err
				}
				rowsOf = rowsOf[:0]
			}
			// Each live call appends up to room values; the step is as
			// long as the longest, and the others are padded with NULL.
			room := tableFunctionPiece - len(rowsOf)
			step := 0
			for k, rows := range calls {
				got[k] = 0
				for live[k] && got[k] < room {
					n, err := rows.Next(values[k], room-got[k])
					if err != nil {
						return err
					}
					if n == 0 {
						live[k] = false
					}
					got[k] += n
				}
				step = max(step, got[k])
			}
			if step == 0 {
				break
			}
			for k := range calls {
				for range step - got[k] {
					values[k].AppendNull()
				}
			}
			for range step {
				rowsOf = append(rowsOf, int32(i))
			}
		}
	}
	if len(rowsOf) > 0 {
		return p.flush(ctx, rec, values, rowsOf, emit)
	}
	return nil
}

// flush emits the rows built so far; the builders are left empty.
func (p *ProjectSet) flush(ctx context.Context, in arrow.Record, values []array.Builder, rowsOf []int32, emit Emit) error {
	cols := make([]arrow.Array, 0, p.width+len(values))
	defer func() {
		for _, c := range cols {
			c.Release()
		}
	}()
	if p.width > 0 {
		taken := make([]arrow.Array, p.width)
		if err := takeColumns(ctx, in.Columns()[:p.width], rowsOf, nil, 0, taken); err != nil {
			return fmt.Errorf("set-returning functions in the SELECT list: %w", err)
		}
		cols = append(cols, taken...)
	}
	for _, b := range values {
		cols = append(cols, b.NewArray())
	}
	rec := array.NewRecord(p.schema, cols, int64(len(rowsOf)))
	defer rec.Release()
	return emit(ctx, Chunk{Rec: rec})
}
