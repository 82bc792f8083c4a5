package planner

import (
	"fmt"

	pg "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// semiJoins rewrites, for streaming, the top-level conditions of WHERE of
// the form `expr IN (SELECT col ...)` and `[NOT] EXISTS (SELECT ... WHERE
// inner = outer.col ...)` into joins with the subquery's distinct rows (an
// inner join, or for NOT EXISTS a left join keeping the unmatched rows):
//
//	SELECT ... FROM a WHERE a.k IN (SELECT b.k FROM b WHERE ...)
//	→ SELECT ... FROM a JOIN (SELECT DISTINCT b.k FROM b WHERE ...) _semi_1(_semi_1_key) ON a.k = _semi_1._semi_1_key
//
// In WHERE, where NULL and false both drop a row, the two agree, and the join
// is incremental (both sides may change). It returns a rewritten copy, or nil
// when nothing applies: no such condition, a FROM clause other than one item,
// or a subquery that reads the outer query (planning the copy then fails and
// the caller keeps the original refusal).
func semiJoins(sel *pg.SelectStmt) *pg.SelectStmt {
	if sel.WhereClause == nil || len(sel.FromClause) != 1 || sel.Op != pg.SetOperation_SETOP_NONE {
		return nil
	}
	var conjuncts []*pg.Node
	if be := sel.WhereClause.GetBoolExpr(); be != nil && be.Boolop == pg.BoolExprType_AND_EXPR {
		conjuncts = be.Args
	} else {
		conjuncts = []*pg.Node{sel.WhereClause}
	}
	out := proto.Clone(sel).(*pg.SelectStmt)
	from := out.FromClause[0]
	var rest []*pg.Node
	n := 0
	outerName := ""
	if rv := from.GetRangeVar(); rv != nil {
		outerName = rv.Relname
		if rv.Alias != nil {
			outerName = rv.Alias.Aliasname
		}
	}
	for _, c := range conjuncts {
		// [NOT] EXISTS (SELECT ... WHERE inner = outer.col AND ...): a semi
		// join (an anti join) on the correlation.
		negated := false
		if be := c.GetBoolExpr(); be != nil && be.Boolop == pg.BoolExprType_NOT_EXPR && len(be.Args) == 1 {
			if sl := be.Args[0].GetSubLink(); sl != nil && sl.SubLinkType == pg.SubLinkType_EXISTS_SUBLINK {
				c, negated = be.Args[0], true
			}
		}
		if sl := c.GetSubLink(); sl != nil && sl.SubLinkType == pg.SubLinkType_EXISTS_SUBLINK && outerName != "" {
			sub, outerCol := decorrelateExists(sl.Subselect.GetSelectStmt(), outerName)
			if sub == nil {
				rest = append(rest, c)
				continue
			}
			n++
			alias := fmt.Sprintf("_semi_%d", n)
			key := pg.MakeColumnRefNode([]*pg.Node{pg.MakeStrNode(alias), pg.MakeStrNode(alias + "_key")}, sl.Location)
			right := &pg.Node{Node: &pg.Node_RangeSubselect{RangeSubselect: &pg.RangeSubselect{
				Subquery: &pg.Node{Node: &pg.Node_SelectStmt{SelectStmt: sub}},
				Alias:    &pg.Alias{Aliasname: alias, Colnames: []*pg.Node{pg.MakeStrNode(alias + "_key")}},
			}}}
			on := pg.MakeAExprNode(pg.A_Expr_Kind_AEXPR_OP, []*pg.Node{pg.MakeStrNode("=")}, outerCol, key, sl.Location)
			if negated {
				from = pg.MakeJoinExprNode(pg.JoinType_JOIN_LEFT, from, right, on)
				rest = append(rest, &pg.Node{Node: &pg.Node_NullTest{NullTest: &pg.NullTest{
					Arg: proto.Clone(key).(*pg.Node), Nulltesttype: pg.NullTestType_IS_NULL}}})
			} else {
				from = pg.MakeJoinExprNode(pg.JoinType_JOIN_INNER, from, right, on)
			}
			continue
		}
		if negated {
			rest = append(rest, &pg.Node{Node: &pg.Node_BoolExpr{BoolExpr: &pg.BoolExpr{Boolop: pg.BoolExprType_NOT_EXPR, Args: []*pg.Node{c}}}})
			continue
		}
		sl := c.GetSubLink()
		if sl == nil || sl.SubLinkType != pg.SubLinkType_ANY_SUBLINK || !isEquals(sl.OperName) ||
			sl.Testexpr == nil || sl.Testexpr.GetRowExpr() != nil {
			rest = append(rest, c)
			continue
		}
		sub := proto.Clone(sl.Subselect.GetSelectStmt()).(*pg.SelectStmt)
		if sub == nil || len(sub.TargetList) != 1 {
			rest = append(rest, c)
			continue
		}
		n++
		alias := fmt.Sprintf("_semi_%d", n)
		sub.DistinctClause = []*pg.Node{{}}
		right := &pg.Node{Node: &pg.Node_RangeSubselect{RangeSubselect: &pg.RangeSubselect{
			Subquery: &pg.Node{Node: &pg.Node_SelectStmt{SelectStmt: sub}},
			// A column name of its own, so that the outer query's names
			// stay unambiguous.
			Alias: &pg.Alias{Aliasname: alias, Colnames: []*pg.Node{pg.MakeStrNode(alias + "_key")}},
		}}}
		on := pg.MakeAExprNode(pg.A_Expr_Kind_AEXPR_OP, []*pg.Node{pg.MakeStrNode("=")},
			proto.Clone(sl.Testexpr).(*pg.Node),
			pg.MakeColumnRefNode([]*pg.Node{pg.MakeStrNode(alias), pg.MakeStrNode(alias + "_key")}, sl.Location), sl.Location)
		from = pg.MakeJoinExprNode(pg.JoinType_JOIN_INNER, from, right, on)
	}
	if n == 0 {
		return nil
	}
	out.FromClause = []*pg.Node{from}
	switch len(rest) {
	case 0:
		out.WhereClause = nil
	case 1:
		out.WhereClause = rest[0]
	default:
		out.WhereClause = pg.MakeBoolExprNode(pg.BoolExprType_AND_EXPR, rest, 0)
	}
	return out
}

// isEquals reports whether an ANY sublink's operator is = (IN has none).
func isEquals(names []*pg.Node) bool {
	if len(names) == 0 {
		return true
	}
	return len(names) == 1 && names[0].GetString_().GetSval() == "="
}

// decorrelateExists turns the query of EXISTS (SELECT ... FROM ... WHERE
// inner = outer.col AND ...) into SELECT DISTINCT inner FROM ... WHERE ...,
// returning it with outer.col. It returns nil unless the outer query (named
// outer) is referenced exactly once, in that equality.
func decorrelateExists(sub *pg.SelectStmt, outer string) (*pg.SelectStmt, *pg.Node) {
	if sub == nil || sub.WhereClause == nil || sub.Op != pg.SetOperation_SETOP_NONE ||
		len(sub.GroupClause) > 0 || sub.HavingClause != nil || countOuterRefs(sub.ProtoReflect(), outer) != 1 {
		return nil, nil
	}
	sub = proto.Clone(sub).(*pg.SelectStmt)
	var conj []*pg.Node
	if be := sub.WhereClause.GetBoolExpr(); be != nil && be.Boolop == pg.BoolExprType_AND_EXPR {
		conj = be.Args
	} else {
		conj = []*pg.Node{sub.WhereClause}
	}
	var rest []*pg.Node
	var inner, outerCol *pg.Node
	for _, c := range conj {
		a := c.GetAExpr()
		if inner == nil && a != nil && a.Kind == pg.A_Expr_Kind_AEXPR_OP && isEquals(a.Name) {
			switch {
			case refersTo(a.Rexpr, outer) && !refersTo(a.Lexpr, outer):
				inner, outerCol = a.Lexpr, a.Rexpr
				continue
			case refersTo(a.Lexpr, outer) && !refersTo(a.Rexpr, outer):
				inner, outerCol = a.Rexpr, a.Lexpr
				continue
			}
		}
		rest = append(rest, c)
	}
	if inner == nil {
		return nil, nil
	}
	sub.TargetList = []*pg.Node{pg.MakeResTargetNodeWithVal(inner, 0)}
	sub.DistinctClause = []*pg.Node{{}}
	switch len(rest) {
	case 0:
		sub.WhereClause = nil
	case 1:
		sub.WhereClause = rest[0]
	default:
		sub.WhereClause = pg.MakeBoolExprNode(pg.BoolExprType_AND_EXPR, rest, 0)
	}
	return sub, outerCol
}

// refersTo reports whether n is a column reference qualified by name.
func refersTo(n *pg.Node, name string) bool {
	cr := n.GetColumnRef()
	return cr != nil && len(cr.Fields) == 2 && cr.Fields[0].GetString_().GetSval() == name
}

// countOuterRefs counts the column references qualified by name anywhere in
// m.
func countOuterRefs(m protoreflect.Message, name string) int {
	count := 0
	if cr, ok := m.Interface().(*pg.ColumnRef); ok && len(cr.Fields) >= 2 && cr.Fields[0].GetString_().GetSval() == name {
		count++
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList() && fd.Message() != nil:
			l := v.List()
			for i := 0; i < l.Len(); i++ {
				count += countOuterRefs(l.Get(i).Message(), name)
			}
		case fd.Message() != nil && !fd.IsMap():
			count += countOuterRefs(v.Message(), name)
		}
		return true
	})
	return count
}

