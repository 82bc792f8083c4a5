package planner

import (
	"strconv"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/sluicedb/sluice/expr"
	"github.com/sluicedb/sluice/parser"
	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/plan"
	"github.com/sluicedb/sluice/types"
)

// aggFuncs are the aggregate functions Sluice computes.
var aggFuncs = map[string]bool{"count": true, "sum": true, "avg": true, "min": true, "max": true,
	"stddev": true, "stddev_samp": true, "stddev_pop": true, "variance": true, "var_samp": true, "var_pop": true,
	"bool_and": true, "bool_or": true, "every": true, "array_agg": true}

// aggContext collects the aggregate calls of a query while its target list,
// HAVING and ORDER BY are bound. Each call is bound to a placeholder column
// reference that is later pointed at the aggregate's output column.
type aggContext struct {
	calls        []aggCall
	placeholders map[*expr.ColumnRef]int
}

type aggCall struct {
	name     string
	arg      expr.Expr // nil for count(*)
	distinct bool
	ret      types.T
}

// binder turns pg_query expression nodes into typed expressions.
type binder struct {
	params []types.T // declared or inferred parameter types; grown as needed
	aggs   *aggContext
	// inAgg is set while binding an aggregate's argument.
	inAgg bool
	// planner plans the inner queries of subqueries; nil where a statement
	// takes no subqueries.
	planner *Planner
	// outer is the query around the one being bound when that one is a
	// subquery in an expression; see subquery.go.
	outer *outerQuery
	// ctes are the WITH queries in scope; see cte.go.
	ctes *cteScope
	// temporal names the FROM items of a streaming query marked FOR
	// SYSTEM_TIME AS OF PROCTIME().
	temporal map[string]bool
	// joinSides are the scopes of the two sides of each join of the FROM
	// clause, for conditions of the WHERE clause moved into a join.
	joinSides map[*plan.Join][2]*scope
}

// recordJoin remembers the scopes of j's sides.
func (b *binder) recordJoin(j *plan.Join, ls, rs *scope) {
	if b.joinSides == nil {
		b.joinSides = map[*plan.Join][2]*scope{}
	}
	b.joinSides[j] = [2]*scope{ls, rs}
}

func (b *binder) bind(n *pg.Node, s *scope) (expr.Expr, error) {
	if n == nil {
		return nil, pgerror.New(pgerror.SyntaxError, "missing expression")
	}
	switch {
	case n.GetColumnRef() != nil:
		return b.columnRef(n.GetColumnRef(), s)
	case n.GetAConst() != nil:
		return constant(n.GetAConst())
	case n.GetParamRef() != nil:
		return b.param(int(n.GetParamRef().Number), int(n.GetParamRef().Location))
	case n.GetTypeCast() != nil:
		return b.typeCast(n.GetTypeCast(), s)
	case n.GetAExpr() != nil:
		return b.aExpr(n.GetAExpr(), s)
	case n.GetBoolExpr() != nil:
		return b.boolExpr(n.GetBoolExpr(), s)
	case n.GetNullTest() != nil:
		arg, err := b.bind(n.GetNullTest().Arg, s)
		if err != nil {
			return nil, err
		}
		return &expr.IsNull{Arg: arg, Negate: n.GetNullTest().Nulltesttype == pg.NullTestType_IS_NOT_NULL}, nil
	case n.GetBooleanTest() != nil:
		return b.booleanTest(n.GetBooleanTest(), s)
	case n.GetCaseExpr() != nil:
		return b.caseExpr(n.GetCaseExpr(), s)
	case n.GetCoalesceExpr() != nil:
		args, err := b.bindList(n.GetCoalesceExpr().Args, s)
		if err != nil {
			return nil, err
		}
		return expr.NewCoalesce(args)
	case n.GetMinMaxExpr() != nil:
		args, err := b.bindList(n.GetMinMaxExpr().Args, s)
		if err != nil {
			return nil, err
		}
		name := "greatest"
		if n.GetMinMaxExpr().Op == pg.MinMaxOp_IS_LEAST {
			name = "least"
		}
		return expr.Function(name, args...)
	case n.GetFuncCall() != nil:
		return b.funcCall(n.GetFuncCall(), s)
	case n.GetSqlvalueFunction() != nil:
		return sqlValueFunction(n.GetSqlvalueFunction())
	case n.GetCollateClause() != nil:
		return b.collate(n.GetCollateClause(), s)
	case n.GetAArrayExpr() != nil:
		return b.arrayConstructor(n.GetAArrayExpr(), s)
	case n.GetAIndirection() != nil:
		return b.indirection(n.GetAIndirection(), s)
	case n.GetSubLink() != nil:
		return b.subLink(n.GetSubLink(), s)
	}
	return nil, pgerror.New(pgerror.FeatureNotSupported, "expression %s is not supported", nodeName(n))
}

