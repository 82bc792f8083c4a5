package planner

import "github.com/sluicedb/sluice/expr"

// mapExpr rebuilds e: f is tried on each node from the root
// down; when it returns replaced, the node is swapped and its children are
// not visited; otherwise the node's children are mapped.
func mapExpr(e expr.Expr, f func(expr.Expr) (expr.Expr, bool, error)) (expr.Expr, error) {
	if e == nil {
		return nil, nil
	}
	if r, replaced, err := f(e); err != nil || replaced {
		return r, err
	}
	m := func(x expr.Expr) (expr.Expr, error) { return mapExpr(x, f) }
	list := func(xs []expr.Expr) ([]expr.Expr, error) {
		out := make([]expr.Expr, len(xs))
		for i, x := range xs {
			y, err := m(x)
			if err != nil {
				return nil, err
			}
			out[i] = y
		}
		return out, nil
	}
	switch e := e.(type) {
	case *expr.Call:
		args, err := list(e.Args)
		if err != nil {
			return nil, err
		}
		c := *e
		c.Args = args
		return &c, nil
	case *expr.Cast:
		a, err := m(e.Arg)
		if err != nil {
			return nil, err
		}
		return &expr.Cast{Arg: a, To: e.To}, nil
	case *expr.And:
		args, err := list(e.Args)
		return &expr.And{Args: args}, err
	case *expr.Or:
		args, err := list(e.Args)
		return &expr.Or{Args: args}, err
	case *expr.Not:
		a, err := m(e.Arg)
		return &expr.Not{Arg: a}, err
	case *expr.IsNull:
		a, err := m(e.Arg)
		return &expr.IsNull{Arg: a, Negate: e.Negate}, err
	case *expr.IsBool:
		a, err := m(e.Arg)
		return &expr.IsBool{Arg: a, Value: e.Value, Negate: e.Negate}, err
	case *expr.Case:
		c := &expr.Case{T: e.T}
		for _, w := range e.Whens {
			cond, err := m(w.Cond)
			if err != nil {
				return nil, err
			}
			res, err := m(w.Result)
			if err != nil {
				return nil, err
			}
			c.Whens = append(c.Whens, expr.When{Cond: cond, Result: res})
		}
		var err error
		c.Else, err = m(e.Else)
		return c, err
	case *expr.Coalesce:
		args, err := list(e.Args)
		return &expr.Coalesce{Args: args, T: e.T}, err
	case *expr.NullIf:
		a, err := m(e.A)
		if err != nil {
			return nil, err
		}
		b, err := m(e.B)
		return &expr.NullIf{A: a, B: b, Eq: e.Eq}, err
	case *expr.In:
		a, err := m(e.Arg)
		if err != nil {
			return nil, err
		}
		items, err := list(e.List)
		return &expr.In{Arg: a, List: items, Eq: e.Eq, Negate: e.Negate}, err
	case *expr.Subquery:
		return mapSubquery(e, m)
	}
	return e, nil
}

// exprKey identifies an expression by structure: two expressions with the
// same key compute the same value from the same input row. String is for
// people and names columns (e.v and kv.v both print as v); the key numbers
// them instead.
func exprKey(e expr.Expr) string {
	k, err := mapExpr(e, func(x expr.Expr) (expr.Expr, bool, error) {
		if r, ok := x.(*expr.ColumnRef); ok {
			return &expr.ColumnRef{Index: r.Index, T: r.T}, true, nil
		}
		return nil, false, nil
	})
	if err != nil {
		return e.String()
	}
	return k.String()
}
