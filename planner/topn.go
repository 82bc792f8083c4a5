package planner

import (
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/sluicedb/sluice/expr"
	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/plan"
	"github.com/sluicedb/sluice/types"
)

// Top-N per group is written as in PostgreSQL and RisingWave:
//
//	SELECT ... FROM (
//	  SELECT ..., ROW_NUMBER() OVER (PARTITION BY a ORDER BY b DESC) AS rn FROM t
//	) s WHERE rn <= 3
//
// RANK() and DENSE_RANK() take the place of ROW_NUMBER() to keep ties.
// The planner recognises exactly this shape (a subquery in FROM whose list
// has one of them with ORDER BY, and a conjunct rn <= N, rn < N or
// rn = 1 in the outer WHERE) and plans a plan.TopN, which keeps only what
// the filter lets through. Other uses of window functions are planned as a
// plan.OverWindow (over.go), which keeps and renumbers whole partitions.

// topNLimitHint tells a user how to write what is supported.
const topNLimitHint = "Window functions are supported as ROW_NUMBER(), RANK() or DENSE_RANK() OVER (PARTITION BY ... ORDER BY ...) AS rn in a subquery in FROM, filtered by rn <= N in the outer WHERE (Top-N per group, or rn = 1 to deduplicate)."

// rankMarker names the placeholder that stands for ROW_NUMBER() while the
// subquery is bound; no SQL identifier can contain a NUL.
const rankMarker = "\x00row_number"

// topNSpec is a recognised Top-N: the FROM item and what the planner needs
// to bind it.
type topNSpec struct {
	item     *pg.Node
	target   int // position of ROW_NUMBER() in the subquery's target list
	over     *pg.WindowDef
	fn       plan.RankFunc
	rankName string
	limit    int64
	// rankUsed is set when the outer query reads the rank beyond the
	// filter, so that the operator must emit rank changes.
	rankUsed bool
}

// topNPattern recognises a Top-N in sel. It returns nil when sel has no
// subquery in FROM with a window function, and otherwise the spec and sel's
// WHERE without the rank filter (which the TopN implements).
func (p *Planner) topNPattern(sel *pg.SelectStmt) (*topNSpec, *pg.Node, error) {
	if len(sel.FromClause) != 1 {
		return nil, sel.WhereClause, nil
	}
	rs := sel.FromClause[0].GetRangeSubselect()
	if rs == nil || rs.Lateral {
		return nil, sel.WhereClause, nil
	}
	inner := rs.Subquery.GetSelectStmt()
	if inner == nil || inner.Op != pg.SetOperation_SETOP_NONE {
		return nil, sel.WhereClause, nil
	}
	spec := &topNSpec{item: sel.FromClause[0], target: -1}
	var call *pg.FuncCall
	for i, t := range inner.TargetList {
		rt := t.GetResTarget()
		fc := rt.GetVal().GetFuncCall()
		if fc == nil || fc.Over == nil {
			continue
		}
		if call != nil {
			return nil, sel.WhereClause, nil // several window calls: not a Top-N, an OverWindow
		}
		call, spec.target, spec.over = fc, i, fc.Over
		spec.rankName = columnName(rt)
	}
	if call == nil {
		return nil, sel.WhereClause, nil
	}
	pos := int(call.Location) + 1
	name := funcName(call.Funcname)
	switch name {
	case "row_number":
		spec.fn = plan.RowNumber
	case "rank":
		spec.fn = plan.Rank
	case "dense_rank":
		spec.fn = plan.DenseRank
	default:
		return nil, sel.WhereClause, nil // another window function: an OverWindow in the subquery
	}
	switch {
	case len(call.Args) > 0 || call.AggStar || call.AggDistinct || call.AggFilter != nil:
		return nil, nil, pgerror.New(pgerror.UndefinedFunction, "function %s takes no arguments", name).WithPosition(pos)
	case spec.over.Name != "" || spec.over.Refname != "":
		return nil, nil, pgerror.New(pgerror.FeatureNotSupported, "named windows are not supported").WithPosition(pos).WithHint(topNLimitHint)
	case len(spec.over.OrderClause) == 0:
		return nil, nil, pgerror.New(pgerror.FeatureNotSupported, "%s() needs ORDER BY in its OVER clause to choose the top rows", strings.ToUpper(name)).WithPosition(pos).WithHint(topNLimitHint)
	case len(inner.DistinctClause) > 0 || len(inner.SortClause) > 0 || inner.LimitCount != nil || inner.LimitOffset != nil || len(inner.WindowClause) > 0:
		return nil, nil, pgerror.New(pgerror.FeatureNotSupported, "%s() in a query with DISTINCT, ORDER BY, LIMIT or WINDOW is not supported", strings.ToUpper(name)).WithPosition(pos).WithHint(topNLimitHint)
	}

	alias := ""
	if rs.Alias != nil {
		alias = rs.Alias.Aliasname
		if len(rs.Alias.Colnames) > 0 {
			return nil, nil, pgerror.New(pgerror.FeatureNotSupported, "column aliases on a subquery with %s() are not supported; name the columns inside", strings.ToUpper(name)).WithPosition(pos)
		}
	}
	var conj []*pg.Node
	if be := sel.WhereClause.GetBoolExpr(); be != nil && be.Boolop == pg.BoolExprType_AND_EXPR {
		conj = be.Args
	} else if sel.WhereClause != nil {
		conj = []*pg.Node{sel.WhereClause}
	}
	var rest []*pg.Node
	found := false
	for _, c := range conj {
		if !found {
			if limit, ok := rankFilter(c, spec.rankName, alias); ok {
				spec.limit, found = limit, true
				continue
			}
		}
		rest = append(rest, c)
	}
	if !found {
		// No rank filter: every row keeps its number, which the
		// subquery's OverWindow computes.
		return nil, sel.WhereClause, nil
	}
	var where *pg.Node
	switch len(rest) {
	case 0:
	case 1:
		where = rest[0]
	default:
		where = pg.MakeBoolExprNode(pg.BoolExprType_AND_EXPR, rest, sel.WhereClause.GetBoolExpr().GetLocation())
	}
	spec.rankUsed = where != nil && mentionsColumn(where, spec.rankName)
	for _, part := range [][]*pg.Node{sel.TargetList, sel.GroupClause, sel.SortClause, {sel.HavingClause}, sel.DistinctClause} {
		for _, n := range part {
			if n != nil && mentionsColumn(n, spec.rankName) {
				spec.rankUsed = true
			}
		}
	}
	return spec, where, nil
}

