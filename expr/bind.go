package expr

import (
	"strings"

	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/types"
)

// Func is a resolved scalar function or operator: one overload, with the
// argument types it takes (after implicit casts) and its result type.
type Func struct {
	Name string // "+", "=", "upper", "date_trunc", ...
	Args []types.T
	Ret  types.T

	ov *overload
}

// Operator names that Operator accepts besides PostgreSQL's symbols.
const (
	OpIsDistinctFrom    = "IS DISTINCT FROM"
	OpIsNotDistinctFrom = "IS NOT DISTINCT FROM"
)

// Operator resolves a prefix (one argument) or infix (two arguments)
// operator the way PostgreSQL does and returns the call with implicit casts
// on its arguments. It does not fold constants: call Fold on the complete
// expression, as PostgreSQL's planner does after parsing, so that a CASE
// arm that can never be taken is dropped before its constants are computed.
//
// Besides the symbols of PostgreSQL (+ - * / % ^ || = <> != < <= > >= ~~ !~~
// ~~* !~~* ~ !~ ~* !~*) it takes OpIsDistinctFrom and OpIsNotDistinctFrom.
// Untyped string literals (Const of type Unknown) facing a typed operand are
// parsed as that type; two of them are text.
func Operator(op string, args ...Expr) (Expr, error) {
	if op == "!=" {
		op = "<>"
	}
	if op == OpIsDistinctFrom || op == OpIsNotDistinctFrom {
		return distinctFrom(op, args)
	}
	var cands []*overload
	switch len(args) {
	case 1:
		cands = builtins.prefix[op]
	case 2:
		cands = builtins.binary[op]
	default:
		return nil, pgerror.New(pgerror.InternalError, "operator %s with %d arguments", op, len(args))
	}
	in := argTypes(args)
	ov, ambiguous := selectOverload(cands, in, len(args) == 2)
	if ov == nil {
		sig := op + " " + typeName(in[0])
		if len(in) == 2 {
			sig = typeName(in[0]) + " " + op + " " + typeName(in[1])
		}
		if ambiguous {
			return nil, pgerror.New(pgerror.AmbiguousFunction, "operator is not unique: %s", sig).
				WithHint("Could not choose a best candidate operator. You might need to add explicit type casts.")
		}
		return nil, pgerror.New(pgerror.UndefinedFunction, "operator does not exist: %s", sig).
			WithHint("No operator matches the given name and argument types. You might need to add explicit type casts.")
	}
	return makeCall(op, ov, args)
}

// Function resolves a scalar function call the way PostgreSQL does. Besides
// the functions of the catalog it handles the ones with special resolution:
// coalesce, nullif, greatest, least, concat and concat_ws.
//
// The binder maps SQL's special syntax onto it:
//
//	EXTRACT(field FROM x)          Function("extract", Const 'field', x) (numeric)
//	date_part('field', x)          Function("date_part", ...) (double precision)
//	POSITION(a IN b)               Function("position", b, a)
//	SUBSTRING(s FROM a FOR b)      Function("substring", s, a, b)
//	TRIM([BOTH] [c] FROM s)        Function("btrim", s[, c]); LEADING: "ltrim", TRAILING: "rtrim"
//	CURRENT_TIMESTAMP, now()       Function("now")
//	CURRENT_DATE, LOCALTIMESTAMP   Function("current_date"), Function("localtimestamp")
//	LOCALTIME                      Function("localtime")
//	a LIKE b ESCAPE c              Operator("~~", a, Function("like_escape", b, c))
//	x BETWEEN a AND b              And{Operator(">=", x, a), Operator("<=", x, b)}
//	x NOT BETWEEN a AND b          Or{Operator("<", x, a), Operator(">", x, b)}
//
// pg_query gives these as FuncCall nodes named pg_catalog.extract,
// pg_catalog.position and so on; drop the schema.
func Function(name string, args ...Expr) (Expr, error) {
	name = strings.ToLower(strings.TrimPrefix(name, "pg_catalog."))
	switch name {
	case "coalesce":
		return NewCoalesce(args)
	case "nullif":
		if len(args) == 2 {
			return NewNullIf(args[0], args[1])
		}
	case "greatest", "least":
		return extreme(name, args)
	case "concat", "concat_ws":
		return concatCall(name, args)
	case "json_build_object", "jsonb_build_object":
		return jsonBuildObject(name, args)
	}
	in := argTypes(args)
	ov, ambiguous := selectOverload(builtins.funcs[name], in, false)
	if ov == nil {
		if ambiguous {
			return nil, pgerror.New(pgerror.AmbiguousFunction, "function %s(%s) is not unique", name, typeList(in)).
				WithHint("Could not choose a best candidate function. You might need to add explicit type casts.")
		}
		return nil, errNoFunction(name, in)
	}
	return makeCall(name, ov, args)
}

