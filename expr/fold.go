package expr

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/types"
)

// Fold computes at bind time what does not depend on the rows, as
// PostgreSQL's planner does (eval_const_expressions): calls and casts of
// constants become constants, AND/OR drop constant arms, CASE drops arms
// whose condition is constantly false and stops at one constantly true,
// COALESCE drops NULL constants. Errors of constant subexpressions surface
// here, also inside a CASE arm whose condition is not constant, exactly as
// in PostgreSQL (`CASE WHEN x > 0 THEN 1/0 END` fails at planning).
// Functions that depend on the statement (now()) are not folded.
func Fold(e Expr) (Expr, error) {
	switch x := e.(type) {
	case *Call:
		args, err := foldAll(x.Args)
		if err != nil {
			return nil, err
		}
		return foldCall(&Call{Fn: x.Fn, Args: args})
	case *Cast:
		arg, err := Fold(x.Arg)
		if err != nil {
			return nil, err
		}
		return foldCast(&Cast{Arg: arg, To: x.To})
	case *And:
		return foldBoolOp(x.Args, true)
	case *Or:
		return foldBoolOp(x.Args, false)
	case *Not:
		arg, err := Fold(x.Arg)
		if err != nil {
			return nil, err
		}
		if c, ok := arg.(*Const); ok {
			if c.Value == nil {
				return &Const{T: types.Bool}, nil
			}
			if b, ok := c.Value.(bool); ok {
				return &Const{Value: !b, T: types.Bool}, nil
			}
		}
		return &Not{Arg: arg}, nil
	case *IsNull:
		arg, err := Fold(x.Arg)
		if err != nil {
			return nil, err
		}
		if c, ok := arg.(*Const); ok {
			return &Const{Value: (c.Value == nil) != x.Negate, T: types.Bool}, nil
		}
		return &IsNull{Arg: arg, Negate: x.Negate}, nil
	case *IsBool:
		arg, err := Fold(x.Arg)
		if err != nil {
			return nil, err
		}
		return evalIfConst(&IsBool{Arg: arg, Value: x.Value, Negate: x.Negate}, arg)
	case *Case:
		return foldCase(x)
	case *Coalesce:
		return foldCoalesce(x)
	case *NullIf:
		a, err := Fold(x.A)
		if err != nil {
			return nil, err
		}
		b, err := Fold(x.B)
		if err != nil {
			return nil, err
		}
		return evalIfConst(&NullIf{A: a, B: b, Eq: x.Eq}, a, b)
	case *In:
		arg, err := Fold(x.Arg)
		if err != nil {
			return nil, err
		}
		list, err := foldAll(x.List)
		if err != nil {
			return nil, err
		}
		return evalIfConst(&In{Arg: arg, List: list, Eq: x.Eq, Negate: x.Negate}, append([]Expr{arg}, list...)...)
	}
	return e, nil
}

func foldAll(es []Expr) ([]Expr, error) {
	out := make([]Expr, len(es))
	for i, e := range es {
		f, err := Fold(e)
		if err != nil {
			return nil, err
		}
		out[i] = f
	}
	return out, nil
}

// foldCall evaluates a call whose arguments are all constants.
func foldCall(c *Call) (Expr, error) {
	if c.Fn.ov == nil {
		return c, nil
	}
	if !c.Fn.ov.nonStrict {
		// A strict function of a NULL constant is NULL, whatever the
		// other arguments.
		for _, a := range c.Args {
			if k, ok := a.(*Const); ok && k.Value == nil {
				return &Const{T: c.Fn.Ret}, nil
			}
		}
	}
	if c.Fn.ov.stable {
		return c, nil
	}
	return evalIfConst(c, c.Args...)
}

func foldCast(c *Cast) (Expr, error) {
	if k, ok := c.Arg.(*Const); ok && k.Value == nil {
		return &Const{T: c.To}, nil
	}
	if castNeedsCatalog(c.Arg.Type(), c.To) {
		return c, nil
	}
	return evalIfConst(c, c.Arg)
}

