package executor

import (
	"context"
	"errors"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"

	"github.com/sluicedb/sluice/expr"
	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/plan"
)

// Snapshots gives a batch query the current rows of the relations it scans.
type Snapshots interface {
	// Snapshot returns the rows of a relation; the caller releases them.
	Snapshot(ctx context.Context, scan *plan.Scan) ([]arrow.Record, error)
}

// errLimitReached stops feeding a subtree once a LIMIT above it is satisfied.
var errLimitReached = errors.New("limit reached")

// RunBatch runs plan n over bounded inputs and calls emit with each output
// record, in order. Operators are the same as in streaming mode, driven to
// completion: a barrier-emitting operator emits in Finish instead.
func RunBatch(ctx context.Context, n plan.Node, snaps Snapshots, ectx *expr.EvalContext, emit func(arrow.Record) error) error {
	ctx = compute.WithAllocator(ctx, ectx.Alloc)
	b := &batchRun{snaps: snaps, ectx: ectx}
	defer b.serveSubqueries(ctx)()
	return b.run(ctx, n, func(ctx context.Context, c Chunk) error {
		if c.Ops != nil {
			return fmt.Errorf("batch query produced a retraction")
		}
		return emit(c.Rec)
	})
}

type batchRun struct {
	snaps Snapshots
	ectx  *expr.EvalContext
}

func (b *batchRun) run(ctx context.Context, n plan.Node, emit Emit) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	switch n := n.(type) {
	case *plan.Scan:
		recs, err := b.snaps.Snapshot(ctx, n)
		if err != nil {
			return err
		}
		defer func() {
			for _, r := range recs {
				r.Release()
			}
		}()
		for _, r := range recs {
			if err := emit(ctx, Chunk{Rec: r}); err != nil {
				return err
			}
		}
		return nil
	case *plan.Values:
		rec, err := valuesRecord(n, b.ectx)
		if err != nil {
			return err
		}
		defer rec.Release()
		return emit(ctx, Chunk{Rec: rec})
	case *plan.Project:
		op, err := NewProject(n, b.ectx)
		if err != nil {
			return err
		}
		return b.through(ctx, n.Input, op, emit)
	case *plan.Filter:
		op, err := NewFilter(n, b.ectx)
		if err != nil {
			return err
		}
		return b.through(ctx, n.Input, op, emit)
	case *plan.TableFunction:
		op, err := NewTableFunction(n, b.ectx)
		if err != nil {
			return err
		}
		if n.Input == nil {
			// One call, over a row of no columns.
			one := array.NewRecord(arrow.NewSchema(nil, nil), nil, 1)
			defer one.Release()
			return op.Process(ctx, 0, Chunk{Rec: one}, emit)
		}
		return b.through(ctx, n.Input, op, emit)
	case *plan.ProjectSet:
		op, err := NewProjectSet(n, b.ectx)
		if err != nil {
			return err
		}
		return b.through(ctx, n.Input, op, emit)
	case *plan.SetOp:
		return b.runSetOp(ctx, n, emit)
	case *plan.Window:
		if n.Func == plan.Session {
			return b.through(ctx, n.Input, NewSessionWindow(n, b.ectx.Alloc), emit)
		}
		return b.through(ctx, n.Input, NewWindowAssign(n, b.ectx.Alloc), emit)
	case *plan.Aggregate:
		op, err := NewHashAgg(n, b.ectx.Alloc)
		if err != nil {
			return err
		}
		return b.through(ctx, n.Input, op, emit)
	case *plan.TopN:
		op, err := NewTopN(n, b.ectx.Alloc, true)
		if err != nil {
			return err
		}
		return b.through(ctx, n.Input, op, emit)
	case *plan.OverWindow:
		return b.through(ctx, n.Input, NewOverWindow(n, b.ectx.Alloc), emit)
	case *plan.Sort:
		return b.through(ctx, n.Input, NewSort(n.Keys, n.Input.Schema().Types()), emit)
	case *plan.Limit:
		op := NewLimit(n.Count, n.Offset)
		if op.Done() {
			return nil
		}
		err := b.run(ctx, n.Input, func(ctx context.Context, c Chunk) error {
			if err := op.Process(ctx, 0, c, emit); err != nil {
				return err
			}
			if op.Done() {
				return errLimitReached
			}
			return nil
		})
		if errors.Is(err, errLimitReached) {
			return nil
		}
		return err
	case *plan.Join:
		var residual *expr.Program
		if n.Residual != nil {
			var err error
			if residual, err = expr.Compile(n.Residual); err != nil {
				return err
			}
		}
		j := NewHashJoin(n, n.Left.Schema().Types(), n.Right.Schema().Types(), residual, b.ectx)
		if err := b.run(ctx, n.Right, func(ctx context.Context, c Chunk) error {
			return j.Process(ctx, 1, c, emit)
		}); err != nil {
			return err
		}
		j.BuildDone()
		if err := b.run(ctx, n.Left, func(ctx context.Context, c Chunk) error {
			return j.Process(ctx, 0, c, emit)
		}); err != nil {
			return err
		}
		return j.Finish(ctx, emit)
	}
	return fmt.Errorf("batch mode cannot run %T", n)
}