func errNoFunction(name string, in []types.T) error {
	return pgerror.New(pgerror.UndefinedFunction, "function %s(%s) does not exist", name, typeList(in)).
		WithHint("No function matches the given name and argument types. You might need to add explicit type casts.")
}

func argTypes(args []Expr) []types.T {
	in := make([]types.T, len(args))
	for i, a := range args {
		in[i] = a.Type()
	}
	return in
}

// makeCall coerces args to the overload's types and folds the call when it
// can be computed now.
func makeCall(name string, ov *overload, args []Expr) (Expr, error) {
	coerced := make([]Expr, len(args))
	resolved := make([]types.T, len(args))
	for i, a := range args {
		want := ov.args[i]
		if want == tAnyNonArray || want == tAny {
			// A polymorphic argument keeps its type; an untyped literal
			// there is text.
			want = a.Type()
			if isUntyped(want) {
				want = types.Text
			}
		}
		c, err := coerce(a, want, coerceImplicit)
		if err != nil {
			return nil, err
		}
		coerced[i], resolved[i] = c, want
	}
	call := &Call{Fn: &Func{Name: name, Args: resolved, Ret: ov.ret, ov: ov}, Args: coerced}
	return validated(call)
}

// validated builds the call's kernel once so that constant arguments it
// cannot take (an unknown date_trunc unit, an invalid regular expression)
// are reported at bind time, not at the first row.
func validated(c *Call) (Expr, error) {
	args := c.Args
	if c.Fn.ov.calc != nil {
		return c, nil // the kernel sees widened arguments; nothing to check
	}
	if _, err := c.Fn.ov.kernel(args); err != nil {
		return nil, err
	}
	return c, nil
}

// coerce converts e to type to when a cast of level c allows it: untyped
// literals are parsed, NULL takes the type, a parameter without a type takes
// it (the binder reads inferred parameter types back from its Param nodes),
// anything else gets a Cast, folded when e is constant.
func coerce(e Expr, to types.T, c coercion) (Expr, error) {
	from := e.Type()
	if from == to {
		return e, nil
	}
	switch x := e.(type) {
	case *Const:
		if x.Value == nil {
			return &Const{T: to}, nil
		}
		if from == types.Unknown {
			s, _ := x.Value.(string)
			if to == types.Text || to == types.Varchar {
				return &Const{Value: s, T: to}, nil
			}
			d, err := types.ParseText(s, to)
			if err != nil {
				return nil, err
			}
			return &Const{Value: d, T: to}, nil
		}
	case *Param:
		if from == types.Unknown || from == types.Null {
			x.T = to
			return x, nil
		}
	}
	if from == types.Null {
		return &Cast{Arg: e, To: to}, nil
	}
	if !canCoerce(from, to, c) {
		return nil, errCannotCast(from, to)
	}
	if _, err := castKernel(from, to); err != nil {
		return nil, err
	}
	return foldCast(&Cast{Arg: e, To: to})
}

// NewCast is CAST(e AS to) when explicit, or a conversion allowed in
// assignment context otherwise (42846 when PostgreSQL has no such cast). A
// constant is converted at once: '5'::int is the integer constant 5, and an
// invalid literal fails here with 22P02.
func NewCast(e Expr, to types.T, explicit bool) (Expr, error) {
	level := coerceAssignment
	if explicit {
		level = coerceExplicit
	}
	if from := e.Type(); from != to && !isUntyped(from) && castLevel(from, to) < level {
		return nil, errCannotCast(from, to)
	}
	return coerce(e, to, level)
}