// scalarJoins rewrites, for streaming, scalar subqueries over one aggregate
// correlated on one equality,
//
//	SELECT o.id, (SELECT max(t.x) FROM t WHERE t.k = o.k) FROM o
//	→ SELECT o.id, _agg_1._agg_1_value FROM o
//	  LEFT JOIN (SELECT t.k, max(t.x) FROM t GROUP BY t.k) _agg_1(_agg_1_key, _agg_1_value)
//	  ON o.k = _agg_1._agg_1_key
//
// anywhere in the select list and WHERE. A key without rows gives NULL, as
// the aggregate over no rows does, except for count, which gives 0: a bare
// count is wrapped in COALESCE(..., 0), and any other use of count is left
// alone. It returns a rewritten copy, or nil when nothing applies.
func scalarJoins(sel *pg.SelectStmt) *pg.SelectStmt {
	if len(sel.FromClause) != 1 || sel.Op != pg.SetOperation_SETOP_NONE {
		return nil
	}
	out := proto.Clone(sel).(*pg.SelectStmt)
	rv := out.FromClause[0].GetRangeVar()
	if rv == nil {
		return nil
	}
	outer := rv.Relname
	if rv.Alias != nil {
		outer = rv.Alias.Aliasname
	}
	from := out.FromClause[0]
	n := 0
	var visit func(node *pg.Node)
	visit = func(node *pg.Node) {
		if node == nil {
			return
		}
		if sl := node.GetSubLink(); sl != nil && sl.SubLinkType == pg.SubLinkType_EXPR_SUBLINK {
			if single := sl.Subselect.GetSelectStmt(); single != nil && countOuterRefs(single.ProtoReflect(), outer) == 0 &&
				len(single.GroupClause) == 0 && single.HavingClause == nil && single.LimitCount == nil && single.LimitOffset == nil && len(single.TargetList) == 1 && single.Op == pg.SetOperation_SETOP_NONE &&
				isAggregateCall(single.TargetList[0].GetResTarget().Val) {
				// Uncorrelated and one row: a join with that row.
				n++
				alias := fmt.Sprintf("_agg_%d", n)
				right := &pg.Node{Node: &pg.Node_RangeSubselect{RangeSubselect: &pg.RangeSubselect{
					Subquery: &pg.Node{Node: &pg.Node_SelectStmt{SelectStmt: proto.Clone(single).(*pg.SelectStmt)}},
					Alias:    &pg.Alias{Aliasname: alias, Colnames: []*pg.Node{pg.MakeStrNode(alias + "_value")}},
				}}}
				on := &pg.Node{Node: &pg.Node_AConst{AConst: &pg.A_Const{Val: &pg.A_Const_Boolval{Boolval: &pg.Boolean{Boolval: true}}}}}
				from = pg.MakeJoinExprNode(pg.JoinType_JOIN_INNER, from, right, on)
				node.Node = pg.MakeColumnRefNode([]*pg.Node{pg.MakeStrNode(alias), pg.MakeStrNode(alias + "_value")}, sl.Location).Node
				return
			}
			sub, outerCol := decorrelateExists(sl.Subselect.GetSelectStmt(), outer)
			if sub == nil || len(sub.TargetList) != 1 {
				return
			}
			orig := sl.Subselect.GetSelectStmt()
			if len(orig.TargetList) != 1 {
				return
			}
			value := orig.TargetList[0].GetResTarget().Val
			fc := value.GetFuncCall()
			if fc == nil || !aggFuncs[funcName(fc.Funcname)] || fc.Over != nil {
				return
			}
			isCount := funcName(fc.Funcname) == "count"
			n++
			alias := fmt.Sprintf("_agg_%d", n)
			inner := sub.TargetList[0].GetResTarget().Val
			sub.DistinctClause = nil
			sub.TargetList = []*pg.Node{pg.MakeResTargetNodeWithVal(inner, 0), pg.MakeResTargetNodeWithVal(proto.Clone(value).(*pg.Node), 0)}
			sub.GroupClause = []*pg.Node{proto.Clone(inner).(*pg.Node)}
			right := &pg.Node{Node: &pg.Node_RangeSubselect{RangeSubselect: &pg.RangeSubselect{
				Subquery: &pg.Node{Node: &pg.Node_SelectStmt{SelectStmt: sub}},
				Alias: &pg.Alias{Aliasname: alias, Colnames: []*pg.Node{
					pg.MakeStrNode(alias + "_key"), pg.MakeStrNode(alias + "_value")}},
			}}}
			key := pg.MakeColumnRefNode([]*pg.Node{pg.MakeStrNode(alias), pg.MakeStrNode(alias + "_key")}, sl.Location)
			on := pg.MakeAExprNode(pg.A_Expr_Kind_AEXPR_OP, []*pg.Node{pg.MakeStrNode("=")}, outerCol, key, sl.Location)
			from = pg.MakeJoinExprNode(pg.JoinType_JOIN_LEFT, from, right, on)
			ref := pg.MakeColumnRefNode([]*pg.Node{pg.MakeStrNode(alias), pg.MakeStrNode(alias + "_value")}, sl.Location)
			if isCount {
				ref = &pg.Node{Node: &pg.Node_CoalesceExpr{CoalesceExpr: &pg.CoalesceExpr{
					Args: []*pg.Node{ref, pg.MakeAConstIntNode(0, sl.Location)}}}}
			}
			node.Node = ref.Node
			return
		}
		visitChildren(node, visit)
	}
	for _, t := range out.TargetList {
		visit(t.GetResTarget().Val)
	}
	visit(out.WhereClause)
	if n == 0 {
		return nil
	}
	out.FromClause = []*pg.Node{from}
	return out
}

// visitChildren calls visit on the expression nodes directly under n.
func visitChildren(n *pg.Node, visit func(*pg.Node)) {
	switch {
	case n.GetAExpr() != nil:
		visit(n.GetAExpr().Lexpr)
		visit(n.GetAExpr().Rexpr)
	case n.GetBoolExpr() != nil:
		for _, a := range n.GetBoolExpr().Args {
			visit(a)
		}
	case n.GetFuncCall() != nil:
		for _, a := range n.GetFuncCall().Args {
			visit(a)
		}
	case n.GetTypeCast() != nil:
		visit(n.GetTypeCast().Arg)
	case n.GetCoalesceExpr() != nil:
		for _, a := range n.GetCoalesceExpr().Args {
			visit(a)
		}
	case n.GetNullTest() != nil:
		visit(n.GetNullTest().Arg)
	}
}

// isAggregateCall reports whether n is a call of an aggregate function, so
// that a query selecting it without GROUP BY has exactly one row.
func isAggregateCall(n *pg.Node) bool {
	fc := n.GetFuncCall()
	return fc != nil && fc.Over == nil && aggFuncs[funcName(fc.Funcname)]
}
