package executor

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sluicedb/sluice/expr"
	"github.com/sluicedb/sluice/plan"
	"github.com/sluicedb/sluice/types"
)

// Project computes a new record from expressions over the input; ops pass
// through unchanged. A bare column reference reuses the input array.
type Project struct {
	progs  []*expr.Program
	refs   []int // column index for bare references, -1 otherwise
	schema *arrow.Schema
	ectx   *expr.EvalContext
}

// NewProject compiles the expressions of n.
func NewProject(n *plan.Project, ectx *expr.EvalContext) (*Project, error) {
	p := &Project{schema: n.Cols.Arrow(), ectx: ectx}
	for _, e := range n.Exprs {
		if ref, ok := e.(*expr.ColumnRef); ok {
			p.refs = append(p.refs, ref.Index)
			p.progs = append(p.progs, nil)
			continue
		}
		prog, err := expr.Compile(e)
		if err != nil {
			return nil, err
		}
		p.refs = append(p.refs, -1)
		p.progs = append(p.progs, prog)
	}
	return p, nil
}

// Process evaluates the projection over c.
func (p *Project) Process(ctx context.Context, _ int, c Chunk, emit Emit) error {
	rec, err := p.apply(c.Rec)
	if err != nil {
		return err
	}
	defer rec.Release()
	return emit(ctx, Chunk{Rec: rec, Ops: c.Ops})
}

func (p *Project) apply(in arrow.Record) (arrow.Record, error) {
	cols := make([]arrow.Array, len(p.progs))
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	for i, prog := range p.progs {
		if prog == nil {
			cols[i] = in.Column(p.refs[i])
			cols[i].Retain()
			continue
		}
		a, err := prog.Eval(p.ectx, in)
		if err != nil {
			return nil, err
		}
		cols[i] = a
	}
	return array.NewRecord(p.schema, cols, in.NumRows()), nil
}

// Filter keeps the rows whose predicate is true (not false, not NULL).
type Filter struct {
	prog  *expr.Program
	ectx  *expr.EvalContext
	alloc memory.Allocator
	keep  []bool
	idx   []int32
}

// NewFilter compiles the predicate of n.
func NewFilter(n *plan.Filter, ectx *expr.EvalContext) (*Filter, error) {
	prog, err := expr.Compile(n.Pred)
	if err != nil {
		return nil, err
	}
	return &Filter{prog: prog, ectx: ectx, alloc: ectx.Alloc}, nil
}

// Process filters c.
func (f *Filter) Process(ctx context.Context, _ int, c Chunk, emit Emit) error {
	if c.Len() == 0 {
		return nil
	}
	res, err := f.prog.Eval(f.ectx, c.Rec)
	if err != nil {
		return err
	}
	defer res.Release()
	mask := res.(*array.Boolean)
	// A NULL predicate drops the row: fold validity into the mask.
	keep, total := 0, mask.Len()
	var ops []Op
	for i := 0; i < total; i++ {
		if mask.IsValid(i) && mask.Value(i) {
			keep++
			if c.Ops != nil {
				ops = append(ops, c.Ops[i])
			}
		}
	}
	switch keep {
	case 0:
		return nil
	case total:
		return emit(ctx, c)
	}
	f.keep = grow(f.keep, total)
	for i := range f.keep {
		f.keep[i] = mask.IsValid(i) && mask.Value(i)
	}
	out, err := filterRecord(ctx, c.Rec, f.keep, f.alloc, &f.idx)
	if err != nil {
		return fmt.Errorf("filter: %w", err)
	}
	defer out.Release()
	return emit(ctx, Chunk{Rec: out, Ops: ops})
}

// valuesRecord evaluates the constant rows of a VALUES list into a record.
func valuesRecord(n *plan.Values, ectx *expr.EvalContext) (arrow.Record, error) {
	bs := newBuilders(ectx.Alloc, n.Cols.Arrow())
	defer func() {
		for _, b := range bs {
			b.Release()
		}
	}()
	one := array.NewRecord(arrow.NewSchema(nil, nil), nil, 1)
	defer one.Release()
	for _, row := range n.Rows {
		for j, e := range row {
			prog, err := expr.Compile(e)
			if err != nil {
				return nil, err
			}
			a, err := prog.Eval(ectx, one)
			if err != nil {
				return nil, err
			}
			types.Put(bs[j], types.Value(a, 0, n.Cols[j].Type), n.Cols[j].Type)
			a.Release()
		}
	}
	cols := make([]arrow.Array, len(bs))
	for i, b := range bs {
		cols[i] = b.NewArray()
		defer cols[i].Release()
	}
	return array.NewRecord(n.Cols.Arrow(), cols, int64(len(n.Rows))), nil
}