// Coerce converts e to type to as PostgreSQL does without an explicit cast.
// context names the construct for the error message ("WHERE", "CASE/WHEN",
// "HAVING", ...). A context of "assignment", or `assignment:colname` for
// INSERT and UPDATE of column colname, applies assignment casts instead
// (int8 to int4, anything to text, numbers between themselves), as
// PostgreSQL does for stored values. A mismatch is 42804.
func Coerce(e Expr, to types.T, context string) (Expr, error) {
	level := coerceImplicit
	column, assign := "", false
	if context == "assignment" || strings.HasPrefix(context, "assignment:") {
		level, assign = coerceAssignment, true
		column = strings.TrimPrefix(strings.TrimPrefix(context, "assignment"), ":")
	}
	from := e.Type()
	if from == to || isUntyped(from) || canCoerce(from, to, level) {
		out, err := coerce(e, to, level)
		if err == nil || pgerror.Code(err) != pgerror.CannotCoerce {
			return out, err
		}
	}
	var pe *pgerror.Error
	switch {
	case assign && column != "":
		pe = pgerror.New(pgerror.DatatypeMismatch, "column %q is of type %s but expression is of type %s", column, to, from)
	case assign:
		pe = pgerror.New(pgerror.DatatypeMismatch, "value of type %s cannot be assigned to type %s", from, to)
	default:
		return nil, pgerror.New(pgerror.DatatypeMismatch, "argument of %s must be type %s, not type %s", context, to, from)
	}
	return nil, pe.WithHint("You will need to rewrite or cast the expression.")
}

// CommonType is the type PostgreSQL gives to the values of UNION, CASE,
// COALESCE, GREATEST, IN and VALUES (select_common_type): the first typed
// input, replaced by a later one of the same category that it converts to
// implicitly unless it is the category's preferred type; text when all are
// untyped. Types of different categories are 42804 ("CASE types integer and
// text cannot be matched"), and an input that does not convert implicitly
// is 42846. context names the construct.
func CommonType(ts []types.T, context string) (types.T, error) {
	if len(ts) == 0 {
		return types.Text, nil
	}
	allSame := !isUntyped(ts[0])
	for _, t := range ts[1:] {
		if t != ts[0] {
			allSame = false
		}
	}
	if allSame {
		return ts[0], nil
	}
	ptype := ts[0]
	if ptype == types.Null {
		ptype = types.Unknown
	}
	pcat, ppref := categoryOf(ptype)
	for _, t := range ts[1:] {
		if isUntyped(t) || t == ptype {
			continue
		}
		ncat, npref := categoryOf(t)
		switch {
		case ptype == types.Unknown:
			ptype, pcat, ppref = t, ncat, npref
		case ncat != pcat:
			return 0, pgerror.New(pgerror.DatatypeMismatch, "%s types %s and %s cannot be matched", context, ptype, t)
		case !ppref && canCoerce(ptype, t, coerceImplicit) && !canCoerce(t, ptype, coerceImplicit):
			ptype, pcat, ppref = t, ncat, npref
		}
	}
	if ptype == types.Unknown {
		ptype = types.Text
	}
	for _, t := range ts {
		if !canCoerce(t, ptype, coerceImplicit) {
			return 0, pgerror.New(pgerror.CannotCoerce, "%s could not convert type %s to %s", context, t, ptype)
		}
	}
	return ptype, nil
}

// coerceAll converts every expression to t, naming context in errors.
func coerceAll(es []Expr, t types.T, context string) ([]Expr, error) {
	out := make([]Expr, len(es))
	for i, e := range es {
		c, err := coerce(e, t, coerceImplicit)
		if err != nil {
			if pgerror.Code(err) == pgerror.CannotCoerce {
				return nil, pgerror.New(pgerror.CannotCoerce, "%s could not convert type %s to %s", context, e.Type(), t)
			}
			return nil, err
		}
		out[i] = c
	}
	return out, nil
}

// NewCase builds a searched CASE: conditions must be boolean, and results
// take their common type (the ELSE result first, as PostgreSQL counts it).
func NewCase(whens []When, els Expr) (Expr, error) {
	var results []Expr
	if els != nil {
		results = append(results, els)
	}
	for _, w := range whens {
		results = append(results, w.Result)
	}
	t, err := CommonType(argTypes(results), "CASE")
	if err != nil {
		return nil, err
	}
	out := &Case{T: t}
	for _, w := range whens {
		cond, err := Coerce(w.Cond, types.Bool, "CASE/WHEN")
		if err != nil {
			return nil, err
		}
		res, err := coerceAll([]Expr{w.Result}, t, "CASE")
		if err != nil {
			return nil, err
		}
		out.Whens = append(out.Whens, When{Cond: cond, Result: res[0]})
	}
	if els != nil {
		res, err := coerceAll([]Expr{els}, t, "CASE")
		if err != nil {
			return nil, err
		}
		out.Else = res[0]
	}
	return Fold(out)
}