func nodeName(n *pg.Node) string {
	s := strings.TrimPrefix(strings.TrimPrefix(strings.SplitN(n.String(), ":", 2)[0], "node:"), "*pg_query.Node_")
	return s
}

func (b *binder) bindList(ns []*pg.Node, s *scope) ([]expr.Expr, error) {
	out := make([]expr.Expr, len(ns))
	for i, n := range ns {
		e, err := b.bind(n, s)
		if err != nil {
			return nil, err
		}
		out[i] = e
	}
	return out, nil
}

func (b *binder) columnRef(c *pg.ColumnRef, s *scope) (expr.Expr, error) {
	var parts []string
	for _, f := range c.Fields {
		if f.GetAStar() != nil {
			return nil, pgerror.New(pgerror.FeatureNotSupported, "* is only allowed in a SELECT list or count(*)").WithPosition(int(c.Location) + 1)
		}
		parts = append(parts, f.GetString_().Sval)
	}
	var table, name string
	switch len(parts) {
	case 1:
		name = parts[0]
	case 2:
		table, name = parts[0], parts[1]
	case 3:
		table, name = parts[1], parts[2]
	default:
		return nil, pgerror.New(pgerror.SyntaxError, "improper qualified name (too many dotted names): %s", strings.Join(parts, ".")).WithPosition(int(c.Location) + 1)
	}
	i, err := resolveIn(s, table, name, int(c.Location)+1)
	if err != nil {
		// Not a column of this query: maybe one of a query around it.
		if ref, found, oerr := b.outerColumn(table, name, int(c.Location)+1, err); found {
			return ref, oerr
		}
		return nil, err
	}
	return &expr.ColumnRef{Index: i, T: s.cols[i].typ, Name: name}, nil
}

func constant(c *pg.A_Const) (expr.Expr, error) {
	if c.Isnull {
		return &expr.Const{Value: nil, T: types.Null}, nil
	}
	switch v := c.Val.(type) {
	case *pg.A_Const_Ival:
		return &expr.Const{Value: v.Ival.Ival, T: types.Int4}, nil
	case *pg.A_Const_Fval:
		// PostgreSQL types an integer literal too big for int4 as int8, and
		// one with a fraction or exponent as numeric.
		if i, err := strconv.ParseInt(v.Fval.Fval, 10, 64); err == nil {
			return &expr.Const{Value: i, T: types.Int8}, nil
		}
		f, err := strconv.ParseFloat(v.Fval.Fval, 64)
		if err != nil {
			return nil, pgerror.New(pgerror.InvalidTextRepresentation, "invalid numeric literal %q", v.Fval.Fval).WithPosition(int(c.Location) + 1)
		}
		return &expr.Const{Value: f, T: types.Numeric}, nil
	case *pg.A_Const_Boolval:
		return &expr.Const{Value: v.Boolval.Boolval, T: types.Bool}, nil
	case *pg.A_Const_Sval:
		return &expr.Const{Value: v.Sval.Sval, T: types.Unknown}, nil
	case *pg.A_Const_Bsval:
		return nil, pgerror.New(pgerror.FeatureNotSupported, "bit-string literals are not supported").WithPosition(int(c.Location) + 1)
	}
	return nil, pgerror.New(pgerror.SyntaxError, "unsupported constant")
}

func (b *binder) param(number, loc int) (expr.Expr, error) {
	if number < 1 {
		return nil, pgerror.New(pgerror.UndefinedParameter, "there is no parameter $%d", number).WithPosition(loc + 1)
	}
	for len(b.params) < number {
		b.params = append(b.params, types.Unknown)
	}
	return &expr.Param{Index: number - 1, T: b.params[number-1]}, nil
}

