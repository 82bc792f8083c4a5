package planner

import (
	"fmt"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/sluicedb/sluice/catalog"
	"github.com/sluicedb/sluice/expr"
	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/plan"
	"github.com/sluicedb/sluice/types"
)

// query binds a SELECT into a plan.
func (p *Planner) query(b *binder, sel *pg.SelectStmt) (plan.Node, error) {
	n, err := p.selectQuery(b, sel, false)
	if err == nil {
		markUnreadColumns(n)
	}
	return n, err
}

// markUnreadColumns finds, for each HOP or TUMBLE window and each scan of
// a source, the columns nothing above it reads: a window under a projection
// (as a windowed GROUP BY plans) is read only for what the projection
// names, and a source under projections, filters and windows only for what
// they name. A HOP then need not copy the others once per window, and a
// source need not build them. Nodes other than projections, filters and
// windows are taken to read every column of their inputs; a node under
// several (a WITH query used twice) keeps what any of them reads.
func markUnreadColumns(root plan.Node) {
	needed := map[plan.Node][]bool{}
	var visit func(n plan.Node, want []bool)
	visit = func(n plan.Node, want []bool) {
		cur, seen := needed[n]
		if !seen {
			cur = make([]bool, len(n.Schema()))
			needed[n] = cur
		}
		grew := false
		for i := range cur {
			if (want == nil || want[i]) && !cur[i] {
				cur[i], grew = true, true
			}
		}
		if seen && !grew {
			return
		}
		switch n := n.(type) {
		case *plan.Project:
			in := make([]bool, len(n.Input.Schema()))
			for _, e := range n.Exprs {
				if !expr.ColumnsRead(e, in) {
					in = nil
					break
				}
			}
			visit(n.Input, in)
		case *plan.Filter:
			in := append([]bool(nil), cur...)
			if !expr.ColumnsRead(n.Pred, in) {
				in = nil
			}
			visit(n.Input, in)
		case *plan.Window:
			if n.Func == plan.Session {
				visit(n.Input, nil)
				break
			}
			in := append([]bool(nil), cur[:len(n.Input.Schema())]...)
			in[n.TimeCol] = true // the window reads it to place each row
			visit(n.Input, in)
		default:
			for _, c := range n.Inputs() {
				visit(c, nil)
			}
		}
	}
	visit(root, nil)
	for n, cur := range needed {
		switch n := n.(type) {
		case *plan.Window:
			if n.Func != plan.Session {
				n.Unread = unreadOf(cur[:len(n.Input.Schema())], -1)
			}
		case *plan.Scan:
			if n.RelKind == plan.RelSource {
				n.Unread = unreadOf(cur, n.EventTime) // the watermark reads the event time
			}
		}
	}
}

// unreadOf inverts read, but for column keep; nil when every column is read.
func unreadOf(read []bool, keep int) []bool {
	var unread []bool
	for i, r := range read {
		if !r && i != keep {
			if unread == nil {
				unread = make([]bool, len(read))
			}
			unread[i] = true
		}
	}
	return unread
}