// NewCoalesce builds COALESCE over the common type of its arguments.
func NewCoalesce(args []Expr) (Expr, error) {
	if len(args) == 0 {
		return nil, errNoFunction("coalesce", nil)
	}
	t, err := CommonType(argTypes(args), "COALESCE")
	if err != nil {
		return nil, err
	}
	cs, err := coerceAll(args, t, "COALESCE")
	if err != nil {
		return nil, err
	}
	return Fold(&Coalesce{Args: cs, T: t})
}

// NewNullIf builds NULLIF(a, b) on the = operator PostgreSQL picks for a and
// b; its type is that of a after the operator's implicit casts (NULLIF(1,
// 2.2) is numeric).
func NewNullIf(a, b Expr) (Expr, error) {
	eq, err := resolveCall("=", a, b)
	if err != nil {
		return nil, err
	}
	return Fold(&NullIf{A: eq.Args[0], B: eq.Args[1], Eq: eq.Fn})
}

// resolveCall resolves a binary operator without folding it.
func resolveCall(op string, a, b Expr) (*Call, error) {
	in := []types.T{a.Type(), b.Type()}
	ov, ambiguous := selectOverload(builtins.binary[op], in, true)
	if ov == nil {
		sig := typeName(in[0]) + " " + op + " " + typeName(in[1])
		if ambiguous {
			return nil, pgerror.New(pgerror.AmbiguousFunction, "operator is not unique: %s", sig)
		}
		return nil, pgerror.New(pgerror.UndefinedFunction, "operator does not exist: %s", sig).
			WithHint("No operator matches the given name and argument types. You might need to add explicit type casts.")
	}
	ca, err := coerce(a, ov.args[0], coerceImplicit)
	if err != nil {
		return nil, err
	}
	cb, err := coerce(b, ov.args[1], coerceImplicit)
	if err != nil {
		return nil, err
	}
	return &Call{Fn: &Func{Name: op, Args: ov.args, Ret: ov.ret, ov: ov}, Args: []Expr{ca, cb}}, nil
}

// NewIn builds `arg [NOT] IN (list)`. When the values have a common type
// they are compared with its = operator; otherwise, like PostgreSQL, it
// becomes a chain of = (or <>) comparisons resolved one by one.
func NewIn(arg Expr, list []Expr, negate bool) (Expr, error) {
	all := append([]Expr{arg}, list...)
	t, err := CommonType(argTypes(all), "IN")
	if err == nil {
		cs, err := coerceAll(all, t, "IN")
		if err != nil {
			return nil, err
		}
		eq, err := resolveCall("=", cs[0], cs[1])
		if err != nil {
			return nil, err
		}
		return Fold(&In{Arg: cs[0], List: cs[1:], Eq: eq.Fn, Negate: negate})
	}
	op := "="
	if negate {
		op = "<>"
	}
	var terms []Expr
	for _, item := range list {
		c, err := Operator(op, arg, item)
		if err != nil {
			return nil, err
		}
		terms = append(terms, c)
	}
	if negate {
		return Fold(&And{Args: terms})
	}
	return Fold(&Or{Args: terms})
}

// distinctFrom is IS [NOT] DISTINCT FROM: = on the resolved types, with NULL
// equal to NULL and never NULL itself.
func distinctFrom(op string, args []Expr) (Expr, error) {
	if len(args) != 2 {
		return nil, pgerror.New(pgerror.InternalError, "%s takes two arguments", op)
	}
	eq, err := resolveCall("=", args[0], args[1])
	if err != nil {
		return nil, err
	}
	negate := op == OpIsNotDistinctFrom
	eqOv := eq.Fn.ov
	ov := &overload{
		args: eq.Fn.Args, ret: types.Bool, nonStrict: true, calc: eqOv.calc,
		kernel: func(args []Expr) (evalFn, error) {
			k, err := eqOv.kernel(args)
			if err != nil {
				return nil, err
			}
			return distinctKernel(k, negate), nil
		},
	}
	return &Call{Fn: &Func{Name: op, Args: eq.Fn.Args, Ret: types.Bool, ov: ov}, Args: eq.Args}, nil
}

// extreme is GREATEST and LEAST: the largest (smallest) non-NULL argument,
// over the arguments' common type.
func extreme(name string, args []Expr) (Expr, error) {
	if len(args) == 0 {
		return nil, errNoFunction(name, nil)
	}
	t, err := CommonType(argTypes(args), strings.ToUpper(name))
	if err != nil {
		return nil, err
	}
	cs, err := coerceAll(args, t, strings.ToUpper(name))
	if err != nil {
		return nil, err
	}
	op := cmpGt
	if name == "least" {
		op = cmpLt
	}
	if _, ok := builtins.binary[">"]; !ok || !comparable(t) {
		return nil, pgerror.New(pgerror.UndefinedFunction, "could not identify a comparison function for type %s", t)
	}
	argTs := make([]types.T, len(cs))
	for i := range argTs {
		argTs[i] = t
	}
	ov := &overload{args: argTs, ret: t, nonStrict: true, kernel: k(extremeKernel(t, op))}
	return &Call{Fn: &Func{Name: name, Args: argTs, Ret: t, ov: ov}, Args: cs}, nil
}

