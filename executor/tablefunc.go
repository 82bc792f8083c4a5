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

// tableFunctionPiece is how many rows a TableFunction puts in one record:
// a long series goes out in pieces, so that it is never held whole and a
// LIMIT above stops it early.
const tableFunctionPiece = 8192

// TableFunction calls a set-returning function (plan.TableFunction) once
// per input row and outputs, for each value, the row's columns followed by
// the value (and its ordinality). It runs in batch mode only: its input
// never retracts.
type TableFunction struct {
	n      *plan.TableFunction
	progs  []*expr.Program
	ectx   *expr.EvalContext
	schema *arrow.Schema
	width  int // the input's columns
}

// NewTableFunction compiles the arguments of n.
func NewTableFunction(n *plan.TableFunction, ectx *expr.EvalContext) (*TableFunction, error) {
	t := &TableFunction{n: n, ectx: ectx, schema: n.Cols.Arrow()}
	if n.Input != nil {
		t.width = len(n.Input.Schema())
	}
	for _, a := range n.Args {
		prog, err := expr.Compile(a)
		if err != nil {
			return nil, err
		}
		t.progs = append(t.progs, prog)
	}
	return t, nil
}

// Process calls the function for each row of c.
func (t *TableFunction) Process(ctx context.Context, _ int, c Chunk, emit Emit) error {
	if c.Ops != nil {
		return pgerror.New(pgerror.FeatureNotSupported, "%s in FROM cannot read a changing input", t.n.Func.Name)
	}
	rec := c.Rec
	args := make([]arrow.Array, 0, len(t.progs))
	defer func() {
		for _, a := range args {
			a.Release()
		}
	}()
	for _, p := range t.progs {
		a, err := p.Eval(t.ectx, rec)
		if err != nil {
			return err
		}
		args = append(args, a)
	}

	mem := t.ectx.Alloc
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	out := t.newPiece(mem)
	defer out.release()
	datums := make([]types.Datum, len(args))
	for i := 0; i < int(rec.NumRows()); i++ {
		for k, a := range args {
			datums[k] = types.Value(a, i, t.n.Func.Args[k])
		}
		rows, err := t.n.Func.Start(datums)
		if err != nil {
			return err
		}
		var ordinality int64
		for {
			if len(out.rows) == tableFunctionPiece {
				if err := t.flush(ctx, rec, out, emit); err != nil {
					return err
				}
			}
			n, err := rows.Next(out.values, tableFunctionPiece-len(out.rows))
			if err != nil {
				return err
			}
			if n == 0 {
				break
			}
			for range n {
				out.rows = append(out.rows, int32(i))
				if out.ordinality != nil {
					ordinality++
					out.ordinality.Append(ordinality)
				}
			}
		}
	}
	if len(out.rows) > 0 {
		return t.flush(ctx, rec, out, emit)
	}
	return nil
}

// piece is the output being built: the function's values, their
// ordinality, and the input row each belongs to.
type piece struct {
	values     array.Builder
	ordinality *array.Int64Builder // nil without WITH ORDINALITY
	rows       []int32
}

func (t *TableFunction) newPiece(mem memory.Allocator) *piece {
	p := &piece{values: array.NewBuilder(mem, t.n.Func.Ret.Arrow()), rows: make([]int32, 0, 64)}
	if t.n.Ordinality {
		p.ordinality = array.NewInt64Builder(mem)
	}
	return p
}

func (p *piece) release() {
	p.values.Release()
	if p.ordinality != nil {
		p.ordinality.Release()
	}
}

// flush emits the rows built so far and empties the piece.
func (t *TableFunction) flush(ctx context.Context, in arrow.Record, p *piece, emit Emit) error {
	cols := make([]arrow.Array, 0, t.width+2)
	defer func() {
		for _, c := range cols {
			c.Release()
		}
	}()
	if t.width > 0 {
		taken := make([]arrow.Array, t.width)
		if err := takeColumns(ctx, in.Columns()[:t.width], p.rows, nil, 0, taken); err != nil {
			return fmt.Errorf("%s in FROM: %w", t.n.Func.Name, err)
		}
		cols = append(cols, taken...)
	}
	cols = append(cols, p.values.NewArray())
	if p.ordinality != nil {
		cols = append(cols, p.ordinality.NewArray())
	}
	rec := array.NewRecord(t.schema, cols, int64(len(p.rows)))
	defer rec.Release()
	p.rows = p.rows[:0]
	return emit(ctx, Chunk{Rec: rec})
}
