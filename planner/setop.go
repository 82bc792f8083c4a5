package planner

import (
	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/sluicedb/sluice/expr"
	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/plan"
	"github.com/sluicedb/sluice/types"
)

// UNION, INTERSECT and EXCEPT [ALL].
//
// Each branch is planned as a query of its own (sharing the statement's
// parameters and the queries around it). Column j of the result has the
// common type of the branches' columns j, chosen as PostgreSQL's
// select_common_type does, with untyped literals and NULLs left to the
// resolution (`SELECT NULL UNION SELECT 1` is integer), and the name of the
// left branch's column. The grammar nests A UNION B UNION C as
// (A UNION B) UNION C, so types resolve pairwise from the left, as in
// PostgreSQL. ORDER BY, LIMIT and OFFSET of the statement apply to the whole
// set operation and name its output columns only.

// setOperation plans sel, whose Op is not SETOP_NONE.
func (p *Planner) setOperation(b *binder, sel *pg.SelectStmt) (plan.Node, error) {
	if sel.IntoClause != nil || len(sel.LockingClause) > 0 {
		return nil, pgerror.New(pgerror.FeatureNotSupported, "SELECT INTO and locking clauses are not supported")
	}
	node := &plan.SetOp{All: sel.All}
	switch sel.Op {
	case pg.SetOperation_SETOP_UNION:
		node.Op = plan.Union
	case pg.SetOperation_SETOP_INTERSECT:
		node.Op = plan.Intersect
	case pg.SetOperation_SETOP_EXCEPT:
		node.Op = plan.Except
	default:
		return nil, pgerror.New(pgerror.FeatureNotSupported, "set operation %s is not supported", sel.Op)
	}
	left, err := p.setOpBranch(b, sel.Larg)
	if err != nil {
		return nil, err
	}
	right, err := p.setOpBranch(b, sel.Rarg)
	if err != nil {
		return nil, err
	}
	lc, rc := left.Schema(), right.Schema()
	if len(lc) != len(rc) {
		return nil, pgerror.New(pgerror.SyntaxError, "each %s query must have the same number of columns", node.Op)
	}
	cols := make(types.Schema, len(lc))
	for j := range lc {
		t, err := expr.CommonType([]types.T{lc[j].Type, rc[j].Type}, node.Op.String())
		if err != nil {
			return nil, err
		}
		cols[j] = types.Column{Name: lc[j].Name, Type: outputType(t)}
	}
	if node.Left, err = coerceBranch(b, left, cols); err != nil {
		return nil, err
	}
	if node.Right, err = coerceBranch(b, right, cols); err != nil {
		return nil, err
	}
	node.Cols = cols

	var out plan.Node = node
	if node.Op == plan.Union && !node.All {
		node.All = true
		keys := make([]int, len(cols))
		for i := range keys {
			keys[i] = i
		}
		out = &plan.Aggregate{Input: node, Keys: keys, Cols: cols, WindowEnd: -1}
	}
	if len(sel.SortClause) > 0 {
		var keys []plan.SortKey
		for _, sn := range sel.SortClause {
			sb := sn.GetSortBy()
			idx, err := setOpSortColumn(sb.Node, cols, node.Op)
			if err != nil {
				return nil, err
			}
			keys = append(keys, sortKey(sb, idx))
		}
		out = &plan.Sort{Input: out, Keys: keys}
	}
	if sel.LimitCount != nil || sel.LimitOffset != nil {
		count, err := p.limitValue(b, sel.LimitCount, -1)
		if err != nil {
			return nil, err
		}
		offset, err := p.limitValue(b, sel.LimitOffset, 0)
		if err != nil {
			return nil, err
		}
		out = &plan.Limit{Input: out, Count: count, Offset: offset}
	}
	return out, nil
}

// setOpBranch plans one side of a set operation with a binder of its own
// (aggregates belong to the branch), keeping untyped output columns for the
// set operation to resolve.
func (p *Planner) setOpBranch(b *binder, sel *pg.SelectStmt) (plan.Node, error) {
	sub := &binder{params: b.params, aggs: newAggContext(), outer: b.outer, planner: p, ctes: b.ctes}
	n, err := p.selectQuery(sub, sel, true)
	b.params = sub.params
	if err != nil && sel.Op == pg.SetOperation_SETOP_NONE {
		// A branch that cannot be bound but provably has no rows (psql's
		// describe queries ask about publications, which Sluice keeps
		// empty, with reg* literals it cannot resolve at plan time) is
		// answered empty, as PlanSelect answers a whole such query.
		if empty, ok := p.emptyCatalogQuery(sel, pgerror.New(pgerror.FeatureNotSupported, "%v", err)); ok {
			return empty, nil
		}
	}
	return n, err
}