// inferParams gives untyped parameters among args the type of the other
// operands, as PostgreSQL infers $1 in `x = $1` to be x's type.
func (b *binder) inferParams(args []expr.Expr) {
	var known types.T = types.Unknown
	for _, a := range args {
		if t := a.Type(); t != types.Unknown && t != types.Null {
			known = t
			break
		}
	}
	if known == types.Unknown {
		return
	}
	for _, a := range args {
		if p, ok := a.(*expr.Param); ok && p.T == types.Unknown {
			p.T = known
			b.params[p.Index] = known
		}
	}
}

func (b *binder) typeCast(tc *pg.TypeCast, s *scope) (expr.Expr, error) {
	to, err := parser.ResolveCastType(tc.TypeName)
	if err != nil {
		return nil, withPos(err, int(tc.Location)+1)
	}
	arg, err := b.bind(tc.Arg, s)
	if err != nil {
		return nil, err
	}
	if isRegType(to) {
		// 'pg_class'::regclass names an object: resolved now, as
		// PostgreSQL does.
		if c, ok, err := b.regConstant(arg, to); ok || err != nil {
			return c, withPosErr(err, int(tc.Location)+1)
		}
	}
	if p, ok := arg.(*expr.Param); ok && p.T == types.Unknown {
		p.T = to
		b.params[p.Index] = to
		return p, nil
	}
	// INTERVAL '10' SECOND: a bare number takes the unit of the qualifier.
	if to == types.Interval && len(tc.TypeName.Typmods) > 0 {
		if c, ok := arg.(*expr.Const); ok && c.T == types.Unknown {
			if unit := intervalUnit(tc.TypeName.Typmods[0]); unit != "" {
				str := strings.TrimSpace(c.Value.(string))
				if _, err := strconv.ParseFloat(str, 64); err == nil {
					arg = &expr.Const{Value: str + " " + unit, T: types.Unknown}
				}
			}
		}
	}
	e, err := expr.NewCast(arg, to, true)
	if err != nil {
		return nil, withPos(err, int(tc.Location)+1)
	}
	return e, nil
}

// intervalUnit returns the unit of the lowest field of an interval
// qualifier's typmod (PostgreSQL's INTERVAL_MASK bits).
func intervalUnit(n *pg.Node) string {
	c := n.GetAConst()
	if c == nil || c.GetIval() == nil {
		return ""
	}
	mask := c.GetIval().Ival
	for _, f := range []struct {
		bit  int32
		unit string
	}{{12, "seconds"}, {11, "minutes"}, {10, "hours"}, {3, "days"}, {1, "months"}, {2, "years"}} {
		if mask&(1<<f.bit) != 0 {
			return f.unit
		}
	}
	return ""
}

func withPos(err error, pos int) error {
	if pe, ok := err.(*pgerror.Error); ok && pe.Position == 0 {
		c := *pe
		c.Position = pos
		return &c
	}
	return err
}

func opName(names []*pg.Node) string {
	parts := make([]string, 0, len(names))
	for _, n := range names {
		parts = append(parts, n.GetString_().Sval)
	}
	if len(parts) == 2 && parts[0] == "pg_catalog" {
		return parts[1]
	}
	return strings.Join(parts, ".")
}

func (b *binder) operator(op string, pos int, args ...expr.Expr) (expr.Expr, error) {
	b.inferParams(args)
	e, err := expr.Operator(op, args...)
	if err != nil {
		return nil, withPos(err, pos)
	}
	return e, nil
}

