package planner

import (
	"fmt"

	pg "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/proto"
)

// semiJoins rewrites, for streaming, the top-level conditions of WHERE of
// the form `expr IN (SELECT col ...)` into inner joins with the subquery's
// distinct rows:
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
	for _, c := range conjuncts {
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
