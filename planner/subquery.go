package planner

import (
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/sluicedb/sluice/expr"
	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/plan"
	"github.com/sluicedb/sluice/types"
)

// Subqueries in expressions: `(SELECT ...)`, `EXISTS (SELECT ...)`,
// `x [NOT] IN (SELECT ...)`, `x op ANY|ALL (SELECT ...)`, `ARRAY(SELECT ...)`.
//
// The inner query is planned like any query, by a binder of its own whose
// outer field links it to the query around it. A column name that the inner
// query's FROM does not have is looked up in the enclosing query's FROM,
// then further out, as PostgreSQL does; a column found there becomes an
// outer reference (expr.OuterRef) in the inner plan and an entry of the
// subquery's Outer, the expression over the enclosing row that gives its
// value. A reference two levels out is an outer reference of the middle
// query too, so every subquery only reads the row just around it.
//
// The result is an expr.Subquery whose plan the executor runs when the
// expression is evaluated, in batch mode only: a materialized view refuses
// subqueries (refuseSubqueries) until they are decorrelated into joins.

// outerQuery is what the binder of a subquery sees of the query around it.
type outerQuery struct {
	scope  *scope  // the enclosing query's columns; nil where it has none
	binder *binder // the enclosing query's binder, for queries further out
	// refs becomes the subquery's Outer: one expression over the enclosing
	// row per outer reference slot.
	refs []expr.Expr
}

// resolveIn resolves table.name among the columns of s, which may be nil
// (a VALUES list, a LIMIT: no columns).
func resolveIn(s *scope, table, name string, pos int) (int, error) {
	if s != nil {
		return s.resolve(table, name, pos)
	}
	if table != "" {
		return 0, pgerror.New(pgerror.UndefinedTable, "missing FROM-clause entry for table %q", table).WithPosition(pos)
	}
	return 0, pgerror.New(pgerror.UndefinedColumn, "column %q does not exist", name).WithPosition(pos)
}

// notFoundHere reports whether err, from resolving table.name in one query,
// lets the name be looked up in the query around it: an unqualified name
// that is not a column there, or a qualified one whose table is not in its
// FROM. A table that is there without the column, or an ambiguous name, is
// an error at that level.
func notFoundHere(table string, err error) bool {
	switch pgerror.Code(err) {
	case pgerror.UndefinedColumn:
		return table == ""
	case pgerror.UndefinedTable:
		return table != ""
	}
	return false
}

// outerColumn resolves table.name, which failed with innerErr in the query
// b binds, in the queries around it. found is false when no query has it
// (the caller reports innerErr); otherwise the result is an outer reference
// or the error of the level that has the table.
func (b *binder) outerColumn(table, name string, pos int, innerErr error) (ref expr.Expr, found bool, err error) {
	o := b.outer
	if o == nil || !notFoundHere(table, innerErr) {
		return nil, false, nil
	}
	var value expr.Expr
	i, err := resolveIn(o.scope, table, name, pos)
	switch {
	case err == nil:
		value = &expr.ColumnRef{Index: i, T: o.scope.cols[i].typ, Name: name}
	case notFoundHere(table, err):
		v, found, err := o.binder.outerColumn(table, name, pos, err)
		if !found || err != nil {
			return nil, found, err
		}
		value = v
	default:
		return nil, true, err
	}
	return expr.OuterRef(o.slot(value), value.Type()), true, nil
}

// slot returns the slot of the enclosing row's value v, adding it.
func (o *outerQuery) slot(v expr.Expr) int {
	for k, r := range o.refs {
		if sameValue(r, v) {
			return k
		}
	}
	o.refs = append(o.refs, v)
	return len(o.refs) - 1
}

// sameValue tells whether two outer values (a column of the enclosing row,
// or an outer reference of the enclosing query) are the same one.
func sameValue(a, b expr.Expr) bool {
	switch a := a.(type) {
	case *expr.ColumnRef:
		b, ok := b.(*expr.ColumnRef)
		return ok && a.Index == b.Index
	case *expr.Param:
		b, ok := b.(*expr.Param)
		return ok && a.Index == b.Index
	}
	return false
}