// rankFilter recognises rank <= N, rank < N and rank = 1 (N an integer
// constant) and returns the number of rows it keeps per partition.
func rankFilter(n *pg.Node, rank, alias string) (int64, bool) {
	ae := n.GetAExpr()
	if ae == nil || ae.Kind != pg.A_Expr_Kind_AEXPR_OP || len(ae.Name) != 1 {
		return 0, false
	}
	cr := ae.Lexpr.GetColumnRef()
	c := ae.Rexpr.GetAConst()
	if cr == nil || c == nil || c.GetIval() == nil {
		return 0, false
	}
	switch len(cr.Fields) {
	case 1:
	case 2:
		if cr.Fields[0].GetString_().GetSval() != alias {
			return 0, false
		}
	default:
		return 0, false
	}
	if cr.Fields[len(cr.Fields)-1].GetString_().GetSval() != rank {
		return 0, false
	}
	v := int64(c.GetIval().Ival)
	switch ae.Name[0].GetString_().GetSval() {
	case "<=":
	case "<":
		v--
	case "=":
		if v != 1 {
			return 0, false
		}
	default:
		return 0, false
	}
	return max(v, 0), true
}

// mentionsColumn reports whether n refers to a column named name, or to
// every column with *.
func mentionsColumn(n proto.Message, name string) bool {
	found := false
	var visit func(m protoreflect.Message)
	visit = func(m protoreflect.Message) {
		if cr, ok := m.Interface().(*pg.ColumnRef); ok {
			last := cr.Fields[len(cr.Fields)-1]
			if last.GetAStar() != nil || last.GetString_().GetSval() == name {
				found = true
			}
			return
		}
		m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			switch {
			case fd.Message() == nil || fd.IsMap():
			case fd.IsList():
				l := v.List()
				for i := 0; i < l.Len() && !found; i++ {
					visit(l.Get(i).Message())
				}
			default:
				visit(v.Message())
			}
			return !found
		})
	}
	visit(n.ProtoReflect())
	return found
}

