package planner

import (
	"errors"
	"fmt"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/sluicedb/sluice/expr"
	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/plan"
	"github.com/sluicedb/sluice/types"
)

// Functions in FROM: generate_series(...), generate_subscripts(...),
// unnest(...) [WITH ORDINALITY] [AS alias[(columns)]], and any other
// function, which is a table of one row holding its value.
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
	if aggFuncs[name] {
		return nil, nil, false, pgerror.New(pgerror.GroupingError, "aggregate functions are not allowed in functions in FROM").WithPosition(pos)
	}
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
	if !setFuncNames[name] {
		return p.scalarFunction(b, rf, name, pos, args, left, ls)
	}
	fn, args, err := resolveSetCall(b, name, args, pos)
	if err != nil {
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

// setFuncNames are the set-returning functions Sluice has; any other
// function in FROM is a one-row table.
var setFuncNames = map[string]bool{"generate_series": true, "generate_subscripts": true, "unnest": true}

// resolveSetCall resolves the set-returning function name for args. An
// untyped parameter takes the type of the other arguments, as
// generate_series(1, $1) makes $1 an integer in PostgreSQL.
// generate_subscripts(a, dim) is generate_series(array_lower(a, dim),
// array_upper(a, dim)), which gives no rows for a NULL array and for a
// dimension it does not have, as generate_subscripts does.
func resolveSetCall(b *binder, name string, args []expr.Expr, pos int) (*expr.SetFunc, []expr.Expr, error) {
	b.inferParams(args)
	if name == "generate_subscripts" {
		if len(args) != 2 {
			return nil, nil, pgerror.New(pgerror.FeatureNotSupported, "generate_subscripts takes an array and a dimension (the reverse argument is not supported)").WithPosition(pos)
		}
		lower, err := expr.Function("array_lower", args...)
		if err != nil {
			return nil, nil, withPos(err, pos)
		}
		upper, err := expr.Function("array_upper", args...)
		if err != nil {
			return nil, nil, withPos(err, pos)
		}
		name, args = "generate_series", []expr.Expr{lower, upper}
	}
	fn, args, err := expr.ResolveSetFunc(name, args)
	if err != nil {
		return nil, nil, withPos(err, pos)
	}
	return fn, args, nil
}

// scalarFunction binds a function that returns one value in FROM: a
// relation of one row and one column, or, when its arguments read the FROM
// items before it, one more column on each of their rows.
func (p *Planner) scalarFunction(b *binder, rf *pg.RangeFunction, name string, pos int, args []expr.Expr, left plan.Node, ls *scope) (plan.Node, *scope, bool, error) {
	b.inferParams(args)
	call, err := expr.Function(name, args...)
	if err != nil {
		return nil, nil, false, withPos(err, pos)
	}
	if call, err = expr.Fold(call); err != nil {
		return nil, nil, false, err
	}
	alias, valueName := name, name
	var colAliases []*pg.Node
	if rf.Alias != nil {
		alias, valueName, colAliases = rf.Alias.Aliasname, rf.Alias.Aliasname, rf.Alias.Colnames
	}
	fs := newScope()
	fs.cols = append(fs.cols, scopeCol{table: alias, name: valueName, typ: outputType(call.Type())})
	exprs := []expr.Expr{call}
	if rf.Ordinality {
		fs.cols = append(fs.cols, scopeCol{table: alias, name: "ordinality", typ: types.Int8})
		exprs = append(exprs, &expr.Const{Value: int64(1), T: types.Int8})
	}
	if len(colAliases) > len(fs.cols) {
		return nil, nil, false, pgerror.New(pgerror.InvalidColumnReference, "table %q has %d columns available but %d columns specified", alias, len(fs.cols), len(colAliases))
	}
	renameColumns(fs, colAliases)
	if t := call.Type(); t == types.Unknown || t == types.Null {
		if exprs[0], err = expr.Coerce(call, types.Text, "FROM"); err != nil {
			return nil, nil, false, err
		}
	}

	if !readsColumns(call) || left == nil {
		node := &plan.Project{Input: &plan.Values{Rows: [][]expr.Expr{{}}, Cols: types.Schema{}}, Exprs: exprs, Cols: fs.schema()}
		return node, fs, false, nil
	}
	// Lateral: the left rows, each with the value computed over it.
	sc := join(ls, fs)
	all := make([]expr.Expr, 0, len(sc.cols))
	for i, c := range ls.cols {
		all = append(all, &expr.ColumnRef{Index: i, T: c.typ, Name: c.name})
	}
	all = append(all, exprs...)
	return &plan.Project{Input: left, Exprs: all, Cols: sc.schema()}, sc, true, nil
}

// setFuncPrefix starts the names of the scope columns that stand for the
// set-returning functions of a SELECT list; no SQL name contains it.
const setFuncPrefix = "\x00srf"

// isSetFuncColumn tells a column standing for a set-returning function of
// the SELECT list from a column of the FROM clause.
func isSetFuncColumn(c scopeCol) bool { return strings.HasPrefix(c.name, setFuncPrefix) }

// setFuncTargets takes the set-returning function calls out of a SELECT
// list, as PostgreSQL's ProjectSet evaluates them before the rest of the
// list: each call, with its arguments bound over sc, becomes a plan.SetCall,
// and the list returned (a copy: the statement is left as it was) reads
// its value as a column added to sc. It returns the list unchanged when it
// calls none. Calls inside subqueries belong to those.
func (p *Planner) setFuncTargets(b *binder, list []*pg.Node, sc *scope) ([]*pg.Node, []plan.SetCall, error) {
	if !callsSetFunc(list) {
		return list, nil, nil
	}
	var calls []plan.SetCall
	out := make([]*pg.Node, len(list))
	for i, n := range list {
		n = proto.Clone(n).(*pg.Node)
		err := replaceSetFuncs(n.ProtoReflect(), func(fc *pg.FuncCall) (*pg.Node, error) {
			name := funcName(fc.Funcname)
			pos := int(fc.Location) + 1
			if callsSetFunc(fc.Args) {
				return nil, pgerror.New(pgerror.FeatureNotSupported, "set-returning functions in the arguments of %s are not supported yet", name).WithPosition(pos)
			}
			if fc.AggStar || fc.AggDistinct || len(fc.AggOrder) > 0 || fc.AggFilter != nil || fc.Over != nil || fc.FuncVariadic {
				return nil, pgerror.New(pgerror.FeatureNotSupported, "this form of %s is not supported", name).WithPosition(pos)
			}
			saved := b.aggs
			b.aggs = nil
			args, err := b.bindFoldedList(fc.Args, sc)
			b.aggs = saved
			if err != nil {
				if pgerror.Code(err) == pgerror.GroupingError {
					return nil, pgerror.New(pgerror.FeatureNotSupported, "aggregates in the arguments of %s are not supported yet", name).WithPosition(pos)
				}
				return nil, err
			}
			fn, args, err := resolveSetCall(b, name, args, pos)
			if err != nil {
				return nil, err
			}
			col := fmt.Sprintf("%s%d", setFuncPrefix, len(calls))
			calls = append(calls, plan.SetCall{Name: name, Func: fn, Args: args})
			return &pg.Node{Node: &pg.Node_ColumnRef{ColumnRef: &pg.ColumnRef{
				Fields:   []*pg.Node{{Node: &pg.Node_String_{String_: &pg.String{Sval: col}}}},
				Location: fc.Location,
			}}}, nil
		})
		if err != nil {
			return nil, nil, err
		}
		out[i] = n
	}
	return out, calls, nil
}

// isSetFuncCall reports whether n calls a set-returning function.
func isSetFuncCall(n *pg.Node) bool {
	fc := n.GetFuncCall()
	return fc != nil && setFuncNames[funcName(fc.Funcname)]
}

// callsSetFunc reports whether any of ns calls a set-returning function
// outside a subquery.
func callsSetFunc(ns []*pg.Node) bool {
	found := false
	for _, n := range ns {
		if n == nil {
			continue
		}
		if isSetFuncCall(n) {
			return true
		}
		_ = replaceSetFuncs(n.ProtoReflect(), func(*pg.FuncCall) (*pg.Node, error) {
			found = true
			return nil, errStop
		})
		if found {
			return true
		}
	}
	return false
}

var errStop = errors.New("stop")

// replaceSetFuncs walks the expression tree m (a pg_query message) and
// replaces each node that calls a set-returning function by what f returns
// for the call, without looking into the call's arguments or into
// subqueries. It walks any message generically, so that every expression
// form PostgreSQL's grammar has is covered.
func replaceSetFuncs(m protoreflect.Message, f func(*pg.FuncCall) (*pg.Node, error)) error {
	return replaceCalls(m, func(fc *pg.FuncCall) bool { return setFuncNames[funcName(fc.Funcname)] }, f)
}
