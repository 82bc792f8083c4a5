package planner

import (
	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/sluicedb/sluice/expr"
	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/plan"
	"github.com/sluicedb/sluice/types"
)

// Set-returning functions in FROM: generate_series(...), unnest(...)
// [WITH ORDINALITY] [AS alias[(columns)]].
//
// A function in FROM is implicitly LATERAL in PostgreSQL: its arguments may
// read the columns of the FROM items before it in the same FROM list (and,
// like any expression of a subquery, the columns of the queries around it,
// which become outer references). When they read the items before it, the
// function is not joined to them but called once per row of them: the
// plan.TableFunction takes their plan as its Input. Otherwise it is a
// relation of its own, joined like any other FROM item.
//
// Columns are named as PostgreSQL names them: the function's name, or the
// alias (a function returning one column takes the alias as its column's
// name too), or the alias's column list; WITH ORDINALITY adds
// "ordinality".

// isWindowFunction tells TUMBLE, HOP and SESSION, which read a relation,
// from the set-returning functions.
func isWindowFunction(rf *pg.RangeFunction) bool {
	fc := rangeFuncCall(rf)
	if fc == nil {
		return false
	}
	switch funcName(fc.Funcname) {
	case "tumble", "hop", "session":
		return true
	}
	return false
}

// rangeFuncCall is the call of a FROM function, or nil for ROWS FROM with
// several functions and other shapes Sluice does not take.
func rangeFuncCall(rf *pg.RangeFunction) *pg.FuncCall {
	if len(rf.Functions) != 1 || rf.IsRowsfrom {
		return nil
	}
	l := rf.Functions[0].GetList()
	if l == nil || len(l.Items) == 0 {
		return nil
	}
	return l.Items[0].GetFuncCall()
}

// fromListItem binds one item of a FROM list, whose items before it are
// left with columns ls (nil when it is the first). lateral reports that the
// returned node already includes left (a function reading its columns), so
// that the caller does not join the two.
func (p *Planner) fromListItem(b *binder, n *pg.Node, left plan.Node, ls *scope) (node plan.Node, sc *scope, lateral bool, err error) {
	if rf := n.GetRangeFunction(); rf != nil && !isWindowFunction(rf) {
		return p.tableFunction(b, rf, left, ls)
	}
	node, sc, err = p.fromItem(b, n)
	return node, sc, false, err
}

// tableFunction binds a set-returning function in FROM; left and ls are as
// for fromListItem.
func (p *Planner) tableFunction(b *binder, rf *pg.RangeFunction, left plan.Node, ls *scope) (plan.Node, *scope, bool, error) {
	fc := rangeFuncCall(rf)
	if fc == nil || len(rf.Coldeflist) > 0 {
		return nil, nil, false, pgerror.New(pgerror.FeatureNotSupported, "ROWS FROM and column definition lists in FROM are not supported")
	}
	name := funcName(fc.Funcname)
	pos := int(fc.Location) + 1
	if fc.AggStar || fc.AggDistinct || len(fc.AggOrder) > 0 || fc.AggFilter != nil || fc.Over != nil || fc.FuncVariadic {
		return nil, nil, false, pgerror.New(pgerror.FeatureNotSupported, "this form of %s in FROM is not supported", name).WithPosition(pos)
	}
	if left == nil {
		ls = nil
	}

	// Aggregates have no rows to aggregate here.
	saved := b.aggs
	b.aggs = nil
	args, err := b.bindFoldedList(fc.Args, ls)
	b.aggs = saved
	if err != nil {
		if pgerror.Code(err) == pgerror.GroupingError {
			return nil, nil, false, pgerror.New(pgerror.GroupingError, "aggregate functions are not allowed in functions in FROM").WithPosition(pos)
		}
		return nil, nil, false, err
	}
	// An untyped parameter takes the type of the other arguments, as
	// generate_series(1, $1) makes $1 an integer in PostgreSQL.
	b.inferParams(args)
	fn, args, err := expr.ResolveSetFunc(name, args)
	if err != nil {
		if pe, ok := err.(*pgerror.Error); ok {
			err = pe.WithPosition(pos)
		}
		return nil, nil, false, err
	}
	lateral := false
	for _, a := range args {
		lateral = lateral || readsColumns(a)
	}

	alias, colAliases := name, []*pg.Node(nil)
	valueName := name
	if rf.Alias != nil {
		alias, colAliases = rf.Alias.Aliasname, rf.Alias.Colnames
		valueName = alias
	}
	fs := newScope()
	fs.cols = append(fs.cols, scopeCol{table: alias, name: valueName, typ: fn.Ret})
	if rf.Ordinality {
		fs.cols = append(fs.cols, scopeCol{table: alias, name: "ordinality", typ: types.Int8})
	}
	if len(colAliases) > len(fs.cols) {
		return nil, nil, false, pgerror.New(pgerror.InvalidColumnReference, "table %q has %d columns available but %d columns specified", alias, len(fs.cols), len(colAliases))
	}
	renameColumns(fs, colAliases)

	node := &plan.TableFunction{Func: fn, Args: args, Ordinality: rf.Ordinality}
	sc := fs
	if lateral {
		node.Input = left
		sc = join(ls, fs)
	}
	node.Cols = sc.schema()
	return node, sc, lateral, nil
}

// readsColumns reports whether e reads a column of the row it is evaluated
// over (the outer values of its subqueries included).
func readsColumns(e expr.Expr) bool {
	found := false
	_, _ = mapExpr(e, func(x expr.Expr) (expr.Expr, bool, error) {
		if _, ok := x.(*expr.ColumnRef); ok {
			found = true
			return x, true, nil
		}
		return nil, false, nil
	})
	return found
}

// errTableFunctionStream refuses a set-returning function in a streaming
// plan: the operator exists in batch mode only.
func errTableFunctionStream(n *plan.TableFunction) error {
	return pgerror.New(pgerror.FeatureNotSupported, "set-returning functions in FROM (%s) are not supported in a materialized view yet", n.Func.Name).
		WithHint("An ad-hoc SELECT takes them.")
}
