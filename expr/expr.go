package expr

import (
	"github.com/sluicedb/sluice/types"
)

// Expr is a bound scalar expression. Its concrete types are the structs of
// this file; the set is closed.
type Expr interface {
	// Type is the SQL type of the expression's value.
	Type() types.T
	// String renders the expression for EXPLAIN, e.g. "(#2 + 1)".
	String() string
	expr()
}

// ColumnRef reads column Index of the input batch.
type ColumnRef struct {
	Index int
	T     types.T
	Name  string // for EXPLAIN only
}

// Const is a constant value; Value is nil for NULL.
type Const struct {
	Value types.Datum
	T     types.T
}

// Param is a statement parameter ($1 is Index 0). It is replaced by a Const
// with Bind before evaluation.
type Param struct {
	Index int
	T     types.T
}

// Call applies a resolved scalar function or operator to its arguments.
type Call struct {
	Fn   *Func
	Args []Expr
}

// Cast converts Arg to type To.
type Cast struct {
	Arg Expr
	To  types.T
}

// And is the three-valued conjunction of its arguments.
type And struct{ Args []Expr }

// Or is the three-valued disjunction of its arguments.
type Or struct{ Args []Expr }

// Not is three-valued negation.
type Not struct{ Arg Expr }

// IsNull is `Arg IS NULL`, or `Arg IS NOT NULL` when Negate is set.
type IsNull struct {
	Arg    Expr
	Negate bool
}

// IsBool is `Arg IS [NOT] TRUE|FALSE|UNKNOWN`; Value nil means UNKNOWN.
type IsBool struct {
	Arg    Expr
	Value  *bool
	Negate bool
}

// Case is a searched CASE; a simple CASE is rewritten into one by the planner.
type Case struct {
	Whens []When
	Else  Expr // nil means NULL
	T     types.T
}

// When is one WHEN cond THEN result arm.
type When struct {
	Cond   Expr
	Result Expr
}

// Coalesce returns its first non-NULL argument.
type Coalesce struct {
	Args []Expr
	T    types.T
}

// NullIf returns NULL when A = B, A otherwise.
type NullIf struct {
	A, B Expr
	Eq   *Func // the resolved = operator on the common type
}

// In is `Arg [NOT] IN (List...)` with PostgreSQL's NULL semantics.
type In struct {
	Arg    Expr
	List   []Expr
	Eq     *Func // the resolved = operator
	Negate bool
}

// Subquery is a subquery used as an expression: `(SELECT ...)`, `EXISTS
// (SELECT ...)`, `Test Op ANY (SELECT ...)` (which `IN (SELECT ...)` is) or
// `Test Op ALL (SELECT ...)`. Plan is the inner query, which the executor
// runs through EvalContext.Subqueries; subquery.go has the details.
type Subquery struct {
	Kind SubqueryKind
	Plan SubPlan
	// Outer are the values of the enclosing query's row that the inner query
	// reads (a correlated subquery), as expressions over that row. Inside
	// Plan, Outer[k] is OuterRef(k). Empty when the subquery is uncorrelated.
	Outer []Expr
	// Test and Op are the left operand and the comparison of ANY and ALL.
	// Test is over the enclosing row and already of type Op.Args[0]; the
	// plan's single column is of type Op.Args[1].
	Test Expr
	Op   *Func
	// T is the type of a scalar subquery (its column's type) and of an
	// ARRAY subquery (the array type of its column's type).
	T types.T
}

func (e *ColumnRef) Type() types.T { return e.T }
func (e *Const) Type() types.T     { return e.T }
func (e *Param) Type() types.T     { return e.T }
func (e *Call) Type() types.T      { return e.Fn.Ret }
func (e *Cast) Type() types.T      { return e.To }
func (e *And) Type() types.T       { return types.Bool }
func (e *Or) Type() types.T        { return types.Bool }
func (e *Not) Type() types.T       { return types.Bool }
func (e *IsNull) Type() types.T    { return types.Bool }
func (e *IsBool) Type() types.T    { return types.Bool }
func (e *Case) Type() types.T      { return e.T }
func (e *Coalesce) Type() types.T  { return e.T }
func (e *NullIf) Type() types.T    { return e.A.Type() }
func (e *In) Type() types.T        { return types.Bool }
func (e *Subquery) Type() types.T {
	if e.Kind == SubqueryScalar || e.Kind == SubqueryArray {
		return e.T
	}
	return types.Bool
}

func (*ColumnRef) expr() {}
func (*Const) expr()     {}
func (*Param) expr()     {}
func (*Call) expr()      {}
func (*Cast) expr()      {}
func (*And) expr()       {}
func (*Or) expr()        {}
func (*Not) expr()       {}
func (*IsNull) expr()    {}
func (*IsBool) expr()    {}
func (*Case) expr()      {}
func (*Coalesce) expr()  {}
func (*NullIf) expr()    {}
func (*In) expr()        {}
func (*Subquery) expr()  {}
