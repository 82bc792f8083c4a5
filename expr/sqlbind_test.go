package expr

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/types"
)

// A small binder for tests: it parses a SQL expression with PostgreSQL's
// grammar and builds it with this package's constructors the way the
// planner's binder does, so that tests can be written as SQL and compared
// with PostgreSQL.

// testColumn is a column of the test table with its values as PostgreSQL
// literals.
type testColumn struct {
	name   string
	t      types.T
	values []string
}

// nullRow is the row of the test table where every column is NULL.
const nullRow = 3

// testTable is the table the differential tests read.
var testTable = []testColumn{
	{"i2", types.Int2, []string{"1", "-5", "32767", "", "0"}},
	{"i4", types.Int4, []string{"10", "-3", "2147483647", "", "0"}},
	{"i8", types.Int8, []string{"100", "7", "9223372036854775807", "", "0"}},
	{"f4", types.Float4, []string{"1.5", "-2.25", "3e+38", "", "0"}},
	{"f8", types.Float8, []string{"2.5", "-0.1", "1e+308", "", "NaN"}},
	{"n", types.Numeric, []string{"3.25", "-7.5", "12345.678", "", "0"}},
	{"t", types.Text, []string{"abc", "Hello World", "", "", "héllo"}},
	{"v", types.Varchar, []string{"xyz", "a%b", "ABC", "", " x "}},
	{"b", types.Bool, []string{"true", "false", "true", "", "false"}},
	{"d", types.Date, []string{"2024-01-31", "2000-02-29", "1999-12-31", "", "2026-06-15"}},
	{"ts", types.Timestamp, []string{"2024-01-31 10:11:12.5", "2000-02-29 00:00:00", "1969-07-20 20:17:40", "", "2026-01-01 00:00:00"}},
	{"tz", types.TimestampTZ, []string{"2024-01-31 10:11:12.5+00", "2000-02-29 00:00:00+00", "1969-07-20 20:17:40+00", "", "2026-01-01 00:00:00+00"}},
	{"tm", types.Time, []string{"10:11:12.5", "00:00:00", "23:59:59.999999", "", "12:00:00"}},
	{"iv", types.Interval, []string{"1 mon 2 days 03:04:05", "-1 days", "1 year 2 mons", "", "00:00:00.5"}},
	{"by", types.Bytea, []string{`\x0102`, `\x`, `\xff`, "", `\x00ff`}},
}

// testBatch builds the test table as a record batch.
func testBatch(t testing.TB) arrow.Record {
	t.Helper()
	var fields []arrow.Field
	var cols []arrow.Array
	for _, c := range testTable {
		b := array.NewBuilder(memory.DefaultAllocator, c.t.Arrow())
		for r, v := range c.values {
			if r == nullRow {
				b.AppendNull()
				continue
			}
			d, err := types.ParseText(v, c.t)
			if err != nil {
				t.Fatalf("test table %s: %v", c.name, err)
			}
			types.Put(b, d, c.t)
		}
		fields = append(fields, arrow.Field{Name: c.name, Type: c.t.Arrow(), Nullable: true})
		cols = append(cols, b.NewArray())
		b.Release()
	}
	rec := array.NewRecord(arrow.NewSchema(fields, nil), cols, int64(len(testTable[0].values)))
	for _, c := range cols {
		c.Release()
	}
	return rec
}

// testValuesSQL is the test table for PostgreSQL, as a VALUES list.
func testValuesSQL() string {
	var rows []string
	for r := range testTable[0].values {
		var vals []string
		for _, c := range testTable {
			v := c.values[r]
			if r == nullRow {
				vals = append(vals, "NULL::"+c.t.String())
				continue
			}
			vals = append(vals, quote(v)+"::"+c.t.String())
		}
		rows = append(rows, "("+strings.Join(vals, ", ")+")")
	}
	var names []string
	for _, c := range testTable {
		names = append(names, c.name)
	}
	return "(VALUES " + strings.Join(rows, ", ") + ") AS tbl(" + strings.Join(names, ", ") + ")"
}

// bindSQL parses and binds one SQL expression over the test table.
func bindSQL(sql string) (Expr, error) {
	res, err := pg_query.Parse("SELECT " + sql)
	if err != nil {
		return nil, pgerror.New(pgerror.SyntaxError, "%v", err)
	}
	sel := res.Stmts[0].Stmt.GetSelectStmt()
	e, err := bindNode(sel.TargetList[0].GetResTarget().Val)
	if err != nil {
		return nil, err
	}
	// The planner folds constants once the whole expression is bound.
	return Fold(e)
}

func nodeString(n *pg_query.Node) string { return n.GetString_().GetSval() }

func lastName(ns []*pg_query.Node) string { return nodeString(ns[len(ns)-1]) }

func bindNodes(ns []*pg_query.Node) ([]Expr, error) {
	out := make([]Expr, len(ns))
	for i, n := range ns {
		e, err := bindNode(n)
		if err != nil {
			return nil, err
		}
		out[i] = e
	}
	return out, nil
}