func (b *binder) aExpr(a *pg.A_Expr, s *scope) (expr.Expr, error) {
	pos := int(a.Location) + 1
	op := opName(a.Name)
	switch a.Kind {
	case pg.A_Expr_Kind_AEXPR_OP, pg.A_Expr_Kind_AEXPR_LIKE, pg.A_Expr_Kind_AEXPR_ILIKE:
		r, err := b.bind(a.Rexpr, s)
		if err != nil {
			return nil, err
		}
		if a.Lexpr == nil {
			return b.operator(op, pos, r)
		}
		l, err := b.bind(a.Lexpr, s)
		if err != nil {
			return nil, err
		}
		return b.operator(op, pos, l, r)
	case pg.A_Expr_Kind_AEXPR_OP_ANY, pg.A_Expr_Kind_AEXPR_OP_ALL:
		return b.arrayCompare(a, s)
	case pg.A_Expr_Kind_AEXPR_DISTINCT, pg.A_Expr_Kind_AEXPR_NOT_DISTINCT:
		l, err := b.bind(a.Lexpr, s)
		if err != nil {
			return nil, err
		}
		r, err := b.bind(a.Rexpr, s)
		if err != nil {
			return nil, err
		}
		name := "IS DISTINCT FROM"
		if a.Kind == pg.A_Expr_Kind_AEXPR_NOT_DISTINCT {
			name = "IS NOT DISTINCT FROM"
		}
		return b.operator(name, pos, l, r)
	case pg.A_Expr_Kind_AEXPR_NULLIF:
		l, err := b.bind(a.Lexpr, s)
		if err != nil {
			return nil, err
		}
		r, err := b.bind(a.Rexpr, s)
		if err != nil {
			return nil, err
		}
		b.inferParams([]expr.Expr{l, r})
		return expr.NewNullIf(l, r)
	case pg.A_Expr_Kind_AEXPR_IN:
		l, err := b.bind(a.Lexpr, s)
		if err != nil {
			return nil, err
		}
		list := a.Rexpr.GetList()
		if list == nil {
			return nil, pgerror.New(pgerror.FeatureNotSupported, "IN (subquery) is not supported yet").WithPosition(pos)
		}
		items, err := b.bindList(list.Items, s)
		if err != nil {
			return nil, err
		}
		b.inferParams(append([]expr.Expr{l}, items...))
		e, err := expr.NewIn(l, items, op == "<>")
		return e, withPosErr(err, pos)
	case pg.A_Expr_Kind_AEXPR_BETWEEN, pg.A_Expr_Kind_AEXPR_NOT_BETWEEN:
		l, err := b.bind(a.Lexpr, s)
		if err != nil {
			return nil, err
		}
		bounds := a.Rexpr.GetList().Items
		lo, err := b.bind(bounds[0], s)
		if err != nil {
			return nil, err
		}
		hi, err := b.bind(bounds[1], s)
		if err != nil {
			return nil, err
		}
		ge, err := b.operator(">=", pos, l, lo)
		if err != nil {
			return nil, err
		}
		le, err := b.operator("<=", pos, l, hi)
		if err != nil {
			return nil, err
		}
		var e expr.Expr = &expr.And{Args: []expr.Expr{ge, le}}
		if a.Kind == pg.A_Expr_Kind_AEXPR_NOT_BETWEEN {
			e = &expr.Not{Arg: e}
		}
		return e, nil
	}
	return nil, pgerror.New(pgerror.FeatureNotSupported, "operator form %s is not supported", a.Kind).WithPosition(pos)
}

func withPosErr(err error, pos int) error {
	if err == nil {
		return nil
	}
	return withPos(err, pos)
}

func (b *binder) boolExpr(be *pg.BoolExpr, s *scope) (expr.Expr, error) {
	args, err := b.bindList(be.Args, s)
	if err != nil {
		return nil, err
	}
	for i, a := range args {
		if p, ok := a.(*expr.Param); ok && p.T == types.Unknown {
			p.T = types.Bool
			b.params[p.Index] = types.Bool
		}
		c, err := expr.Coerce(a, types.Bool, "argument of "+strings.TrimSuffix(strings.TrimPrefix(be.Boolop.String(), ""), "_EXPR"))
		if err != nil {
			return nil, withPos(err, int(be.Location)+1)
		}
		args[i] = c
	}
	switch be.Boolop {
	case pg.BoolExprType_AND_EXPR:
		return &expr.And{Args: args}, nil
	case pg.BoolExprType_OR_EXPR:
		return &expr.Or{Args: args}, nil
	}
	return &expr.Not{Arg: args[0]}, nil
}

func (b *binder) booleanTest(bt *pg.BooleanTest, s *scope) (expr.Expr, error) {
	arg, err := b.bind(bt.Arg, s)
	if err != nil {
		return nil, err
	}
	if arg, err = expr.Coerce(arg, types.Bool, "argument of IS TRUE"); err != nil {
		return nil, err
	}
	t, f := true, false
	switch bt.Booltesttype {
	case pg.BoolTestType_IS_TRUE:
		return &expr.IsBool{Arg: arg, Value: &t}, nil
	case pg.BoolTestType_IS_NOT_TRUE:
		return &expr.IsBool{Arg: arg, Value: &t, Negate: true}, nil
	case pg.BoolTestType_IS_FALSE:
		return &expr.IsBool{Arg: arg, Value: &f}, nil
	case pg.BoolTestType_IS_NOT_FALSE:
		return &expr.IsBool{Arg: arg, Value: &f, Negate: true}, nil
	case pg.BoolTestType_IS_UNKNOWN:
		return &expr.IsBool{Arg: arg}, nil
	}
	return &expr.IsBool{Arg: arg, Negate: true}, nil
}