// subLink binds a subquery in an expression of the query whose columns are
// s.
func (b *binder) subLink(sl *pg.SubLink, s *scope) (expr.Expr, error) {
	pos := int(sl.Location) + 1
	if b.planner == nil {
		return nil, pgerror.New(pgerror.FeatureNotSupported, "subqueries are not supported in this statement").WithPosition(pos)
	}
	var kind expr.SubqueryKind
	switch sl.SubLinkType {
	case pg.SubLinkType_EXPR_SUBLINK:
		kind = expr.SubqueryScalar
	case pg.SubLinkType_EXISTS_SUBLINK:
		kind = expr.SubqueryExists
	case pg.SubLinkType_ANY_SUBLINK:
		kind = expr.SubqueryAny
	case pg.SubLinkType_ALL_SUBLINK:
		kind = expr.SubqueryAll
	case pg.SubLinkType_ARRAY_SUBLINK:
		kind = expr.SubqueryArray
	default:
		return nil, pgerror.New(pgerror.FeatureNotSupported, "row comparisons with subqueries are not supported").WithPosition(pos)
	}
	if (kind == expr.SubqueryAny || kind == expr.SubqueryAll) && sl.Testexpr.GetRowExpr() != nil {
		return nil, pgerror.New(pgerror.FeatureNotSupported, "row comparisons with subqueries are not supported").WithPosition(pos)
	}
	sel := sl.Subselect.GetSelectStmt()
	if sel == nil {
		return nil, pgerror.New(pgerror.SyntaxError, "subquery is not a SELECT").WithPosition(pos)
	}

	inner := &binder{params: b.params, aggs: newAggContext(), outer: &outerQuery{scope: s, binder: b}, ctes: b.ctes}
	root, err := b.planner.query(inner, sel)
	b.params = inner.params
	if err != nil {
		return nil, err
	}
	q := &expr.Subquery{Kind: kind, Outer: inner.outer.refs}
	cols := root.Schema()
	switch kind {
	case expr.SubqueryExists:
		// Only whether there is a row counts; the runner reads a column.
		root = &plan.Project{Input: root, Exprs: []expr.Expr{&expr.Const{Value: true, T: types.Bool}}, Cols: types.Schema{{Name: "exists", Type: types.Bool}}}
	case expr.SubqueryScalar:
		if len(cols) != 1 {
			return nil, pgerror.New(pgerror.SyntaxError, "subquery must return only one column").WithPosition(pos)
		}
		q.T = cols[0].Type
	case expr.SubqueryArray:
		if len(cols) != 1 {
			return nil, pgerror.New(pgerror.SyntaxError, "subquery must return only one column").WithPosition(pos)
		}
		elem := cols[0].Type
		if elem.IsArray() || !elem.HasArray() {
			return nil, pgerror.New(pgerror.FeatureNotSupported, "ARRAY(subquery) of type %s is not supported", elem).WithPosition(pos)
		}
		q.T = types.ArrayOf(elem)
	default:
		if len(cols) != 1 {
			what := "many"
			if len(cols) == 0 {
				what = "few"
			}
			return nil, pgerror.New(pgerror.SyntaxError, "subquery has too %s columns", what).WithPosition(pos)
		}
		if root, err = b.comparison(q, sl, s, root); err != nil {
			return nil, err
		}
	}
	q.Plan = &subplan{root: root}
	return q, nil
}

// comparison binds the left operand and the operator of ANY and ALL into
// q, and returns the inner plan with its column converted to the type the
// operator takes.
func (b *binder) comparison(q *expr.Subquery, sl *pg.SubLink, s *scope, root plan.Node) (plan.Node, error) {
	pos := int(sl.Location) + 1
	test, err := b.bind(sl.Testexpr, s)
	if err != nil {
		return nil, err
	}
	op := "=" // IN
	if len(sl.OperName) > 0 {
		op = opName(sl.OperName)
	}
	col := root.Schema()[0]
	placeholder := &expr.ColumnRef{Index: 0, T: col.Type, Name: col.Name}
	cmp, err := b.operator(op, pos, test, placeholder)
	if err != nil {
		return nil, err
	}
	call, ok := cmp.(*expr.Call)
	if !ok || len(call.Args) != 2 {
		return nil, pgerror.New(pgerror.FeatureNotSupported, "operator %s is not supported with a subquery", op).WithPosition(pos)
	}
	if call.Fn.Ret != types.Bool {
		return nil, pgerror.New(pgerror.DatatypeMismatch, "row comparison operator must yield type boolean, not type %s", call.Fn.Ret).WithPosition(pos)
	}
	if q.Test, err = expr.Fold(call.Args[0]); err != nil {
		return nil, err
	}
	q.Op = call.Fn
	if call.Args[1] != expr.Expr(placeholder) {
		// The operator takes the inner column converted (int4 = int8 may
		// be numeric = numeric): the inner plan converts it.
		conv := call.Args[1]
		root = &plan.Project{Input: root, Exprs: []expr.Expr{conv}, Cols: types.Schema{{Name: col.Name, Type: conv.Type()}}}
	}
	return root, nil
}

// subLinkName is the name PostgreSQL gives a SELECT-list item that is a
// subquery: the inner column's for a scalar subquery, "exists", "array".
func subLinkName(sl *pg.SubLink) string {
	switch sl.SubLinkType {
	case pg.SubLinkType_EXISTS_SUBLINK:
		return "exists"
	case pg.SubLinkType_ARRAY_SUBLINK:
		return "array"
	case pg.SubLinkType_EXPR_SUBLINK:
		sel := sl.Subselect.GetSelectStmt()
		if sel == nil {
			break
		}
		if len(sel.ValuesLists) > 0 {
			return "column1"
		}
		if len(sel.TargetList) > 0 {
			if rt := sel.TargetList[0].GetResTarget(); rt != nil {
				return columnName(rt)
			}
		}
	}
	return "?column?"
}