// topNFrom binds the subquery of a Top-N: its list without ROW_NUMBER(),
// plus the PARTITION BY and ORDER BY expressions as hidden columns, under a
// TopN and a projection that puts the rank where ROW_NUMBER() was.
func (p *Planner) topNFrom(b *binder, spec *topNSpec) (plan.Node, *scope, error) {
	rs := spec.item.GetRangeSubselect()
	inner := proto.Clone(rs.Subquery.GetSelectStmt()).(*pg.SelectStmt)
	inner.TargetList[spec.target] = &pg.Node{Node: &pg.Node_ResTarget{ResTarget: &pg.ResTarget{
		Name: rankMarker, Val: pg.MakeAConstIntNode(0, -1),
	}}}
	for _, e := range spec.over.PartitionClause {
		inner.TargetList = append(inner.TargetList, pg.MakeResTargetNodeWithVal(e, -1))
	}
	for _, s := range spec.over.OrderClause {
		inner.TargetList = append(inner.TargetList, pg.MakeResTargetNodeWithVal(s.GetSortBy().Node, -1))
	}
	sub := &binder{params: b.params, aggs: newAggContext(), outer: b.outer, ctes: b.ctes}
	node, err := p.query(sub, inner)
	b.params = sub.params
	if err != nil {
		return nil, nil, err
	}

	// The input of the TopN: the subquery's columns without the marker, and
	// the hidden columns that are not already among them.
	all := node.Schema()
	hidden := len(spec.over.PartitionClause) + len(spec.over.OrderClause)
	visible := len(all) - hidden
	exprsOf := make([]expr.Expr, len(all))
	under := node
	if proj, ok := node.(*plan.Project); ok {
		copy(exprsOf, proj.Exprs)
		under = proj.Input
	} else {
		for i, c := range all {
			exprsOf[i] = &expr.ColumnRef{Index: i, T: c.Type, Name: c.Name}
		}
	}
	marker := -1
	for i, c := range all[:visible] {
		if c.Name == rankMarker {
			marker = i
		}
	}
	colOf := make([]int, len(all)) // subquery column → TopN input column
	var inExprs []expr.Expr
	var inCols types.Schema
	seen := map[string]int{}
	for i, c := range all {
		if i == marker {
			colOf[i] = -1
			continue
		}
		key := exprKey(exprsOf[i])
		if j, ok := seen[key]; ok && i >= visible {
			colOf[i] = j
			continue
		}
		seen[key] = len(inExprs)
		colOf[i] = len(inExprs)
		inExprs = append(inExprs, exprsOf[i])
		inCols = append(inCols, c)
	}
	topn := &plan.TopN{
		Input:   &plan.Project{Input: under, Exprs: inExprs, Cols: inCols},
		Func:    spec.fn,
		Limit:   spec.limit,
		RankCol: spec.rankUsed,
		Cols:    append(types.Schema(nil), inCols...),
	}
	topn.WindowPart = -1
	for i := range spec.over.PartitionClause {
		col := colOf[visible+i]
		topn.PartitionBy = append(topn.PartitionBy, col)
		if topn.WindowPart < 0 {
			if shift, ok := windowBound(topn.Input, col); ok {
				topn.WindowPart, topn.WindowShift = i, shift
			}
		}
	}
	for i, s := range spec.over.OrderClause {
		sb := s.GetSortBy()
		if sb.SortbyDir == pg.SortByDir_SORTBY_USING {
			return nil, nil, pgerror.New(pgerror.FeatureNotSupported, "ORDER BY ... USING is not supported")
		}
		desc := sb.SortbyDir == pg.SortByDir_SORTBY_DESC
		nullsFirst := desc
		switch sb.SortbyNulls {
		case pg.SortByNulls_SORTBY_NULLS_FIRST:
			nullsFirst = true
		case pg.SortByNulls_SORTBY_NULLS_LAST:
			nullsFirst = false
		}
		col := colOf[visible+len(spec.over.PartitionClause)+i]
		topn.Order = append(topn.Order, plan.SortKey{Col: col, Desc: desc, NullsFirst: nullsFirst})
	}
	if spec.rankUsed {
		topn.Cols = append(topn.Cols, types.Column{Name: spec.rankName, Type: types.Int8})
	}

	// The subquery's own columns, the rank in ROW_NUMBER()'s place.
	var exprs []expr.Expr
	var cols types.Schema
	for i, c := range all[:visible] {
		switch {
		case i == marker && spec.rankUsed:
			c = types.Column{Name: spec.rankName, Type: types.Int8}
			exprs = append(exprs, &expr.ColumnRef{Index: len(topn.Cols) - 1, T: c.Type, Name: c.Name})
		case i == marker:
			// Nothing reads the rank: it is not computed.
			c = types.Column{Name: spec.rankName, Type: types.Int8}
			exprs = append(exprs, &expr.Const{Value: nil, T: c.Type})
		default:
			exprs = append(exprs, &expr.ColumnRef{Index: colOf[i], T: c.Type, Name: c.Name})
		}
		cols = append(cols, c)
	}
	out := &plan.Project{Input: topn, Exprs: exprs, Cols: cols}

	alias := ""
	if rs.Alias != nil {
		alias = rs.Alias.Aliasname
	}
	sc := newScope()
	for _, c := range cols {
		sc.cols = append(sc.cols, scopeCol{table: alias, name: c.Name, typ: c.Type})
	}
	return out, sc, nil
}

// windowBound reports whether column col of n is the end (shift 0) or the
// start (shift = size) of a TUMBLE or HOP window over the event-time column,
// following it down through projections, filters and windowed aggregations.
func windowBound(n plan.Node, col int) (shift int64, ok bool) {
	switch n := n.(type) {
	case *plan.Project:
		if ref, isRef := n.Exprs[col].(*expr.ColumnRef); isRef {
			return windowBound(n.Input, ref.Index)
		}
	case *plan.Filter:
		return windowBound(n.Input, col)
	case *plan.Window:
		scan, isScan := n.Input.(*plan.Scan)
		if n.Func == plan.Session || !isScan || scan.EventTime != n.TimeCol {
			return 0, false
		}
		switch col {
		case len(n.Cols) - 1:
			return 0, true
		case len(n.Cols) - 2:
			return n.Size, true
		}
	case *plan.Aggregate:
		if n.WindowEnd >= 0 && col == n.WindowEnd {
			return n.WindowShift, true
		}
	}
	return 0, false
}