func (b *binder) caseExpr(c *pg.CaseExpr, s *scope) (expr.Expr, error) {
	var operand expr.Expr
	if c.Arg != nil {
		var err error
		if operand, err = b.bind(c.Arg, s); err != nil {
			return nil, err
		}
	}
	var whens []expr.When
	for _, w := range c.Args {
		cw := w.GetCaseWhen()
		cond, err := b.bind(cw.Expr, s)
		if err != nil {
			return nil, err
		}
		if operand != nil {
			// A simple CASE compares the operand with each WHEN value.
			if cond, err = b.operator("=", int(cw.Location)+1, operand, cond); err != nil {
				return nil, err
			}
		} else if cond, err = expr.Coerce(cond, types.Bool, "argument of CASE/WHEN"); err != nil {
			return nil, withPos(err, int(cw.Location)+1)
		}
		res, err := b.bind(cw.Result, s)
		if err != nil {
			return nil, err
		}
		whens = append(whens, expr.When{Cond: cond, Result: res})
	}
	var els expr.Expr
	if c.Defresult != nil {
		var err error
		if els, err = b.bind(c.Defresult, s); err != nil {
			return nil, err
		}
	}
	e, err := expr.NewCase(whens, els)
	return e, withPosErr(err, int(c.Location)+1)
}

func funcName(names []*pg.Node) string {
	parts := make([]string, 0, len(names))
	for _, n := range names {
		parts = append(parts, n.GetString_().Sval)
	}
	if len(parts) == 2 && parts[0] == "pg_catalog" {
		return parts[1]
	}
	return strings.Join(parts, ".")
}

func (b *binder) funcCall(f *pg.FuncCall, s *scope) (expr.Expr, error) {
	name := funcName(f.Funcname)
	pos := int(f.Location) + 1
	if f.Over != nil {
		return nil, pgerror.New(pgerror.FeatureNotSupported, "window function %s is not supported here", name).WithPosition(pos).WithHint(topNLimitHint)
	}
	if aggFuncs[name] {
		return b.aggregate(name, f, s)
	}
	if f.AggStar || f.AggDistinct || f.AggFilter != nil || len(f.AggOrder) > 0 {
		return nil, pgerror.New(pgerror.WrongObjectType, "%s is not an aggregate function", name).WithPosition(pos)
	}
	args, err := b.bindList(f.Args, s)
	if err != nil {
		return nil, err
	}
	b.inferParams(args)
	e, err := expr.Function(name, args...)
	if err != nil {
		return nil, withPos(err, pos)
	}
	return e, nil
}

func (b *binder) aggregate(name string, f *pg.FuncCall, s *scope) (expr.Expr, error) {
	pos := int(f.Location) + 1
	if b.aggs == nil {
		return nil, pgerror.New(pgerror.GroupingError, "aggregate functions are not allowed here").WithPosition(pos)
	}
	if b.inAgg {
		return nil, pgerror.New(pgerror.GroupingError, "aggregate function calls cannot be nested").WithPosition(pos)
	}
	if f.AggFilter != nil || len(f.AggOrder) > 0 {
		return nil, pgerror.New(pgerror.FeatureNotSupported, "FILTER and ORDER BY in aggregates are not supported yet").WithPosition(pos)
	}
	call := aggCall{name: name, distinct: f.AggDistinct}
	if f.AggStar {
		if name != "count" {
			return nil, pgerror.New(pgerror.SyntaxError, "%s(*) is not allowed; only count(*) is", name).WithPosition(pos)
		}
		call.ret = types.Int8
	} else {
		if len(f.Args) != 1 {
			return nil, pgerror.New(pgerror.UndefinedFunction, "function %s with %d arguments does not exist", name, len(f.Args)).WithPosition(pos)
		}
		b.inAgg = true
		arg, err := b.bind(f.Args[0], s)
		b.inAgg = false
		if err != nil {
			return nil, err
		}
		if arg.Type() == types.Unknown {
			if arg, err = expr.NewCast(arg, types.Text, false); err != nil {
				return nil, err
			}
		}
		ret, err := aggReturnType(name, arg.Type())
		if err != nil {
			return nil, withPos(err, pos)
		}
		call.arg, call.ret = arg, ret
	}
	b.aggs.calls = append(b.aggs.calls, call)
	ph := &expr.ColumnRef{Index: -1, T: call.ret, Name: name}
	b.aggs.placeholders[ph] = len(b.aggs.calls) - 1
	return ph, nil
}