// coerceBranch converts the columns of a branch to the types of cols: in
// place when the branch ends in a projection (where untyped literals are
// still expressions), else with a projection above it.
func coerceBranch(b *binder, n plan.Node, cols types.Schema) (plan.Node, error) {
	have := n.Schema()
	same := true
	for j := range cols {
		same = same && have[j].Type == cols[j].Type
	}
	if same {
		return n, nil
	}
	coerce := func(e expr.Expr, t types.T) (expr.Expr, error) {
		if p, ok := e.(*expr.Param); ok && p.T == types.Unknown {
			p.T = t
			b.params[p.Index] = t
			return p, nil
		}
		if e.Type() == types.Null {
			return &expr.Const{Value: nil, T: t}, nil
		}
		return expr.Coerce(e, t, "UNION")
	}
	if pr, ok := n.(*plan.Project); ok {
		c := *pr
		c.Exprs = append([]expr.Expr(nil), pr.Exprs...)
		c.Cols = append(types.Schema(nil), pr.Cols...)
		for j := range cols {
			if c.Cols[j].Type == cols[j].Type {
				continue
			}
			e, err := coerce(c.Exprs[j], cols[j].Type)
			if err != nil {
				return nil, err
			}
			c.Exprs[j], c.Cols[j].Type = e, cols[j].Type
		}
		return &c, nil
	}
	exprs := make([]expr.Expr, len(cols))
	out := make(types.Schema, len(cols))
	for j := range cols {
		e, err := coerce(&expr.ColumnRef{Index: j, T: have[j].Type, Name: have[j].Name}, cols[j].Type)
		if err != nil {
			return nil, err
		}
		exprs[j] = e
		out[j] = types.Column{Name: have[j].Name, Type: cols[j].Type}
	}
	return &plan.Project{Input: n, Exprs: exprs, Cols: out}, nil
}

// setOpSortColumn resolves an ORDER BY item of a set operation: an output
// column's name or position; PostgreSQL takes nothing else there.
func setOpSortColumn(n *pg.Node, cols types.Schema, op plan.SetOpKind) (int, error) {
	if c := n.GetAConst(); c != nil && c.GetIval() != nil {
		pos := int(c.GetIval().Ival)
		if pos < 1 || pos > len(cols) {
			return 0, pgerror.New(pgerror.InvalidColumnReference, "ORDER BY position %d is not in select list", pos).WithPosition(int(c.Location) + 1)
		}
		return pos - 1, nil
	}
	if cr := n.GetColumnRef(); cr != nil && len(cr.Fields) == 1 && cr.Fields[0].GetString_() != nil {
		name := cr.Fields[0].GetString_().Sval
		for i, c := range cols {
			if c.Name == name {
				return i, nil
			}
		}
		return 0, pgerror.New(pgerror.UndefinedColumn, "column %q does not exist", name).WithPosition(int(cr.Location) + 1)
	}
	return 0, pgerror.New(pgerror.FeatureNotSupported, "invalid UNION/INTERSECT/EXCEPT ORDER BY clause").
		WithDetail("Only result column names can be used, not expressions or functions.").
		WithHint("Add the expression/function to every SELECT, or move the UNION into a FROM clause.")
}

// sortKey is the plan.SortKey of an ORDER BY item on column idx, with
// PostgreSQL's default NULLS LAST ascending and NULLS FIRST descending.
func sortKey(sb *pg.SortBy, idx int) plan.SortKey {
	desc := sb.SortbyDir == pg.SortByDir_SORTBY_DESC
	nullsFirst := desc
	switch sb.SortbyNulls {
	case pg.SortByNulls_SORTBY_NULLS_FIRST:
		nullsFirst = true
	case pg.SortByNulls_SORTBY_NULLS_LAST:
		nullsFirst = false
	}
	return plan.SortKey{Col: idx, Desc: desc, NullsFirst: nullsFirst}
}