var testTypeNames = map[string]types.T{
	"bool": types.Bool, "boolean": types.Bool, "int2": types.Int2, "smallint": types.Int2,
	"int4": types.Int4, "int": types.Int4, "integer": types.Int4, "int8": types.Int8, "bigint": types.Int8,
	"float4": types.Float4, "real": types.Float4, "float8": types.Float8, "numeric": types.Numeric,
	"text": types.Text, "varchar": types.Varchar, "bytea": types.Bytea, "date": types.Date,
	"time": types.Time, "timestamp": types.Timestamp, "timestamptz": types.TimestampTZ,
	"interval": types.Interval, "jsonb": types.JSONB,
}

func bindNode(n *pg_query.Node) (Expr, error) {
	switch {
	case n.GetAConst() != nil:
		c := n.GetAConst()
		switch {
		case c.Isnull:
			return &Const{T: types.Null}, nil
		case c.GetIval() != nil:
			return &Const{Value: c.GetIval().Ival, T: types.Int4}, nil
		case c.GetFval() != nil:
			s := c.GetFval().Fval
			if i, err := strconv.ParseInt(s, 10, 64); err == nil {
				return &Const{Value: i, T: types.Int8}, nil
			}
			f, err := strconv.ParseFloat(s, 64)
			return &Const{Value: f, T: types.Numeric}, err
		case c.GetSval() != nil:
			return &Const{Value: c.GetSval().Sval, T: types.Unknown}, nil
		case c.GetBoolval() != nil:
			return &Const{Value: c.GetBoolval().Boolval, T: types.Bool}, nil
		}
		// A_Const with Ival 0 has no Val set.
		return &Const{Value: int32(0), T: types.Int4}, nil
	case n.GetTypeCast() != nil:
		tc := n.GetTypeCast()
		arg, err := bindNode(tc.Arg)
		if err != nil {
			return nil, err
		}
		name := lastName(tc.TypeName.Names)
		t, ok := testTypeNames[name]
		if !ok {
			return nil, fmt.Errorf("test binder: type %s", name)
		}
		return NewCast(arg, t, true)
	case n.GetColumnRef() != nil:
		name := lastName(n.GetColumnRef().Fields)
		for i, c := range testTable {
			if c.name == name {
				return &ColumnRef{Index: i, T: c.t, Name: name}, nil
			}
		}
		return nil, pgerror.New(pgerror.UndefinedColumn, "column %q does not exist", name)
	case n.GetAExpr() != nil:
		return bindAExpr(n.GetAExpr())
	case n.GetFuncCall() != nil:
		fc := n.GetFuncCall()
		args, err := bindNodes(fc.Args)
		if err != nil {
			return nil, err
		}
		return Function(lastName(fc.Funcname), args...)
	case n.GetBoolExpr() != nil:
		be := n.GetBoolExpr()
		args, err := bindNodes(be.Args)
		if err != nil {
			return nil, err
		}
		name := map[pg_query.BoolExprType]string{pg_query.BoolExprType_AND_EXPR: "AND",
			pg_query.BoolExprType_OR_EXPR: "OR", pg_query.BoolExprType_NOT_EXPR: "NOT"}[be.Boolop]
		for i, a := range args {
			if args[i], err = Coerce(a, types.Bool, name); err != nil {
				return nil, err
			}
		}
		switch be.Boolop {
		case pg_query.BoolExprType_AND_EXPR:
			return Fold(&And{Args: args})
		case pg_query.BoolExprType_OR_EXPR:
			return Fold(&Or{Args: args})
		}
		return Fold(&Not{Arg: args[0]})
	case n.GetNullTest() != nil:
		nt := n.GetNullTest()
		arg, err := bindNode(nt.Arg)
		if err != nil {
			return nil, err
		}
		return Fold(&IsNull{Arg: arg, Negate: nt.Nulltesttype == pg_query.NullTestType_IS_NOT_NULL})
	case n.GetBooleanTest() != nil:
		bt := n.GetBooleanTest()
		arg, err := bindNode(bt.Arg)
		if err != nil {
			return nil, err
		}
		if arg, err = Coerce(arg, types.Bool, "IS TRUE"); err != nil {
			return nil, err
		}
		tr, fa := true, false
		switch bt.Booltesttype {
		case pg_query.BoolTestType_IS_TRUE:
			return &IsBool{Arg: arg, Value: &tr}, nil
		case pg_query.BoolTestType_IS_NOT_TRUE:
			return &IsBool{Arg: arg, Value: &tr, Negate: true}, nil
		case pg_query.BoolTestType_IS_FALSE:
			return &IsBool{Arg: arg, Value: &fa}, nil
		case pg_query.BoolTestType_IS_NOT_FALSE:
			return &IsBool{Arg: arg, Value: &fa, Negate: true}, nil
		case pg_query.BoolTestType_IS_UNKNOWN:
			return &IsBool{Arg: arg}, nil
		}
		return &IsBool{Arg: arg, Negate: true}, nil
	case n.GetCaseExpr() != nil:
		ce := n.GetCaseExpr()
		var subject Expr
		if ce.Arg != nil {
			var err error
			if subject, err = bindNode(ce.Arg); err != nil {
				return nil, err
			}
		}
		var whens []When
		for _, w := range ce.Args {
			cw := w.GetCaseWhen()
			cond, err := bindNode(cw.Expr)
			if err != nil {
				return nil, err
			}
			if subject != nil {
				if cond, err = Operator("=", subject, cond); err != nil {
					return nil, err
				}
			}
			res, err := bindNode(cw.Result)
			if err != nil {
				return nil, err
			}
			whens = append(whens, When{Cond: cond, Result: res})
		}
		var els Expr
		if ce.Defresult != nil {
			var err error
			if els, err = bindNode(ce.Defresult); err != nil {
				return nil, err
			}
		}
		return NewCase(whens, els)
	case n.GetCoalesceExpr() != nil:
		args, err := bindNodes(n.GetCoalesceExpr().Args)
		if err != nil {
			return nil, err
		}
		return NewCoalesce(args)
	case n.GetMinMaxExpr() != nil:
		mm := n.GetMinMaxExpr()
		args, err := bindNodes(mm.Args)
		if err != nil {
			return nil, err
		}
		if mm.Op == pg_query.MinMaxOp_IS_GREATEST {
			return Function("greatest", args...)
		}
		return Function("least", args...)
	case n.GetSqlvalueFunction() != nil:
		switch n.GetSqlvalueFunction().Op {
		case pg_query.SQLValueFunctionOp_SVFOP_CURRENT_DATE:
			return Function("current_date")
		case pg_query.SQLValueFunctionOp_SVFOP_LOCALTIMESTAMP:
			return Function("localtimestamp")
		case pg_query.SQLValueFunctionOp_SVFOP_LOCALTIME:
			return Function("localtime")
		}
		return Function("now")
	case n.GetParamRef() != nil:
		return &Param{Index: int(n.GetParamRef().Number) - 1, T: types.Unknown}, nil
	}
	return nil, fmt.Errorf("test binder: unsupported node %v", n)
}