// selectQuery binds a SELECT. With keepUntyped, a branch of a set
// operation, an untyped literal or NULL output column whose Project is the
// plan's top node keeps its type (unknown or null) for the set operation
// to resolve, as PostgreSQL resolves `SELECT NULL UNION SELECT 1` to
// integer.
func (p *Planner) selectQuery(b *binder, sel *pg.SelectStmt, keepUntyped bool) (plan.Node, error) {
	b.planner = p // for the subqueries in its expressions
	if sel.WithClause != nil {
		saved := b.ctes
		defer func() { b.ctes = saved }()
		if err := b.withClause(sel.WithClause); err != nil {
			return nil, err
		}
	}
	if sel.Op != pg.SetOperation_SETOP_NONE {
		return p.setOperation(b, sel)
	}
	if len(sel.ValuesLists) > 0 {
		return p.values(b, sel.ValuesLists, nil)
	}
	if sel.IntoClause != nil || len(sel.LockingClause) > 0 {
		return nil, pgerror.New(pgerror.FeatureNotSupported, "SELECT INTO and locking clauses are not supported")
	}

	// A Top-N (ROW_NUMBER() in a subquery filtered in WHERE) binds its
	// subquery and the filter together; see topn.go.
	topN, where, err := p.topNPattern(sel)
	if err != nil {
		return nil, err
	}

	// FROM
	var input plan.Node
	sc := newScope()
	if len(sel.FromClause) == 0 {
		input = &plan.Values{Rows: [][]expr.Expr{{}}, Cols: types.Schema{}}
	}
	for _, item := range sel.FromClause {
		var left *scope
		if input != nil {
			left = sc
		}
		var n plan.Node
		var s *scope
		var lateral bool
		var err error
		if topN != nil && item == topN.item {
			n, s, err = p.topNFrom(b, topN)
		} else {
			n, s, lateral, err = p.fromListItem(b, item, input, left)
		}
		if err != nil {
			return nil, err
		}
		if input == nil || lateral {
			input, sc = n, s
			continue
		}
		joined := join(sc, s)
		j := &plan.Join{Left: input, Right: n, Type: plan.InnerJoin, Cols: joined.schema(), WindowKey: -1}
		b.recordJoin(j, sc, s)
		input, sc = j, joined
	}

	// WHERE
	if where != nil {
		pred, err := b.bindFolded(where, sc)
		if err != nil {
			return nil, err
		}
		if pred, err = expr.Coerce(pred, types.Bool, "argument of WHERE"); err != nil {
			return nil, err
		}
		if j, ok := input.(*plan.Join); ok {
			pred = b.moveIntoJoin(j, pred)
		}
		if pred != nil {
			input = &plan.Filter{Input: input, Pred: pred}
		}
	}

	// Target list, with aggregates collected. Its set-returning functions
	// run first, in a ProjectSet whose columns the rest of the list reads.
	targetList, setCalls, err := p.setFuncTargets(b, sel.TargetList, sc)
	if err != nil {
		return nil, err
	}
	if len(setCalls) > 0 {
		withCalls := join(sc, newScope())
		for i, c := range setCalls {
			withCalls.cols = append(withCalls.cols, scopeCol{name: fmt.Sprintf("%s%d", setFuncPrefix, i), typ: c.Func.Ret})
		}
		input = &plan.ProjectSet{Input: input, Calls: setCalls, Cols: withCalls.schema()}
		sc = withCalls
	}
	// Window calls run in an OverWindow whose columns the list reads.
	targetList, overCalls, err := windowTargets(targetList)
	if err != nil {
		return nil, err
	}
	if len(overCalls) > 0 {
		if len(sel.GroupClause) > 0 || sel.HavingClause != nil || len(setCalls) > 0 {
			return nil, pgerror.New(pgerror.FeatureNotSupported, "window functions in a query with GROUP BY, HAVING or set-returning functions are not supported; compute the window over a subquery").
				WithPosition(int(overCalls[0].fc.Location) + 1)
		}
		if input, sc, err = p.overWindow(b, input, sc, overCalls, sel.WindowClause); err != nil {
			return nil, err
		}
	}
	targets, names, err := p.targets(b, targetList, sc)
	if err != nil {
		return nil, err
	}
	for i, name := range names {
		// A column named after a window call takes the function's name.
		var k int
		if _, err := fmt.Sscanf(name, windowPrefix+"%d", &k); err == nil && k < len(overCalls) {
			names[i] = funcName(overCalls[k].fc.Funcname)
		}
	}
	if len(overCalls) > 0 && len(b.aggs.calls) > 0 {
		return nil, pgerror.New(pgerror.FeatureNotSupported, "aggregates beside window functions in one SELECT are not supported; aggregate in a subquery").
			WithPosition(int(overCalls[0].fc.Location) + 1)
	}
	for i, name := range names {
		// A column named after a set-returning function takes the
		// function's name.
		var k int
		if _, err := fmt.Sscanf(name, setFuncPrefix+"%d", &k); err == nil && k < len(setCalls) {
			names[i] = setCalls[k].Name
		}
	}
	hasAgg := len(b.aggs.calls) > 0 || len(sel.GroupClause) > 0 || sel.HavingClause != nil
	if hasAgg && len(setCalls) > 0 {
		return nil, pgerror.New(pgerror.FeatureNotSupported, "set-returning functions in the SELECT list of a query with aggregates or GROUP BY are not supported yet")
	}

	var having expr.Expr
	if sel.HavingClause != nil {
		if having, err = b.bindFolded(sel.HavingClause, sc); err != nil {
			return nil, err
		}
		if having, err = expr.Coerce(having, types.Bool, "argument of HAVING"); err != nil {
			return nil, err
		}
	}

	// ORDER BY keys: an output column by name or position, or an expression
	// over the input that is added as a hidden output column.
	var sortKeys []plan.SortKey
	visible := len(targets)
	for _, sn := range sel.SortClause {
		sb := sn.GetSortBy()
		idx, err := p.sortTarget(b, sb.Node, names, &targets, sc)
		if err != nil {
			return nil, err
		}
		desc := sb.SortbyDir == pg.SortByDir_SORTBY_DESC
		nullsFirst := desc
		switch sb.SortbyNulls {
		case pg.SortByNulls_SORTBY_NULLS_FIRST:
			nullsFirst = true
		case pg.SortByNulls_SORTBY_NULLS_LAST:
			nullsFirst = false
		}
		sortKeys = append(sortKeys, plan.SortKey{Col: idx, Desc: desc, NullsFirst: nullsFirst})
	}

	if hasAgg {
		var groupExprs []expr.Expr
		for _, g := range sel.GroupClause {
			e, err := p.groupExpr(b, g, sc, names, targets)
			if err != nil {
				return nil, err
			}
			groupExprs = append(groupExprs, e)
		}
		input, targets, having, err = p.aggregate(input, sc, groupExprs, b.aggs, targets, having)
		if err != nil {
			return nil, err
		}
		if having != nil {
			input = &plan.Filter{Input: input, Pred: having}
		}
	}

	cols := make(types.Schema, len(targets))
	for i, t := range targets {
		name := "?column?"
		if i < len(names) {
			name = names[i]
		}
		cols[i] = types.Column{Name: name, Type: outputType(t.Type())}
		if keepUntyped && len(sel.DistinctClause) == 0 && len(sortKeys) == 0 && sel.LimitCount == nil && sel.LimitOffset == nil {
			cols[i].Type = t.Type()
			continue
		}
		if tt := t.Type(); tt == types.Unknown || tt == types.Null {
			// An untyped literal or a bare NULL comes out as text, as in
			// PostgreSQL.
			if tt == types.Null {
				targets[i] = &expr.Const{Value: nil, T: types.Text}
				continue
			}
			c, err := expr.NewCast(t, types.Text, false)
			if err != nil {
				return nil, err
			}
			targets[i] = c
		}
	}
	var out plan.Node = &plan.Project{Input: input, Exprs: targets, Cols: cols}

	if len(sel.DistinctClause) > 0 {
		if d := sel.DistinctClause[0]; d != nil && d.Node != nil {
			return nil, pgerror.New(pgerror.FeatureNotSupported, "DISTINCT ON is not supported yet")
		}
		keys := make([]int, len(cols))
		for i := range keys {
			keys[i] = i
		}
		out = &plan.Aggregate{Input: out, Keys: keys, Cols: cols, WindowEnd: -1}
	}
	if len(sortKeys) > 0 {
		out = &plan.Sort{Input: out, Keys: sortKeys}
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
	if visible < len(cols) {
		// Drop the hidden sort columns.
		exprs := make([]expr.Expr, visible)
		for i := range exprs {
			exprs[i] = &expr.ColumnRef{Index: i, T: cols[i].Type, Name: cols[i].Name}
		}
		out = &plan.Project{Input: out, Exprs: exprs, Cols: cols[:visible]}
	}
	return out, nil
}

// outputType is the type a result column shows: an untyped literal is text.
func outputType(t types.T) types.T {
	if t == types.Unknown || t == types.Null {
		return types.Text
	}
	return t
}

func (p *Planner) limitValue(b *binder, n *pg.Node, def int64) (int64, error) {
	if n == nil {
		return def, nil
	}
	if c := n.GetAConst(); c != nil && c.Isnull {
		return def, nil // LIMIT NULL / LIMIT ALL
	}
	e, err := b.bind(n, nil)
	if err != nil {
		return 0, err
	}
	if e, err = expr.Coerce(e, types.Int8, "argument of LIMIT"); err != nil {
		return 0, err
	}
	if e, err = expr.Fold(e); err != nil {
		return 0, err
	}
	c, ok := e.(*expr.Const)
	if !ok {
		return 0, pgerror.New(pgerror.FeatureNotSupported, "LIMIT and OFFSET must be constants")
	}
	if c.Value == nil {
		return def, nil
	}
	v := c.Value.(int64)
	if v < 0 {
		return 0, pgerror.New(pgerror.InvalidParameterValue, "LIMIT must not be negative")
	}
	return v, nil
}

// targets binds the SELECT list, expanding * and naming each column as
// PostgreSQL does.
func (p *Planner) targets(b *binder, list []*pg.Node, sc *scope) ([]expr.Expr, []string, error) {
	var exprs []expr.Expr
	var names []string
	for _, t := range list {
		rt := t.GetResTarget()
		if cr := rt.Val.GetColumnRef(); cr != nil {
			last := cr.Fields[len(cr.Fields)-1]
			if last.GetAStar() != nil {
				table := ""
				if len(cr.Fields) == 2 {
					table = cr.Fields[0].GetString_().Sval
					if !sc.hasTable(table) {
						return nil, nil, pgerror.New(pgerror.UndefinedTable, "missing FROM-clause entry for table %q", table).WithPosition(int(cr.Location) + 1)
					}
				}
				if len(sc.cols) == 0 {
					return nil, nil, pgerror.New(pgerror.SyntaxError, "SELECT * with no tables specified is not valid").WithPosition(int(cr.Location) + 1)
				}
				for i, c := range sc.cols {
					if isSetFuncColumn(c) || isWindowColumn(c) {
						continue
					}
					if table == "" || c.table == table {
						exprs = append(exprs, &expr.ColumnRef{Index: i, T: c.typ, Name: c.name})
						names = append(names, c.name)
					}
				}
				continue
			}
		}
		e, err := b.bindFolded(rt.Val, sc)
		if err != nil {
			return nil, nil, err
		}
		exprs = append(exprs, e)
		names = append(names, columnName(rt))
	}
	return exprs, names, nil
}

// columnName is the name PostgreSQL gives a SELECT-list item.
func columnName(rt *pg.ResTarget) string {
	if rt.Name != "" {
		return rt.Name
	}
	return figureName(rt.Val)
}

func figureName(n *pg.Node) string {
	switch {
	case n.GetColumnRef() != nil:
		f := n.GetColumnRef().Fields
		if s := f[len(f)-1].GetString_(); s != nil {
			return s.Sval
		}
	case n.GetFuncCall() != nil:
		return funcName(n.GetFuncCall().Funcname[len(n.GetFuncCall().Funcname)-1:])
	case n.GetTypeCast() != nil:
		if name := figureName(n.GetTypeCast().Arg); name != "?column?" {
			return name
		}
		names := n.GetTypeCast().TypeName.Names
		return names[len(names)-1].GetString_().Sval
	case n.GetCaseExpr() != nil:
		return "case"
	case n.GetCoalesceExpr() != nil:
		return "coalesce"
	case n.GetMinMaxExpr() != nil:
		if n.GetMinMaxExpr().Op == pg.MinMaxOp_IS_LEAST {
			return "least"
		}
		return "greatest"
	case n.GetSqlvalueFunction() != nil:
		switch n.GetSqlvalueFunction().Op {
		case pg.SQLValueFunctionOp_SVFOP_CURRENT_TIMESTAMP, pg.SQLValueFunctionOp_SVFOP_CURRENT_TIMESTAMP_N:
			return "current_timestamp"
		case pg.SQLValueFunctionOp_SVFOP_CURRENT_DATE:
			return "current_date"
		case pg.SQLValueFunctionOp_SVFOP_CURRENT_USER:
			return "current_user"
		case pg.SQLValueFunctionOp_SVFOP_USER:
			return "user"
		case pg.SQLValueFunctionOp_SVFOP_CURRENT_ROLE:
			return "current_role"
		case pg.SQLValueFunctionOp_SVFOP_SESSION_USER:
			return "session_user"
		case pg.SQLValueFunctionOp_SVFOP_CURRENT_CATALOG:
			return "current_catalog"
		case pg.SQLValueFunctionOp_SVFOP_CURRENT_SCHEMA:
			return "current_schema"
		}
	case n.GetAExpr() != nil && n.GetAExpr().Kind == pg.A_Expr_Kind_AEXPR_NULLIF:
		return "nullif"
	case n.GetSubLink() != nil:
		return subLinkName(n.GetSubLink())
	}
	return "?column?"
}

// sortTarget returns the output position of an ORDER BY item, appending a
// hidden target when it is not an output column.
func (p *Planner) sortTarget(b *binder, n *pg.Node, names []string, targets *[]expr.Expr, sc *scope) (int, error) {
	if c := n.GetAConst(); c != nil && c.GetIval() != nil {
		pos := int(c.GetIval().Ival)
		if pos < 1 || pos > len(names) {
			return 0, pgerror.New(pgerror.InvalidColumnReference, "ORDER BY position %d is not in select list", pos).WithPosition(int(c.Location) + 1)
		}
		return pos - 1, nil
	}
	if cr := n.GetColumnRef(); cr != nil && len(cr.Fields) == 1 {
		name := cr.Fields[0].GetString_().Sval
		found := -1
		for i, nm := range names {
			if nm == name {
				if found >= 0 {
					return 0, pgerror.New(pgerror.AmbiguousColumn, "ORDER BY %q is ambiguous", name).WithPosition(int(cr.Location) + 1)
				}
				found = i
			}
		}
		if found >= 0 {
			return found, nil
		}
	}
	e, err := b.bindFolded(n, sc)
	if err != nil {
		return 0, err
	}
	for i, t := range (*targets)[:len(names)] {
		if exprKey(t) == exprKey(e) {
			return i, nil
		}
	}
	*targets = append(*targets, e)
	return len(*targets) - 1, nil
}

// groupExpr binds a GROUP BY item: an output position, an output column name
// (when it is not an input column), or an expression over the input.
func (p *Planner) groupExpr(b *binder, n *pg.Node, sc *scope, names []string, targets []expr.Expr) (expr.Expr, error) {
	if c := n.GetAConst(); c != nil && c.GetIval() != nil {
		pos := int(c.GetIval().Ival)
		if pos < 1 || pos > len(names) {
			return nil, pgerror.New(pgerror.InvalidColumnReference, "GROUP BY position %d is not in select list", pos).WithPosition(int(c.Location) + 1)
		}
		return targets[pos-1], nil
	}
	saved := b.aggs
	b.aggs = nil // aggregates are not allowed in GROUP BY
	defer func() { b.aggs = saved }()
	e, err := b.bindFolded(n, sc)
	if err != nil {
		if cr := n.GetColumnRef(); cr != nil && len(cr.Fields) == 1 && pgerror.Code(err) == pgerror.UndefinedColumn {
			for i, nm := range names {
				if nm == cr.Fields[0].GetString_().Sval {
					return targets[i], nil
				}
			}
		}
		return nil, err
	}
	return e, nil
}

// aggregate builds the aggregation: a projection computing the group keys and
// aggregate arguments, the Aggregate node, and the targets and HAVING
// rewritten over the aggregate's output.
func (p *Planner) aggregate(input plan.Node, sc *scope, groups []expr.Expr, aggs *aggContext, targets []expr.Expr, having expr.Expr) (plan.Node, []expr.Expr, expr.Expr, error) {
	var pre []expr.Expr
	var preCols types.Schema
	add := func(e expr.Expr, name string) int {
		for i, x := range pre {
			if exprKey(x) == exprKey(e) {
				return i
			}
		}
		pre = append(pre, e)
		preCols = append(preCols, types.Column{Name: name, Type: e.Type()})
		return len(pre) - 1
	}
	node := &plan.Aggregate{WindowEnd: -1}
	var outCols types.Schema
	keyIndex := map[string]int{}
	for _, g := range groups {
		if _, dup := keyIndex[exprKey(g)]; dup {
			continue
		}
		name := g.String()
		if ref, ok := g.(*expr.ColumnRef); ok {
			name = ref.Name
			switch {
			case ref.Index == sc.windowEnd && sc.windowOnEventTime && node.WindowEnd < 0:
				node.WindowEnd, node.WindowShift = len(node.Keys), 0
			case ref.Index == sc.windowStart && sc.windowOnEventTime && node.WindowEnd < 0 && sc.session == nil:
				node.WindowEnd, node.WindowShift = len(node.Keys), sc.windowSize
			}
		}
		keyIndex[exprKey(g)] = len(node.Keys)
		node.Keys = append(node.Keys, add(g, name))
		outCols = append(outCols, types.Column{Name: name, Type: g.Type()})
	}
	if sc.session != nil {
		// A session window keeps sessions apart by the other group keys.
		sc.session.PartitionBy = nil
		for _, g := range groups {
			ref, ok := g.(*expr.ColumnRef)
			switch {
			case ok && (ref.Index == sc.windowStart || ref.Index == sc.windowEnd):
			case ok:
				sc.session.PartitionBy = append(sc.session.PartitionBy, ref.Index)
			default:
				return nil, nil, nil, pgerror.New(pgerror.FeatureNotSupported, "with a SESSION window, GROUP BY takes columns only, not the expression %s", g)
			}
		}
	}
	// With both window columns grouped, window_end is the exact close time.
	for _, g := range groups {
		if ref, ok := g.(*expr.ColumnRef); ok && ref.Index == sc.windowEnd && sc.windowOnEventTime {
			node.WindowEnd, node.WindowShift = keyIndex[exprKey(g)], 0
		}
	}
	for _, c := range aggs.calls {
		call := plan.AggCall{Func: c.name, Arg: -1, Distinct: c.distinct, Ret: c.ret}
		if c.arg != nil {
			call.Arg = add(c.arg, c.name)
			call.ArgType = c.arg.Type()
		} else {
			call.Func = "count_star"
		}
		node.Aggs = append(node.Aggs, call)
		outCols = append(outCols, types.Column{Name: c.name, Type: c.ret})
	}
	if len(pre) == 0 {
		// count(*) alone still needs a column to count rows of.
		add(&expr.Const{Value: true, T: types.Bool}, "row")
	}
	node.Input = &plan.Project{Input: input, Exprs: pre, Cols: preCols}
	node.Cols = outCols
	node.InputAppendOnly = input.Kind() == plan.AppendOnly

	rewrite := func(e expr.Expr) (expr.Expr, error) {
		return mapExpr(e, func(x expr.Expr) (expr.Expr, bool, error) {
			if ref, ok := x.(*expr.ColumnRef); ok {
				if i, isAgg := aggs.placeholders[ref]; isAgg {
					k := len(node.Keys) + i
					return &expr.ColumnRef{Index: k, T: outCols[k].Type, Name: outCols[k].Name}, true, nil
				}
			}
			if k, ok := keyIndex[exprKey(x)]; ok {
				return &expr.ColumnRef{Index: k, T: outCols[k].Type, Name: outCols[k].Name}, true, nil
			}
			if ref, ok := x.(*expr.ColumnRef); ok {
				return nil, false, pgerror.New(pgerror.GroupingError,
					"column %q must appear in the GROUP BY clause or be used in an aggregate function", ref.Name)
			}
			return nil, false, nil
		})
	}
	out := make([]expr.Expr, len(targets))
	for i, t := range targets {
		e, err := rewrite(t)
		if err != nil {
			return nil, nil, nil, err
		}
		out[i] = e
	}
	if having != nil {
		var err error
		if having, err = rewrite(having); err != nil {
			return nil, nil, nil, err
		}
	}
	return node, out, having, nil
}

// fromItem binds one FROM item.
func (p *Planner) fromItem(b *binder, n *pg.Node) (plan.Node, *scope, error) {
	switch {
	case n.GetRangeVar() != nil:
		rv := n.GetRangeVar()
		if sub := b.cteReference(rv); sub != nil {
			return p.fromItem(b, sub)
		}
		name := rv.Relname
		scan, err := p.rangeVar(rv.Schemaname, name, int(rv.Location)+1)
		if err != nil {
			return nil, nil, err
		}
		alias := name
		if rv.Alias != nil {
			alias = rv.Alias.Aliasname
		}
		sc := newScope()
		for _, c := range scan.Cols {
			sc.cols = append(sc.cols, scopeCol{table: alias, name: c.Name, typ: c.Type})
		}
		sc.eventTime = scan.EventTime
		if rv.Alias != nil {
			renameColumns(sc, rv.Alias.Colnames)
		}
		return scan, sc, nil
	case n.GetRangeFunction() != nil:
		if !isWindowFunction(n.GetRangeFunction()) {
			node, sc, _, err := p.tableFunction(b, n.GetRangeFunction(), nil, nil)
			return node, sc, err
		}
		return p.windowFunction(b, n.GetRangeFunction())
	case n.GetRangeSubselect() != nil:
		rs := n.GetRangeSubselect()
		// A subquery in FROM does not see the FROM items beside it (there is
		// no LATERAL), but does see the queries around this one.
		sub := &binder{params: b.params, aggs: &aggContext{placeholders: map[*expr.ColumnRef]int{}}, outer: b.outer, ctes: b.ctes}
		node, err := p.query(sub, rs.Subquery.GetSelectStmt())
		b.params = sub.params
		if err != nil {
			return nil, nil, err
		}
		alias := ""
		if rs.Alias != nil {
			alias = rs.Alias.Aliasname
		}
		sc := newScope()
		for _, c := range node.Schema() {
			sc.cols = append(sc.cols, scopeCol{table: alias, name: c.Name, typ: c.Type})
		}
		if rs.Alias != nil {
			renameColumns(sc, rs.Alias.Colnames)
		}
		sc.eventTime = windowEndColumn(node)
		return node, sc, nil
	case n.GetJoinExpr() != nil:
		return p.joinExpr(b, n.GetJoinExpr())
	}
	return nil, nil, pgerror.New(pgerror.FeatureNotSupported, "FROM item %s is not supported", nodeName(n))
}

func renameColumns(sc *scope, names []*pg.Node) {
	for i, n := range names {
		if i < len(sc.cols) {
			sc.cols[i].name = n.GetString_().Sval
		}
	}
}

// scan reads a relation from the catalog.
func (p *Planner) scan(name string, pos int) (*plan.Scan, error) {
	o, ok := p.cat.Get(name)
	if !ok {
		if sys, ok := p.system("", name); ok {
			return sys, nil
		}
		return nil, pgerror.New(pgerror.UndefinedTable, "relation %q does not exist", name).WithPosition(pos)
	}
	s := &plan.Scan{Relation: o.Name, Cols: o.Schema, EventTime: -1}
	switch o.Kind {
	case catalog.Source:
		s.RelKind, s.AppendOnlyInput = plan.RelSource, true
	case catalog.Table:
		s.RelKind, s.AppendOnlyInput = plan.RelTable, o.AppendOnly
	case catalog.MaterializedView:
		s.RelKind = plan.RelMaterializedView
		s.AppendOnlyInput = o.EmitOnWindowClose || o.AppendOnly
	}
	if o.Watermark != nil {
		s.EventTime = o.Watermark.Column
	}
	return s, nil
}

func (p *Planner) joinExpr(b *binder, j *pg.JoinExpr) (plan.Node, *scope, error) {
	if j.IsNatural || len(j.UsingClause) > 0 {
		return nil, nil, pgerror.New(pgerror.FeatureNotSupported, "NATURAL joins and USING are not supported yet; use ON")
	}
	left, ls, err := p.fromItem(b, j.Larg)
	if err != nil {
		return nil, nil, err
	}
	right, rs, err := p.fromItem(b, j.Rarg)
	if err != nil {
		return nil, nil, err
	}
	sc := join(ls, rs)
	node := &plan.Join{Left: left, Right: right, Cols: sc.schema(), WindowKey: -1}
	// FOR SYSTEM_TIME AS OF PROCTIME() follows the relation's name, before
	// its alias; match either.
	isTemporal := func(rv *pg.RangeVar) bool {
		if rv == nil || b.temporal == nil {
			return false
		}
		return b.temporal[rv.Relname] || (rv.Alias != nil && b.temporal[rv.Alias.Aliasname])
	}
	node.Temporal = isTemporal(j.Rarg.GetRangeVar())
	if rv := j.Larg.GetRangeVar(); isTemporal(rv) {
		return nil, nil, pgerror.New(pgerror.FeatureNotSupported, "FOR SYSTEM_TIME AS OF PROCTIME() goes on the right side of the join: the relation looked up").WithPosition(int(rv.Location) + 1)
	}
	switch j.Jointype {
	case pg.JoinType_JOIN_INNER:
		node.Type = plan.InnerJoin
	case pg.JoinType_JOIN_LEFT:
		node.Type = plan.LeftJoin
	case pg.JoinType_JOIN_RIGHT:
		node.Type = plan.RightJoin
	case pg.JoinType_JOIN_FULL:
		node.Type = plan.FullJoin
	default:
		return nil, nil, pgerror.New(pgerror.FeatureNotSupported, "join type %s is not supported", j.Jointype)
	}
	if j.Quals != nil {
		cond, err := b.bindFolded(j.Quals, sc)
		if err != nil {
			return nil, nil, err
		}
		if cond, err = expr.Coerce(cond, types.Bool, "argument of JOIN/ON"); err != nil {
			return nil, nil, err
		}
		splitJoinCondition(node, cond, len(ls.cols))
		markWindowJoin(node, ls, rs)
		markIntervalJoin(node, ls, rs)
	}
	b.recordJoin(node, ls, rs)
	if j.Alias != nil {
		for i := range sc.cols {
			sc.cols[i].table = j.Alias.Aliasname
		}
	}
	return node, sc, nil
}

// markWindowJoin finds, among a join's key pairs, one that pairs the same
// window bound of event-time windows on both sides (window_start with
// window_start, or window_end with window_end): rows of a window can only
// match rows of the same window, so once the watermark passes its end the
// window's state on both sides can be freed.
func markWindowJoin(j *plan.Join, ls, rs *scope) {
	j.WindowKey = -1
	if !ls.windowOnEventTime || !rs.windowOnEventTime || ls.session != nil || rs.session != nil {
		return
	}
	for i := range j.LeftKeys {
		l, r := j.LeftKeys[i], j.RightKeys[i]
		switch {
		case l == ls.windowEnd && r == rs.windowEnd:
			j.WindowKey, j.WindowShift = i, 0
			return
		case l == ls.windowStart && r == rs.windowStart && ls.windowSize == rs.windowSize:
			j.WindowKey, j.WindowShift = i, ls.windowSize
		}
	}
}

// markIntervalJoin finds bounds on the difference of the two sides' event
// times in a join's residual condition (a.ts BETWEEN b.ts - x AND b.ts + y,
// or the same with >=, <=, >, <), which bound how long a row can still find
// a match: the row is freed once the watermark has passed its time plus
// that bound.
func markIntervalJoin(j *plan.Join, ls, rs *scope) {
	if j.Residual == nil || ls.eventTime < 0 || rs.eventTime < 0 {
		return
	}
	l, r := ls.eventTime, len(ls.cols)+rs.eventTime
	var conj []expr.Expr
	var flatten func(expr.Expr)
	flatten = func(e expr.Expr) {
		if and, ok := e.(*expr.And); ok {
			for _, a := range and.Args {
				flatten(a)
			}
			return
		}
		conj = append(conj, e)
	}
	flatten(j.Residual)
	// Bounds on d = right time - left time.
	var maxD, minD int64
	var hasMax, hasMin bool
	for _, c := range conj {
		call, ok := c.(*expr.Call)
		if !ok || len(call.Args) != 2 {
			continue
		}
		op := call.Fn.Name
		if op != "<=" && op != "<" && op != ">=" && op != ">" {
			continue
		}
		ac, ao, ok1 := timeTerm(call.Args[0])
		bc, bo, ok2 := timeTerm(call.Args[1])
		if !ok1 || !ok2 {
			continue
		}
		// ac + ao OP bc + bo, rewritten as d OP' v.
		var v int64
		upper := op == "<=" || op == "<"
		switch {
		case ac == r && bc == l:
			v = bo - ao
		case ac == l && bc == r:
			v, upper = ao-bo, !upper
		default:
			continue
		}
		if upper && (!hasMax || v < maxD) {
			maxD, hasMax = v, true
		}
		if !upper && (!hasMin || v > minD) {
			minD, hasMin = v, true
		}
	}
	j.IntervalCol = [2]int{ls.eventTime, rs.eventTime}
	// A side whose rows can be retracted keeps a row until the watermark
	// has passed its time at least: a retraction comes before that, and
	// must find the row it takes back.
	if hasMax && (maxD >= 0 || j.Left.Kind().IsAppendOnly()) {
		// A future right row has time ≥ watermark; it matches a left row
		// only if its time ≤ left time + maxD.
		j.HasTTL[0], j.TTL[0] = true, maxD
	}
	if hasMin && (minD <= 0 || j.Right.Kind().IsAppendOnly()) {
		j.HasTTL[1], j.TTL[1] = true, -minD
	}
}

// moveIntoJoin moves the conditions of a WHERE clause over an inner join
// that compare a column of one side with one of the other (a.x = b.y,
// a.ts >= b.ts - INTERVAL '10' SECOND, ...) into the join, where they are
// the same condition: an equality becomes a join key and a bound on the
// sides' event times frees state, as if written in ON. It returns what is
// left of the WHERE clause, nil if nothing.
func (b *binder) moveIntoJoin(j *plan.Join, pred expr.Expr) expr.Expr {
	sides, ok := b.joinSides[j]
	if !ok || j.Type != plan.InnerJoin || j.Temporal {
		return pred
	}
	nLeft := len(sides[0].cols)
	var moved, kept []expr.Expr
	var split func(expr.Expr)
	split = func(e expr.Expr) {
		switch {
		case isAnd(e):
			for _, a := range e.(*expr.And).Args {
				split(a) // BETWEEN is an AND of two comparisons
			}
		case comparesSides(e, nLeft):
			moved = append(moved, e)
		default:
			kept = append(kept, e)
		}
	}
	split(pred)
	if len(moved) == 0 {
		return pred
	}
	if j.Residual != nil {
		moved = append([]expr.Expr{j.Residual}, moved...)
		j.Residual = nil
	}
	splitJoinCondition(j, &expr.And{Args: moved}, nLeft)
	markWindowJoin(j, sides[0], sides[1])
	markIntervalJoin(j, sides[0], sides[1])
	switch len(kept) {
	case 0:
		return nil
	case 1:
		return kept[0]
	}
	return &expr.And{Args: kept}
}

func isAnd(e expr.Expr) bool {
	_, ok := e.(*expr.And)
	return ok
}

// comparesSides reports whether c compares a column (or a column plus or
// minus a fixed interval) of the left side, whose columns come before
// nLeft, with one of the right.
func comparesSides(c expr.Expr, nLeft int) bool {
	call, ok := c.(*expr.Call)
	if !ok || len(call.Args) != 2 {
		return false
	}
	switch call.Fn.Name {
	case "=", "<", "<=", ">", ">=":
	default:
		return false
	}
	col := func(e expr.Expr) (int, bool) {
		if ref, ok := keyColumn(e); ok {
			return ref.Index, true
		}
		i, _, ok := timeTerm(e)
		return i, ok
	}
	a, ok1 := col(call.Args[0])
	b, ok2 := col(call.Args[1])
	return ok1 && ok2 && (a < nLeft) != (b < nLeft)
}

// windowEndColumn is the output column of n holding the end of the
// event-time window each row belongs to, when n is an aggregation grouped
// by window_end (seen through projections and filters), or -1. Its rows
// change only while the watermark is below that end: the column bounds the
// rows to come as an event-time column does.
func windowEndColumn(n plan.Node) int {
	switch n := n.(type) {
	case *plan.Aggregate:
		if n.WindowEnd >= 0 && n.WindowShift == 0 {
			return n.WindowEnd // keys come first among the output columns
		}
	case *plan.Filter:
		return windowEndColumn(n.Input)
	case *plan.Project:
		in := windowEndColumn(n.Input)
		for i, e := range n.Exprs {
			if ref, ok := e.(*expr.ColumnRef); ok && in >= 0 && ref.Index == in {
				return i
			}
		}
	}
	return -1
}

// timeTerm reads col, col + interval or col - interval, the interval a
// constant of fixed length.
func timeTerm(e expr.Expr) (col int, offset int64, ok bool) {
	switch e := e.(type) {
	case *expr.ColumnRef:
		return e.Index, 0, true
	case *expr.Call:
		if len(e.Args) != 2 || (e.Fn.Name != "+" && e.Fn.Name != "-") {
			return 0, 0, false
		}
		ref, ok1 := e.Args[0].(*expr.ColumnRef)
		k, ok2 := e.Args[1].(*expr.Const)
		if !ok1 || !ok2 || k.Value == nil {
			return 0, 0, false
		}
		iv, ok := k.Value.(types.IntervalValue)
		if !ok || iv.Months != 0 {
			return 0, 0, false
		}
		if e.Fn.Name == "-" {
			return ref.Index, -iv.Duration(), true
		}
		return ref.Index, iv.Duration(), true
	}
	return 0, 0, false
}

// splitJoinCondition takes the equalities between a left and a right column
// of the same type as hash keys and keeps the rest as a residual predicate.
// Integer columns of different widths are keys too: the row codec encodes
// every integer as 64 bits, so equal values have equal keys.
func splitJoinCondition(j *plan.Join, cond expr.Expr, nLeft int) {
	var conj []expr.Expr
	if and, ok := cond.(*expr.And); ok {
		conj = and.Args
	} else {
		conj = []expr.Expr{cond}
	}
	var rest []expr.Expr
	for _, c := range conj {
		call, ok := c.(*expr.Call)
		if ok && call.Fn.Name == "=" && len(call.Args) == 2 {
			l, lok := keyColumn(call.Args[0])
			r, rok := keyColumn(call.Args[1])
			if lok && rok && (l.T == r.T || l.T.IsInteger() && r.T.IsInteger()) {
				if l.Index >= nLeft && r.Index < nLeft {
					l, r = r, l
				}
				if l.Index < nLeft && r.Index >= nLeft {
					j.LeftKeys = append(j.LeftKeys, l.Index)
					j.RightKeys = append(j.RightKeys, r.Index-nLeft)
					continue
				}
			}
		}
		rest = append(rest, c)
	}
	switch len(rest) {
	case 0:
	case 1:
		j.Residual = rest[0]
	default:
		j.Residual = &expr.And{Args: rest}
	}
}

// keyColumn returns the column of a join key: the column itself, or one an
// implicit cast widens from a narrower integer.
func keyColumn(e expr.Expr) (*expr.ColumnRef, bool) {
	if c, ok := e.(*expr.Cast); ok && c.To.IsInteger() {
		if ref, ok := c.Arg.(*expr.ColumnRef); ok && ref.T.IsInteger() {
			return ref, true
		}
	}
	ref, ok := e.(*expr.ColumnRef)
	return ref, ok
}

// windowFunction binds TUMBLE(rel, time_col, size [, offset]) and
// HOP(rel, time_col, slide, size [, offset]) in FROM.
func (p *Planner) windowFunction(b *binder, rf *pg.RangeFunction) (plan.Node, *scope, error) {
	if len(rf.Functions) != 1 || rf.Lateral || rf.Ordinality || rf.IsRowsfrom {
		return nil, nil, pgerror.New(pgerror.FeatureNotSupported, "only TUMBLE and HOP are supported as functions in FROM")
	}
	fc := rf.Functions[0].GetList().Items[0].GetFuncCall()
	if fc == nil {
		return nil, nil, pgerror.New(pgerror.FeatureNotSupported, "only TUMBLE and HOP are supported as functions in FROM")
	}
	name := funcName(fc.Funcname)
	pos := int(fc.Location) + 1
	var kind plan.WindowKind
	var want int
	switch name {
	case "tumble":
		kind, want = plan.Tumble, 3
	case "hop":
		kind, want = plan.Hop, 4
	case "session":
		kind, want = plan.Session, 3
	default:
		return nil, nil, pgerror.New(pgerror.UndefinedFunction, "function %s does not exist in FROM; use TUMBLE or HOP", name).WithPosition(pos)
	}
	if len(fc.Args) != want && (len(fc.Args) != want+1 || kind == plan.Session) {
		return nil, nil, pgerror.New(pgerror.UndefinedFunction, "%s takes %d or %d arguments: %s", name, want, want+1, windowUsage(kind)).WithPosition(pos)
	}
	relRef := fc.Args[0].GetColumnRef()
	if relRef == nil || len(relRef.Fields) != 1 {
		return nil, nil, pgerror.New(pgerror.SyntaxError, "the first argument of %s must name a source, table or view", name).WithPosition(pos)
	}
	relName := relRef.Fields[0].GetString_().Sval
	input, sc, err := p.fromItem(b, &pg.Node{Node: &pg.Node_RangeVar{RangeVar: &pg.RangeVar{Relname: relName, Inh: true, Location: relRef.Location}}})
	if err != nil {
		return nil, nil, err
	}
	timeRef, err := b.bind(fc.Args[1], sc)
	if err != nil {
		return nil, nil, err
	}
	tc, ok := timeRef.(*expr.ColumnRef)
	if !ok || (tc.T != types.Timestamp && tc.T != types.TimestampTZ) {
		return nil, nil, pgerror.New(pgerror.DatatypeMismatch, "the time column of %s must be a timestamp or timestamptz column, got %s", name, timeRef.Type()).WithPosition(pos)
	}
	durations := make([]int64, 0, 3)
	for _, a := range fc.Args[2:] {
		d, err := p.constInterval(b, a, name)
		if err != nil {
			return nil, nil, err
		}
		durations = append(durations, d)
	}
	w := &plan.Window{Input: input, Func: kind, TimeCol: tc.Index}
	switch kind {
	case plan.Tumble:
		w.Size, w.Slide = durations[0], durations[0]
		if len(durations) > 1 {
			w.Offset = durations[1]
		}
	case plan.Session:
		w.Gap = durations[0]
		if w.Gap <= 0 {
			return nil, nil, pgerror.New(pgerror.InvalidParameterValue, "SESSION gap must be positive").WithPosition(pos)
		}
		if !input.Kind().IsAppendOnly() {
			return nil, nil, pgerror.New(pgerror.FeatureNotSupported, "SESSION windows need an append-only input (a source, an APPEND ONLY table, or a view that EMITs ON WINDOW CLOSE)").WithPosition(pos)
		}
	case plan.Hop:
		w.Slide, w.Size = durations[0], durations[1]
		if len(durations) > 2 {
			w.Offset = durations[2]
		}
		if w.Size%w.Slide != 0 {
			return nil, nil, pgerror.New(pgerror.InvalidParameterValue, "HOP window size must be a multiple of its slide (size %s, slide %s)", plan.FormatMicros(w.Size), plan.FormatMicros(w.Slide)).WithPosition(pos)
		}
	}
	if kind != plan.Session && (w.Size <= 0 || w.Slide <= 0) {
		return nil, nil, pgerror.New(pgerror.InvalidParameterValue, "%s window size must be positive", name).WithPosition(pos)
	}
	alias := relName
	if rf.Alias != nil {
		alias = rf.Alias.Aliasname
		for i := range sc.cols {
			sc.cols[i].table = alias
		}
	}
	sc.cols = append(sc.cols,
		scopeCol{table: alias, name: "window_start", typ: tc.T},
		scopeCol{table: alias, name: "window_end", typ: tc.T})
	sc.windowStart, sc.windowEnd = len(sc.cols)-2, len(sc.cols)-1
	sc.windowSize = w.Size
	sc.windowOnEventTime = sc.eventTime >= 0 && sc.eventTime == tc.Index
	if kind == plan.Session {
		sc.session = w
	}
	w.Cols = sc.schema()
	return w, sc, nil
}

func windowUsage(k plan.WindowKind) string {
	switch k {
	case plan.Tumble:
		return "TUMBLE(relation, time_column, size [, offset])"
	case plan.Session:
		return "SESSION(relation, time_column, gap)"
	}
	return "HOP(relation, time_column, slide, size [, offset])"
}

// constInterval evaluates a constant interval argument to microseconds; a
// window length in months has no fixed size and is refused.
func (p *Planner) constInterval(b *binder, n *pg.Node, fn string) (int64, error) {
	e, err := b.bind(n, nil)
	if err != nil {
		return 0, err
	}
	if e, err = expr.Coerce(e, types.Interval, "argument of "+fn); err != nil {
		return 0, err
	}
	if e, err = expr.Fold(e); err != nil {
		return 0, err
	}
	c, ok := e.(*expr.Const)
	if !ok || c.Value == nil {
		return 0, pgerror.New(pgerror.InvalidParameterValue, "window sizes of %s must be constant intervals", fn)
	}
	iv := c.Value.(types.IntervalValue)
	if iv.Months != 0 {
		return 0, pgerror.New(pgerror.InvalidParameterValue, "window sizes of %s must not contain months or years, which have no fixed length", fn)
	}
	return iv.Duration(), nil
}

// values binds VALUES lists; with want set the columns are coerced to it.
func (p *Planner) values(b *binder, lists []*pg.Node, want types.Schema) (plan.Node, error) {
	var rows [][]expr.Expr
	for _, l := range lists {
		row, err := b.bindFoldedList(l.GetList().Items, nil)
		if err != nil {
			return nil, err
		}
		if len(rows) > 0 && len(row) != len(rows[0]) {
			return nil, pgerror.New(pgerror.SyntaxError, "VALUES lists must all be the same length")
		}
		rows = append(rows, row)
	}
	width := len(rows[0])
	cols := make(types.Schema, width)
	for j := 0; j < width; j++ {
		var t types.T
		if want != nil {
			if j >= len(want) {
				return nil, pgerror.New(pgerror.SyntaxError, "INSERT has more expressions than target columns")
			}
			t = want[j].Type
		} else {
			ts := make([]types.T, len(rows))
			for i := range rows {
				ts[i] = rows[i][j].Type()
			}
			var err error
			if t, err = expr.CommonType(ts, "VALUES"); err != nil {
				return nil, err
			}
			t = outputType(t)
		}
		for i := range rows {
			if p, ok := rows[i][j].(*expr.Param); ok && p.T == types.Unknown {
				p.T = t
				b.params[p.Index] = t
			}
			ctx := "VALUES"
			if want != nil {
				ctx = "assignment"
			}
			e, err := expr.Coerce(rows[i][j], t, ctx)
			if err != nil {
				if code := pgerror.Code(err); want != nil && (code == pgerror.DatatypeMismatch || code == pgerror.CannotCoerce) {
					return nil, pgerror.New(pgerror.DatatypeMismatch, "column %q is of type %s but expression is of type %s", want[j].Name, t, rows[i][j].Type()).
						WithHint("You will need to rewrite or cast the expression.")
				}
				return nil, err
			}
			rows[i][j] = e
		}
		name := fmt.Sprintf("column%d", j+1)
		if want != nil {
			name = want[j].Name
		}
		cols[j] = types.Column{Name: name, Type: t}
	}
	return &plan.Values{Rows: rows, Cols: cols}, nil
}
