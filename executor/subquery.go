package executor

import (
	"context"
	"errors"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sluicedb/sluice/expr"
	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/plan"
	"github.com/sluicedb/sluice/types"
)

// Subqueries in the expressions of a batch query run as batch plans of
// their own, over the same snapshots as the query around them: package expr
// evaluates a subquery by calling back into the executor (expr.
// SubqueryRunner), which this file implements.

// errSubqueryDone stops an inner query once its subquery has the rows it
// needs (two for a scalar subquery, one for EXISTS).
var errSubqueryDone = errors.New("subquery has its rows")

// rootedPlan is what the planner stores in expr.Subquery.Plan: a plan.Node
// behind the interface that package expr can see.
type rootedPlan interface {
	Root() plan.Node
}

// SubqueryPlan returns the plan of a subquery's inner query.
func SubqueryPlan(q *expr.Subquery) (plan.Node, error) { return planRoot(q.Plan) }

func planRoot(p expr.SubPlan) (plan.Node, error) {
	r, ok := p.(rootedPlan)
	if !ok || r.Root() == nil {
		return nil, pgerror.New(pgerror.InternalError, "subquery plan %T has no root", p)
	}
	return r.Root(), nil
}

// WalkPlan calls f for n and every node below it, including the nodes of
// the plans of subqueries in their expressions, which Inputs does not
// reach. Whatever gathers what a query reads (the snapshot of every
// relation it scans) must walk it this way.
func WalkPlan(n plan.Node, f func(plan.Node)) {
	f(n)
	for _, e := range nodeExprs(n) {
		for _, q := range expr.Subqueries(e) {
			if root, err := SubqueryPlan(q); err == nil {
				WalkPlan(root, f)
			}
		}
	}
	for _, in := range n.Inputs() {
		WalkPlan(in, f)
	}
}

// nodeExprs lists the expressions a plan node evaluates.
func nodeExprs(n plan.Node) []expr.Expr {
	switch n := n.(type) {
	case *plan.Project:
		return n.Exprs
	case *plan.Filter:
		return []expr.Expr{n.Pred}
	case *plan.Join:
		if n.Residual != nil {
			return []expr.Expr{n.Residual}
		}
	case *plan.Values:
		var all []expr.Expr
		for _, row := range n.Rows {
			all = append(all, row...)
		}
		return all
	case *plan.TableFunction:
		return n.Args
	}
	return nil
}

// subqueryRunner runs the inner queries of a batch query's subqueries.
type subqueryRunner struct {
	// ctx is the statement's: expression evaluation, which calls
	// RunSubquery, has none to pass down.
	ctx context.Context
	run *batchRun
}

var _ expr.SubqueryRunner = (*subqueryRunner)(nil)

// serveSubqueries lets the expressions of the run evaluate subqueries, and
// returns the function that undoes it. An evaluation context that already
// has a runner (a run nested in another) keeps it.
func (b *batchRun) serveSubqueries(ctx context.Context) (undo func()) {
	if b.ectx.Subqueries != nil {
		return func() {}
	}
	b.ectx.Subqueries = &subqueryRunner{ctx: ctx, run: b}
	return func() { b.ectx.Subqueries = nil }
}

// RunSubquery runs the plan of q with its outer references bound to outer
// and returns its first column, at most limit rows of it.
func (r *subqueryRunner) RunSubquery(q *expr.Subquery, outer []types.Datum, limit int) (arrow.Array, error) {
	root, err := SubqueryPlan(q)
	if err != nil {
		return nil, err
	}
	if len(outer) > 0 {
		bound := q.Plan.MapExprs(func(e expr.Expr) expr.Expr { return expr.BindOuter(e, outer) })
		if root, err = planRoot(bound); err != nil {
			return nil, err
		}
	}
	cols := root.Schema()
	if len(cols) == 0 {
		return nil, pgerror.New(pgerror.InternalError, "subquery plan has no column")
	}
	mem := r.run.ectx.Alloc
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	var parts []arrow.Array
	defer func() {
		for _, p := range parts {
			p.Release()
		}
	}()
	rows := 0
	err = r.run.run(r.ctx, root, func(_ context.Context, c Chunk) error {
		if c.Ops != nil {
			return fmt.Errorf("subquery produced a retraction")
		}
		n := int(c.Rec.NumRows())
		if limit >= 0 && rows+n > limit {
			n = limit - rows
		}
		if n > 0 {
			parts = append(parts, array.NewSlice(c.Rec.Column(0), 0, int64(n)))
			rows += n
		}
		if limit >= 0 && rows >= limit {
			return errSubqueryDone
		}
		return nil
	})
	if err != nil && !errors.Is(err, errSubqueryDone) {
		return nil, err
	}
	switch len(parts) {
	case 0:
		return array.MakeArrayOfNull(mem, cols[0].Type.Arrow(), 0), nil
	case 1:
		parts[0].Retain()
		return parts[0], nil
	}
	out, err := array.Concatenate(parts, mem)
	if err != nil {
		return nil, fmt.Errorf("collect the rows of a subquery: %w", err)
	}
	return out, nil
}