// aggReturnType is PostgreSQL's result type of an aggregate.
func aggReturnType(name string, t types.T) (types.T, error) {
	switch name {
	case "count":
		return types.Int8, nil
	case "sum":
		switch t {
		case types.Int2, types.Int4:
			return types.Int8, nil
		case types.Int8, types.Numeric:
			return types.Numeric, nil
		case types.Float4, types.Float8:
			return t, nil
		}
	case "avg":
		switch t {
		case types.Int2, types.Int4, types.Int8, types.Numeric:
			return types.Numeric, nil
		case types.Float4, types.Float8:
			return types.Float8, nil
		}
	case "stddev", "stddev_samp", "stddev_pop", "variance", "var_samp", "var_pop":
		switch t {
		case types.Int2, types.Int4, types.Int8, types.Numeric:
			return types.Numeric, nil
		case types.Float4, types.Float8:
			return types.Float8, nil
		}
	case "bool_and", "bool_or", "every":
		if t == types.Bool {
			return types.Bool, nil
		}
	case "array_agg":
		if !t.IsArray() && t != types.Null && t != types.Unknown {
			return types.ArrayOf(t), nil
		}
	case "min", "max":
		switch t {
		case types.Interval, types.Bool, types.Bytea, types.JSONB, types.Null:
		default:
			return t, nil
		}
	}
	return 0, pgerror.New(pgerror.UndefinedFunction, "function %s(%s) does not exist", name, t).
		WithHint("No function matches the given name and argument types. You might need to add explicit type casts.")
}

func sqlValueFunction(f *pg.SQLValueFunction) (expr.Expr, error) {
	switch f.Op {
	case pg.SQLValueFunctionOp_SVFOP_CURRENT_TIMESTAMP, pg.SQLValueFunctionOp_SVFOP_CURRENT_TIMESTAMP_N:
		return expr.Function("now")
	case pg.SQLValueFunctionOp_SVFOP_LOCALTIMESTAMP, pg.SQLValueFunctionOp_SVFOP_LOCALTIMESTAMP_N:
		now, err := expr.Function("now")
		if err != nil {
			return nil, err
		}
		return expr.NewCast(now, types.Timestamp, true)
	case pg.SQLValueFunctionOp_SVFOP_CURRENT_DATE:
		now, err := expr.Function("now")
		if err != nil {
			return nil, err
		}
		return expr.NewCast(now, types.Date, true)
	case pg.SQLValueFunctionOp_SVFOP_CURRENT_USER, pg.SQLValueFunctionOp_SVFOP_USER, pg.SQLValueFunctionOp_SVFOP_CURRENT_ROLE:
		return expr.Function("current_user")
	case pg.SQLValueFunctionOp_SVFOP_SESSION_USER:
		return expr.Function("session_user")
	case pg.SQLValueFunctionOp_SVFOP_CURRENT_CATALOG:
		return expr.Function("current_database")
	case pg.SQLValueFunctionOp_SVFOP_CURRENT_SCHEMA:
		return expr.Function("current_schema")
	}
	return nil, pgerror.New(pgerror.FeatureNotSupported, "%s is not supported", f.Op)
}

// bindFolded binds a whole expression and folds its constant parts, as
// PostgreSQL's planner does: `1/0` fails here, at plan time, and constant
// subexpressions are computed once instead of once per row.
func (b *binder) bindFolded(n *pg.Node, s *scope) (expr.Expr, error) {
	e, err := b.bind(n, s)
	if err != nil {
		return nil, err
	}
	return expr.Fold(e)
}

func (b *binder) bindFoldedList(ns []*pg.Node, s *scope) ([]expr.Expr, error) {
	out := make([]expr.Expr, len(ns))
	for i, n := range ns {
		e, err := b.bindFolded(n, s)
		if err != nil {
			return nil, err
		}
		out[i] = e
	}
	return out, nil
}