func comparable(t types.T) bool {
	switch t {
	case types.JSONB, types.Null, types.Unknown:
		return false
	}
	return true
}

// concatCall is concat(VARIADIC "any") and concat_ws(text, VARIADIC "any"):
// NULL arguments are skipped, the others are formatted as text.
func concatCall(name string, args []Expr) (Expr, error) {
	if len(args) == 0 || (name == "concat_ws" && len(args) < 2) {
		return nil, errNoFunction(name, argTypes(args))
	}
	cs := make([]Expr, len(args))
	argTs := make([]types.T, len(args))
	for i, a := range args {
		t := a.Type()
		if isUntyped(t) || (i == 0 && name == "concat_ws") {
			var err error
			if a, err = coerce(a, types.Text, coerceImplicit); err != nil {
				return nil, err
			}
			t = types.Text
		}
		cs[i], argTs[i] = a, t
	}
	ov := &overload{args: argTs, ret: types.Text, nonStrict: true, kernel: concatKernel(name == "concat_ws")}
	return &Call{Fn: &Func{Name: name, Args: argTs, Ret: types.Text, ov: ov}, Args: cs}, nil
}

// Bind replaces the parameters of e with constants of their values
// (params[0] is $1). A parameter without a value is left in place, and
// Compile reports it.
func Bind(e Expr, params []types.Datum) Expr {
	return rewrite(e, func(x Expr) Expr {
		if p, ok := x.(*Param); ok && p.Index >= 0 && p.Index < len(params) {
			return &Const{Value: params[p.Index], T: p.T}
		}
		return x
	})
}

// rewrite rebuilds e bottom-up, applying f to every node after its children.
func rewrite(e Expr, f func(Expr) Expr) Expr {
	switch x := e.(type) {
	case *Call:
		return f(&Call{Fn: x.Fn, Args: rewriteAll(x.Args, f)})
	case *Cast:
		return f(&Cast{Arg: rewrite(x.Arg, f), To: x.To})
	case *And:
		return f(&And{Args: rewriteAll(x.Args, f)})
	case *Or:
		return f(&Or{Args: rewriteAll(x.Args, f)})
	case *Not:
		return f(&Not{Arg: rewrite(x.Arg, f)})
	case *IsNull:
		return f(&IsNull{Arg: rewrite(x.Arg, f), Negate: x.Negate})
	case *IsBool:
		return f(&IsBool{Arg: rewrite(x.Arg, f), Value: x.Value, Negate: x.Negate})
	case *Case:
		c := &Case{T: x.T}
		for _, w := range x.Whens {
			c.Whens = append(c.Whens, When{Cond: rewrite(w.Cond, f), Result: rewrite(w.Result, f)})
		}
		if x.Else != nil {
			c.Else = rewrite(x.Else, f)
		}
		return f(c)
	case *Coalesce:
		return f(&Coalesce{Args: rewriteAll(x.Args, f), T: x.T})
	case *NullIf:
		return f(&NullIf{A: rewrite(x.A, f), B: rewrite(x.B, f), Eq: x.Eq})
	case *In:
		return f(&In{Arg: rewrite(x.Arg, f), List: rewriteAll(x.List, f), Eq: x.Eq, Negate: x.Negate})
	case *Subquery:
		return f(rewriteSubquery(x, f))
	}
	return f(e)
}

// ColumnsRead marks in read the input columns e reads. It reports false
// when it cannot tell: e has a subquery, which may read the row its own way.
func ColumnsRead(e Expr, read []bool) bool {
	ok := true
	rewrite(e, func(x Expr) Expr {
		switch x := x.(type) {
		case *ColumnRef:
			if x.Index >= 0 && x.Index < len(read) {
				read[x.Index] = true
			} else {
				ok = false
			}
		case *Subquery:
			ok = false
		}
		return x
	})
	return ok
}

func rewriteAll(es []Expr, f func(Expr) Expr) []Expr {
	out := make([]Expr, len(es))
	for i, e := range es {
		out[i] = rewrite(e, f)
	}
	return out
}
