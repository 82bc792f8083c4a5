package planner

import (
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

// Window functions in a SELECT list (f(...) OVER (PARTITION BY ... ORDER BY
// ...)) run in a plan.OverWindow between FROM/WHERE and the list: each call
// is replaced in the list by a column of the OverWindow's output, named
// windowPrefix and its number, as set-returning functions are. The calls of
// one SELECT share their window; the frame is SQL's default.

// windowPrefix starts the names of the scope columns that stand for window
// calls and their hidden inputs; no SQL identifier contains a NUL.
const windowPrefix = "\x00win"

func isWindowColumn(c scopeCol) bool { return strings.HasPrefix(c.name, windowPrefix) }

// frameNonDefault is PostgreSQL's FRAMEOPTION_NONDEFAULT: a frame clause was
// written.
const frameNonDefault = 1

// windowCall is a call found in the list, before binding.
type windowCall struct {
	fc  *pg.FuncCall
	col string
}

// windowTargets replaces the window calls of list by column references and
// returns them; list is not changed.
func windowTargets(list []*pg.Node) ([]*pg.Node, []windowCall, error) {
	var calls []windowCall
	out := make([]*pg.Node, len(list))
	for i, n := range list {
		n = proto.Clone(n).(*pg.Node)
		err := replaceCalls(n.ProtoReflect(), func(fc *pg.FuncCall) bool { return fc.Over != nil }, func(fc *pg.FuncCall) (*pg.Node, error) {
			col := fmt.Sprintf("%s%d", windowPrefix, len(calls))
			calls = append(calls, windowCall{fc: fc, col: col})
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

// overWindow binds the calls over input (scope sc) and returns the
// OverWindow and the scope of its output: sc's columns, hidden inputs, and
// one column per call.
func (p *Planner) overWindow(b *binder, input plan.Node, sc *scope, calls []windowCall, named []*pg.Node) (plan.Node, *scope, error) {
	exprs := make([]expr.Expr, len(sc.cols))
	for i, c := range sc.cols {
		exprs[i] = &expr.ColumnRef{Index: i, T: c.typ, Name: c.name}
	}
	cols := sc.schema()
	hidden := func(e expr.Expr) int {
		if cr, ok := e.(*expr.ColumnRef); ok && cr.Index < len(sc.cols) {
			return cr.Index // a column of the input already
		}
		exprs = append(exprs, e)
		cols = append(cols, types.Column{Name: fmt.Sprintf("%sin%d", windowPrefix, len(cols)), Type: e.Type()})
		return len(exprs) - 1
	}
	bind := func(n *pg.Node) (expr.Expr, error) {
		saved := b.aggs
		b.aggs = nil
		e, err := b.bindFolded(n, sc)
		b.aggs = saved
		if err != nil && pgerror.Code(err) == pgerror.GroupingError {
			return nil, pgerror.New(pgerror.FeatureNotSupported, "aggregates inside a window call are not supported; compute them in a subquery")
		}
		return e, err
	}
	node := &plan.OverWindow{}
	var windowKey string
	for k, wc := range calls {
		fc := wc.fc
		name := funcName(fc.Funcname)
		pos := int(fc.Location) + 1
		over := fc.Over
		if over.Name != "" && len(over.PartitionClause) == 0 && len(over.OrderClause) == 0 {
			// OVER w: the window of the WINDOW clause.
			found := false
			for _, n := range named {
				if wd := n.GetWindowDef(); wd != nil && wd.Name == over.Name {
					over, found = wd, true
				}
			}
			if !found {
				return nil, nil, pgerror.New(pgerror.UndefinedObject, "window \"%s\" does not exist", over.Name).WithPosition(pos)
			}
		}
		switch {
		case over.Refname != "":
			return nil, nil, pgerror.New(pgerror.FeatureNotSupported, "a window that refines a named window is not supported").WithPosition(pos)
		case over.FrameOptions&frameNonDefault != 0:
			return nil, nil, pgerror.New(pgerror.FeatureNotSupported, "window frame clauses are not supported; the frame is the default (the partition's start to the current row and its peers)").WithPosition(pos)
		case fc.AggDistinct || fc.AggFilter != nil || len(fc.AggOrder) > 0 || fc.FuncVariadic:
			return nil, nil, pgerror.New(pgerror.FeatureNotSupported, "DISTINCT, FILTER and ORDER BY inside a window call are not supported").WithPosition(pos)
		}
		// The window: bound for the first call, and the same for every other.
		var part []expr.Expr
		for _, e := range over.PartitionClause {
			x, err := bind(e)
			if err != nil {
				return nil, nil, err
			}
			part = append(part, x)
		}
		var order []expr.Expr
		for _, s := range over.OrderClause {
			sb := s.GetSortBy()
			if sb.SortbyDir == pg.SortByDir_SORTBY_USING {
				return nil, nil, pgerror.New(pgerror.FeatureNotSupported, "ORDER BY ... USING is not supported").WithPosition(pos)
			}
			x, err := bind(sb.Node)
			if err != nil {
				return nil, nil, err
			}
			order = append(order, x)
		}
		key := ""
		for _, x := range append(append([]expr.Expr(nil), part...), order...) {
			key += exprKey(x) + "\x00"
		}
		for _, s := range over.OrderClause {
			key += s.GetSortBy().SortbyDir.String() + s.GetSortBy().SortbyNulls.String()
		}
		if k == 0 {
			windowKey = key
			for _, x := range part {
				node.PartitionBy = append(node.PartitionBy, hidden(x))
			}
			for i, x := range order {
				node.Order = append(node.Order, sortKey(over.OrderClause[i].GetSortBy(), hidden(x)))
			}
		} else if key != windowKey {
			return nil, nil, pgerror.New(pgerror.FeatureNotSupported, "window calls with different windows in one SELECT are not supported; compute them in subqueries").WithPosition(pos)
		}

		args, err := func() ([]expr.Expr, error) {
			var out []expr.Expr
			for _, a := range fc.Args {
				x, err := bind(a)
				if err != nil {
					return nil, err
				}
				out = append(out, x)
			}
			return out, nil
		}()
		if err != nil {
			return nil, nil, err
		}
		call, err := windowFunc(name, fc.AggStar, args, pos, hidden)
		if err != nil {
			return nil, nil, err
		}
		node.Calls = append(node.Calls, call)
	}
	proj := &plan.Project{Input: input, Exprs: exprs, Cols: cols}
	node.Input = proj
	out := join(sc, newScope())
	for i := len(sc.cols); i < len(cols); i++ {
		out.cols = append(out.cols, scopeCol{name: cols[i].Name, typ: cols[i].Type})
	}
	node.Cols = append(types.Schema(nil), cols...)
	for i, c := range node.Calls {
		node.Cols = append(node.Cols, types.Column{Name: calls[i].col, Type: c.Ret})
		out.cols = append(out.cols, scopeCol{name: calls[i].col, typ: c.Ret})
	}
	return node, out, nil
}

// windowFunc resolves one window call; hidden adds an argument as a hidden
// input column and returns its position.
func windowFunc(name string, star bool, args []expr.Expr, pos int, hidden func(expr.Expr) int) (plan.WindowCall, error) {
	c := plan.WindowCall{Func: name, Arg: -1, Default: -1, Offset: 1}
	arity := func(lo, hi int) error {
		if len(args) < lo || len(args) > hi {
			return pgerror.New(pgerror.UndefinedFunction, "function %s with %d arguments does not exist", name, len(args)).WithPosition(pos)
		}
		return nil
	}
	switch name {
	case "row_number", "rank", "dense_rank":
		if err := arity(0, 0); err != nil {
			return c, err
		}
		c.Ret = types.Int8
	case "count":
		if !star {
			if err := arity(1, 1); err != nil {
				return c, err
			}
			c.Arg = hidden(args[0])
		}
		c.Ret = types.Int8
	case "first_value", "last_value", "min", "max":
		if err := arity(1, 1); err != nil {
			return c, err
		}
		c.Arg, c.Ret = hidden(args[0]), args[0].Type()
		if ordered := c.Ret.IsNumeric() || c.Ret == types.Text || c.Ret == types.Varchar || c.Ret == types.Date ||
			c.Ret == types.Time || c.Ret == types.Timestamp || c.Ret == types.TimestampTZ; (name == "min" || name == "max") && !ordered {
			return c, pgerror.New(pgerror.UndefinedFunction, "function %s(%s) does not exist as a window function", name, c.Ret).WithPosition(pos)
		}
	case "lag", "lead":
		if err := arity(1, 3); err != nil {
			return c, err
		}
		c.Arg, c.Ret = hidden(args[0]), args[0].Type()
		if len(args) > 1 {
			var v int64 = -1
			if k, ok := args[1].(*expr.Const); ok {
				switch x := k.Value.(type) {
				case int64:
					v = x
				case int32:
					v = int64(x)
				}
			}
			if v < 0 {
				return c, pgerror.New(pgerror.FeatureNotSupported, "the offset of %s must be a non-negative integer constant", name).WithPosition(pos)
			}
			c.Offset = v
		}
		if len(args) > 2 {
			d, err := expr.Coerce(args[2], c.Ret, "default of "+name)
			if err != nil {
				return c, err
			}
			c.Default = hidden(d)
		}
	case "sum", "avg":
		if err := arity(1, 1); err != nil {
			return c, err
		}
		t := args[0].Type()
		switch {
		case name == "sum" && (t == types.Int2 || t == types.Int4):
			c.Ret = types.Int8
		case t.IsInteger() || t == types.Numeric:
			c.Ret = types.Numeric
		case t == types.Float4 || t == types.Float8:
			c.Ret = types.Float8
		default:
			return c, pgerror.New(pgerror.UndefinedFunction, "function %s(%s) does not exist", name, t).WithPosition(pos)
		}
		c.Arg = hidden(args[0])
	default:
		return c, pgerror.New(pgerror.FeatureNotSupported, "window function %s is not supported", name).WithPosition(pos).
			WithHint("Supported: row_number, rank, dense_rank, lag, lead, first_value, last_value, count, sum, avg, min, max.")
	}
	return c, nil
}

// replaceCalls walks the expression tree m (a pg_query message), outside
// subqueries, and replaces each function call that match accepts by what f
// returns.
func replaceCalls(m protoreflect.Message, match func(*pg.FuncCall) bool, f func(*pg.FuncCall) (*pg.Node, error)) error {
	if _, isSubLink := m.Interface().(*pg.SubLink); isSubLink {
		return nil
	}
	var err error
	visit := func(v protoreflect.Value, set func(protoreflect.Value)) bool {
		child := v.Message()
		if node, ok := child.Interface().(*pg.Node); ok {
			if fc := node.GetFuncCall(); fc != nil && match(fc) {
				var repl *pg.Node
				if repl, err = f(fc); err != nil {
					return false
				}
				set(protoreflect.ValueOfMessage(repl.ProtoReflect()))
				return true
			}
		}
		err = replaceCalls(child, match, f)
		return err == nil
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Kind() != protoreflect.MessageKind {
			return true
		}
		if fd.IsList() {
			l := v.List()
			for i := 0; i < l.Len(); i++ {
				if !visit(l.Get(i), func(nv protoreflect.Value) { l.Set(i, nv) }) {
					return false
				}
			}
			return true
		}
		if fd.IsMap() {
			return true
		}
		return visit(v, func(nv protoreflect.Value) { m.Set(fd, nv) })
	})
	return err
}