func bindAExpr(a *pg_query.A_Expr) (Expr, error) {
	name := lastName(a.Name)
	var l, r Expr
	var err error
	if a.Lexpr != nil {
		if l, err = bindNode(a.Lexpr); err != nil {
			return nil, err
		}
	}
	switch a.Kind {
	case pg_query.A_Expr_Kind_AEXPR_IN:
		list, err := bindNodes(a.Rexpr.GetList().Items)
		if err != nil {
			return nil, err
		}
		return NewIn(l, list, name == "<>")
	case pg_query.A_Expr_Kind_AEXPR_BETWEEN, pg_query.A_Expr_Kind_AEXPR_NOT_BETWEEN:
		bounds, err := bindNodes(a.Rexpr.GetList().Items)
		if err != nil {
			return nil, err
		}
		if a.Kind == pg_query.A_Expr_Kind_AEXPR_BETWEEN {
			lo, err := Operator(">=", l, bounds[0])
			if err != nil {
				return nil, err
			}
			hi, err := Operator("<=", l, bounds[1])
			if err != nil {
				return nil, err
			}
			return Fold(&And{Args: []Expr{lo, hi}})
		}
		lo, err := Operator("<", l, bounds[0])
		if err != nil {
			return nil, err
		}
		hi, err := Operator(">", l, bounds[1])
		if err != nil {
			return nil, err
		}
		return Fold(&Or{Args: []Expr{lo, hi}})
	}
	if r, err = bindNode(a.Rexpr); err != nil {
		return nil, err
	}
	switch a.Kind {
	case pg_query.A_Expr_Kind_AEXPR_DISTINCT:
		return Operator(OpIsDistinctFrom, l, r)
	case pg_query.A_Expr_Kind_AEXPR_NOT_DISTINCT:
		return Operator(OpIsNotDistinctFrom, l, r)
	case pg_query.A_Expr_Kind_AEXPR_NULLIF:
		return NewNullIf(l, r)
	}
	if l == nil {
		return Operator(name, r)
	}
	return Operator(name, l, r)
}

// evalText evaluates e over batch and renders each row as PostgreSQL's text
// output, "NULL" for NULL.
func evalText(t testing.TB, ctx *EvalContext, e Expr, batch arrow.Record) ([]string, error) {
	t.Helper()
	prog, err := Compile(e)
	if err != nil {
		return nil, err
	}
	arr, err := prog.Eval(ctx, batch)
	if err != nil {
		return nil, err
	}
	defer arr.Release()
	if arr.Len() != int(batch.NumRows()) {
		t.Fatalf("%s: result has %d rows, batch %d", e, arr.Len(), batch.NumRows())
	}
	out := make([]string, arr.Len())
	for i := range out {
		if arr.IsNull(i) || arr.DataType().ID() == arrow.NULL {
			out[i] = "NULL"
			continue
		}
		et := e.Type()
		if et == types.Unknown {
			et = types.Text
		}
		out[i] = string(types.AppendText(nil, arr, i, et))
	}
	return out, nil
}