// mapSubquery is mapExpr's step for a subquery: its Outer and Test are over
// the enclosing row, its plan is not.
func mapSubquery(q *expr.Subquery, m func(expr.Expr) (expr.Expr, error)) (expr.Expr, error) {
	c := *q
	c.Outer = make([]expr.Expr, len(q.Outer))
	for k, o := range q.Outer {
		v, err := m(o)
		if err != nil {
			if ref, ok := o.(*expr.ColumnRef); ok && pgerror.Code(err) == pgerror.GroupingError {
				return nil, pgerror.New(pgerror.GroupingError, "subquery uses ungrouped column %q from outer query", ref.Name)
			}
			return nil, err
		}
		c.Outer[k] = v
	}
	if q.Test != nil {
		t, err := m(q.Test)
		if err != nil {
			return nil, err
		}
		c.Test = t
	}
	return &c, nil
}

// refuseSubqueries fails for a node of a materialized view's plan that
// evaluates a subquery: streaming plans run them only once decorrelated
// into joins, which is not done yet.
// hasSubqueries reports whether any node of the plan evaluates a subquery.
func hasSubqueries(n plan.Node) bool {
	found := false
	_ = walk(n, func(n plan.Node) error {
		if refuseSubqueries(n) != nil {
			found = true
		}
		return nil
	})
	return found
}

func refuseSubqueries(n plan.Node) error {
	for _, e := range planExprs(n) {
		if len(expr.Subqueries(e)) > 0 {
			return pgerror.New(pgerror.FeatureNotSupported, "subqueries in expressions are not supported in a materialized view yet").
				WithHint("An ad-hoc SELECT takes them.")
		}
	}
	return nil
}

// planExprs lists the expressions a plan node evaluates.
func planExprs(n plan.Node) []expr.Expr {
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
	case *plan.ProjectSet:
		var all []expr.Expr
		for _, c := range n.Calls {
			all = append(all, c.Args...)
		}
		return all
	}
	return nil
}

// subplan is the plan of a subquery as package expr sees it. The executor
// reaches the plan through Root.
type subplan struct{ root plan.Node }

var _ expr.SubPlan = (*subplan)(nil)

// Root is the inner query's plan.
func (s *subplan) Root() plan.Node { return s.root }

// MapExprs returns a copy of the plan with f applied to its expressions.
func (s *subplan) MapExprs(f func(expr.Expr) expr.Expr) expr.SubPlan {
	return &subplan{root: mapPlanExprs(s.root, f)}
}

// String renders the plan on one line, each node followed by its inputs.
func (s *subplan) String() string { return planLine(s.root) }

func planLine(n plan.Node) string {
	line := n.Explain()
	ins := n.Inputs()
	switch len(ins) {
	case 0:
		return line
	case 1:
		return line + " ← " + planLine(ins[0])
	}
	parts := make([]string, len(ins))
	for i, in := range ins {
		parts[i] = planLine(in)
	}
	return line + " ← [" + strings.Join(parts, "; ") + "]"
}

// mapPlanExprs copies the nodes of n that hold expressions, or whose inputs
// do, with f applied to the expressions.
func mapPlanExprs(n plan.Node, f func(expr.Expr) expr.Expr) plan.Node {
	list := func(es []expr.Expr) []expr.Expr {
		out := make([]expr.Expr, len(es))
		for i, e := range es {
			out[i] = f(e)
		}
		return out
	}
	switch n := n.(type) {
	case *plan.Values:
		c := *n
		c.Rows = make([][]expr.Expr, len(n.Rows))
		for i, row := range n.Rows {
			c.Rows[i] = list(row)
		}
		return &c
	case *plan.Project:
		c := *n
		c.Input, c.Exprs = mapPlanExprs(n.Input, f), list(n.Exprs)
		return &c
	case *plan.Filter:
		c := *n
		c.Input, c.Pred = mapPlanExprs(n.Input, f), f(n.Pred)
		return &c
	case *plan.Join:
		c := *n
		c.Left, c.Right = mapPlanExprs(n.Left, f), mapPlanExprs(n.Right, f)
		if n.Residual != nil {
			c.Residual = f(n.Residual)
		}
		return &c
	case *plan.TableFunction:
		c := *n
		if n.Input != nil {
			c.Input = mapPlanExprs(n.Input, f)
		}
		c.Args = list(n.Args)
		return &c
	case *plan.ProjectSet:
		c := *n
		c.Input = mapPlanExprs(n.Input, f)
		c.Calls = make([]plan.SetCall, len(n.Calls))
		for i, call := range n.Calls {
			call.Args = list(call.Args)
			c.Calls[i] = call
		}
		return &c
	case *plan.SetOp:
		c := *n
		c.Left, c.Right = mapPlanExprs(n.Left, f), mapPlanExprs(n.Right, f)
		return &c
	case *plan.Window:
		c := *n
		c.Input = mapPlanExprs(n.Input, f)
		return &c
	case *plan.Aggregate:
		c := *n
		c.Input = mapPlanExprs(n.Input, f)
		return &c
	case *plan.Sort:
		c := *n
		c.Input = mapPlanExprs(n.Input, f)
		return &c
	case *plan.Limit:
		c := *n
		c.Input = mapPlanExprs(n.Input, f)
		return &c
	}
	// A scan, which has no expressions.
	return n
}
