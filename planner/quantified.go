package planner

import (
	pg "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/proto"
)

// quantified rewrites, for streaming, the top-level conditions of WHERE of
// the form `x op ANY (SELECT y ...)` and `x op ALL (SELECT y ...)` over an
// uncorrelated subquery into comparisons with the subquery's aggregates,
// which scalarJoins then joins incrementally. In WHERE, where NULL and
// false both drop a row, these agree with SQL's definitions:
//
//	x > ANY (S)   x > min(S)          (some y with x > y)
//	x < ANY (S)   x < max(S)
//	x <> ANY (S)  x <> min(S) OR x <> max(S)
//	x > ALL (S)   count(*) = 0 OR (x > max(S) AND count(*) = count(y))
//	x < ALL (S)   count(*) = 0 OR (x < min(S) AND count(*) = count(y))
//	x = ALL (S)   count(*) = 0 OR (x = min(S) AND x = max(S) AND count(*) = count(y))
//
// (>= and <= as > and <.) A NULL in S makes ALL unknown unless some y
// already decides it false, hence count(*) = count(y). = ANY is IN
// (semiJoins); <> ALL is NOT IN, whose NULL rules are left to the batch
// path. It returns a rewritten copy, or nil when nothing applies.
func quantified(sel *pg.SelectStmt) *pg.SelectStmt {
	if sel.WhereClause == nil || sel.Op != pg.SetOperation_SETOP_NONE {
		return nil
	}
	var conjuncts []*pg.Node
	if be := sel.WhereClause.GetBoolExpr(); be != nil && be.Boolop == pg.BoolExprType_AND_EXPR {
		conjuncts = be.Args
	} else {
		conjuncts = []*pg.Node{sel.WhereClause}
	}
	out := proto.Clone(sel).(*pg.SelectStmt)
	var conds []*pg.Node
	changed := false
	for _, c := range conjuncts {
		if r := quantifiedCondition(c.GetSubLink()); r != nil {
			conds, changed = append(conds, r), true
		} else {
			conds = append(conds, c)
		}
	}
	if !changed {
		return nil
	}
	if len(conds) == 1 {
		out.WhereClause = conds[0]
	} else {
		out.WhereClause = pg.MakeBoolExprNode(pg.BoolExprType_AND_EXPR, conds, 0)
	}
	return out
}

// quantifiedCondition is the rewrite of one ANY or ALL sublink, or nil.
func quantifiedCondition(sl *pg.SubLink) *pg.Node {
	if sl == nil || sl.Testexpr == nil || sl.Testexpr.GetRowExpr() != nil || len(sl.OperName) != 1 {
		return nil
	}
	sub := sl.Subselect.GetSelectStmt()
	if sub == nil || len(sub.TargetList) != 1 || sub.TargetList[0].GetResTarget() == nil {
		return nil
	}
	op := sl.OperName[0].GetString_().GetSval()
	loc := sl.Location
	x := func() *pg.Node { return proto.Clone(sl.Testexpr).(*pg.Node) }
	cmp := func(op string, l, r *pg.Node) *pg.Node {
		return pg.MakeAExprNode(pg.A_Expr_Kind_AEXPR_OP, []*pg.Node{pg.MakeStrNode(op)}, l, r, loc)
	}
	agg := func(fn string) *pg.Node { return aggregateOf(sub, fn, loc) }
	or := func(a, b *pg.Node) *pg.Node {
		return pg.MakeBoolExprNode(pg.BoolExprType_OR_EXPR, []*pg.Node{a, b}, loc)
	}
	and := func(ns ...*pg.Node) *pg.Node { return pg.MakeBoolExprNode(pg.BoolExprType_AND_EXPR, ns, loc) }
	empty := func() *pg.Node { return cmp("=", agg("count*"), pg.MakeAConstIntNode(0, loc)) }
	noNulls := func() *pg.Node { return cmp("=", agg("count*"), agg("count")) }
	switch sl.SubLinkType {
	case pg.SubLinkType_ANY_SUBLINK:
		switch op {
		case ">", ">=":
			return cmp(op, x(), agg("min"))
		case "<", "<=":
			return cmp(op, x(), agg("max"))
		case "<>":
			return or(cmp("<>", x(), agg("min")), cmp("<>", x(), agg("max")))
		}
	case pg.SubLinkType_ALL_SUBLINK:
		switch op {
		case ">", ">=":
			return or(empty(), and(cmp(op, x(), agg("max")), noNulls()))
		case "<", "<=":
			return or(empty(), and(cmp(op, x(), agg("min")), noNulls()))
		case "=":
			return or(empty(), and(cmp("=", x(), agg("min")), cmp("=", x(), agg("max")), noNulls()))
		}
	}
	return nil
}

// aggregateOf is the scalar subquery SELECT fn(y) FROM ... of sub, whose
// only column is y; fn "count*" is count(*).
func aggregateOf(sub *pg.SelectStmt, fn string, loc int32) *pg.Node {
	s := proto.Clone(sub).(*pg.SelectStmt)
	y := s.TargetList[0].GetResTarget().Val
	var call *pg.Node
	if fn == "count*" {
		call = pg.MakeFuncCallNode([]*pg.Node{pg.MakeStrNode("count")}, nil, loc)
		call.GetFuncCall().AggStar = true
	} else {
		call = pg.MakeFuncCallNode([]*pg.Node{pg.MakeStrNode(fn)}, []*pg.Node{y}, loc)
	}
	s.TargetList = []*pg.Node{pg.MakeResTargetNodeWithVal(call, loc)}
	return &pg.Node{Node: &pg.Node_SubLink{SubLink: &pg.SubLink{
		SubLinkType: pg.SubLinkType_EXPR_SUBLINK,
		Subselect:   &pg.Node{Node: &pg.Node_SelectStmt{SelectStmt: s}},
		Location:    loc,
	}}}
}