// evalIfConst evaluates e when all of deps are constants.
func evalIfConst(e Expr, deps ...Expr) (Expr, error) {
	for _, d := range deps {
		if _, ok := d.(*Const); !ok {
			return e, nil
		}
	}
	v, err := evalConst(e)
	if err != nil {
		return nil, err
	}
	return &Const{Value: v, T: e.Type()}, nil
}

// evalConst computes an expression without columns on a batch of one row.
func evalConst(e Expr) (types.Datum, error) {
	prog, err := Compile(e)
	if err != nil {
		return nil, err
	}
	rec := array.NewRecord(arrow.NewSchema(nil, nil), nil, 1)
	defer rec.Release()
	arr, err := prog.Eval(&EvalContext{Alloc: memory.DefaultAllocator}, rec)
	if err != nil {
		return nil, err
	}
	defer arr.Release()
	if arr.IsNull(0) || arr.DataType().ID() == arrow.NULL {
		return nil, nil
	}
	t := e.Type()
	if t == types.Unknown {
		return arr.(*array.String).Value(0), nil
	}
	d := types.Value(arr, 0, t)
	if s, ok := d.(string); ok {
		// The value may point into the array's buffer.
		d = string([]byte(s))
	}
	return d, nil
}

// foldBoolOp simplifies AND (and=true) or OR: a constant that decides the
// result replaces everything, constants that do not are dropped.
func foldBoolOp(args []Expr, and bool) (Expr, error) {
	var kept []Expr
	sawNull := false
	for _, a := range args {
		f, err := Fold(a)
		if err != nil {
			return nil, err
		}
		if c, ok := f.(*Const); ok {
			if c.Value == nil {
				sawNull = true
				continue
			}
			b, ok := c.Value.(bool)
			if !ok {
				return nil, pgerror.New(pgerror.DatatypeMismatch, "argument of %s must be type boolean, not type %s", boolOpName(and), c.T)
			}
			if b != and {
				return &Const{Value: b, T: types.Bool}, nil
			}
			continue
		}
		kept = append(kept, f)
	}
	if sawNull {
		kept = append(kept, &Const{T: types.Bool})
	}
	switch len(kept) {
	case 0:
		return &Const{Value: and, T: types.Bool}, nil
	case 1:
		if kept[0].Type() == types.Bool {
			return kept[0], nil
		}
	}
	if and {
		return &And{Args: kept}, nil
	}
	return &Or{Args: kept}, nil
}

func boolOpName(and bool) string {
	if and {
		return "AND"
	}
	return "OR"
}

func foldCase(x *Case) (Expr, error) {
	out := &Case{T: x.T}
	for _, w := range x.Whens {
		cond, err := Fold(w.Cond)
		if err != nil {
			return nil, err
		}
		if c, ok := cond.(*Const); ok {
			if c.Value == nil || c.Value == false {
				continue // never taken
			}
			// Always taken: it is the result for every row that gets here.
			res, err := Fold(w.Result)
			if err != nil {
				return nil, err
			}
			if len(out.Whens) == 0 {
				return res, nil
			}
			out.Else = res
			return out, nil
		}
		res, err := Fold(w.Result)
		if err != nil {
			return nil, err
		}
		out.Whens = append(out.Whens, When{Cond: cond, Result: res})
	}
	if x.Else != nil {
		els, err := Fold(x.Else)
		if err != nil {
			return nil, err
		}
		out.Else = els
	}
	if len(out.Whens) == 0 {
		if out.Else == nil {
			return &Const{T: x.T}, nil
		}
		return out.Else, nil
	}
	return out, nil
}

func foldCoalesce(x *Coalesce) (Expr, error) {
	var kept []Expr
	for _, a := range x.Args {
		f, err := Fold(a)
		if err != nil {
			return nil, err
		}
		if c, ok := f.(*Const); ok {
			if c.Value == nil {
				continue
			}
			// A non-NULL constant ends the list: later arguments are
			// never needed.
			kept = append(kept, f)
			break
		}
		kept = append(kept, f)
	}
	switch len(kept) {
	case 0:
		return &Const{T: x.T}, nil
	case 1:
		return kept[0], nil
	}
	return &Coalesce{Args: kept, T: x.T}, nil
}