// through feeds the output of input into op and finishes op.
func (b *batchRun) through(ctx context.Context, input plan.Node, op Operator, emit Emit) error {
	if err := b.run(ctx, input, func(ctx context.Context, c Chunk) error {
		return op.Process(ctx, 0, c, emit)
	}); err != nil {
		return err
	}
	if f, ok := op.(Finisher); ok {
		return f.Finish(ctx, emit)
	}
	return nil
}

// StreamNode is one dataflow of a streaming plan. A leaf reads a relation
// (Scan) and runs Ops over it; an inner node merges the outputs of its
// Inputs (the sides of a join, the branches of a UNION ALL), each of which
// forwards into it on its own port, and runs Ops over the merged stream (a
// join's first operator is told the port each chunk came on).
type StreamNode struct {
	Scan   *plan.Scan
	Inputs []*StreamNode
	Ops    []Operator
}

// StreamPlan builds the dataflows of a streaming plan: a tree of chains of
// operators, cut where a join or a UNION ALL has several inputs.
func StreamPlan(n plan.Node, ectx *expr.EvalContext) (*StreamNode, error) {
	var above []plan.Node
	cur := n
	for {
		ins := cur.Inputs()
		if len(ins) != 1 {
			break
		}
		above = append(above, cur)
		cur = ins[0]
	}
	node := &StreamNode{}
	switch c := cur.(type) {
	case *plan.Scan:
		node.Scan = c
	case *plan.Join:
		for _, in := range []plan.Node{c.Left, c.Right} {
			child, err := StreamPlan(in, ectx)
			if err != nil {
				return nil, err
			}
			node.Inputs = append(node.Inputs, child)
		}
		op, err := NewStreamJoin(c, ectx)
		if err != nil {
			return nil, err
		}
		node.Ops = append(node.Ops, op)
	case *plan.SetOp:
		if c.Op != plan.Union || !c.All {
			return nil, errUnsupportedStream(c)
		}
		var flatten func(plan.Node) error
		flatten = func(n plan.Node) error {
			if u, ok := n.(*plan.SetOp); ok && u.Op == plan.Union && u.All {
				if err := flatten(u.Left); err != nil {
					return err
				}
				return flatten(u.Right)
			}
			child, err := StreamPlan(n, ectx)
			if err != nil {
				return err
			}
			node.Inputs = append(node.Inputs, child)
			return nil
		}
		if err := flatten(c); err != nil {
			return nil, err
		}
	default:
		return nil, errUnsupportedStream(cur)
	}
	for i := len(above) - 1; i >= 0; i-- {
		op, err := streamOperator(above[i], ectx)
		if err != nil {
			return nil, err
		}
		node.Ops = append(node.Ops, op)
	}
	return node, nil
}

// streamOperator builds the streaming operator of a single-input node.
func streamOperator(n plan.Node, ectx *expr.EvalContext) (Operator, error) {
	switch n := n.(type) {
	case *plan.Project:
		return NewProject(n, ectx)
	case *plan.Filter:
		return NewFilter(n, ectx)
	case *plan.Window:
		if n.Func == plan.Session {
			return NewSessionWindow(n, ectx.Alloc), nil
		}
		return NewWindowAssign(n, ectx.Alloc), nil
	case *plan.Aggregate:
		return NewHashAgg(n, ectx.Alloc)
	case *plan.TopN:
		return NewTopN(n, ectx.Alloc, n.Input.Kind().IsAppendOnly())
	case *plan.OverWindow:
		return NewOverWindow(n, ectx.Alloc), nil
	}
	return nil, errUnsupportedStream(n)
}

func errUnsupportedStream(n plan.Node) error {
	what := fmt.Sprintf("%T", n)
	switch n := n.(type) {
	case *plan.Join:
		what = "joins"
	case *plan.Sort:
		what = "ORDER BY"
	case *plan.Limit:
		what = "LIMIT/OFFSET"
	case *plan.Values:
		what = "VALUES"
	case *plan.TableFunction:
		what = "set-returning functions in FROM (" + n.Func.Name + ")"
	case *plan.ProjectSet:
		what = "set-returning functions in the SELECT list"
	case *plan.SetOp:
		what = "INTERSECT and EXCEPT"
	}
	return pgerror.New(pgerror.FeatureNotSupported, "%s in a materialized view are not supported yet", what)
}
