package plan

import (
	"strings"

	"github.com/sluicedb/sluice/expr"
	"github.com/sluicedb/sluice/types"
)

// SetOpKind is UNION, INTERSECT or EXCEPT.
type SetOpKind uint8

const (
	Union SetOpKind = iota
	Intersect
	Except
)

func (k SetOpKind) String() string {
	switch k {
	case Intersect:
		return "INTERSECT"
	case Except:
		return "EXCEPT"
	}
	return "UNION"
}

// SetOp combines the rows of two queries of the same column types, in
// batch mode only. UNION ALL passes both inputs through, left first; UNION
// without ALL is planned as UNION ALL under a DISTINCT aggregation, so the
// node itself is never a distinct UNION. INTERSECT and EXCEPT compare whole
// rows, NULLs equal to NULLs: INTERSECT outputs a row present on both sides
// (with ALL, min(left, right) copies of it), EXCEPT one present on the left
// and not the right (with ALL, left - right copies).
type SetOp struct {
	Op          SetOpKind
	All         bool
	Left, Right Node
	// Cols are the names of the left input's columns with the types both
	// inputs were coerced to.
	Cols types.Schema
}

func (n *SetOp) Schema() types.Schema { return n.Cols }
func (n *SetOp) Inputs() []Node       { return []Node{n.Left, n.Right} }

func (n *SetOp) Kind() Kind {
	if n.Left.Kind() == AppendOnly && n.Right.Kind() == AppendOnly && n.Op == Union {
		return AppendOnly
	}
	return Retract
}

func (n *SetOp) Explain() string {
	s := n.Op.String()
	if n.All {
		s += " ALL"
	}
	return "SetOp " + s
}

// ProjectSet evaluates the set-returning functions of a SELECT list
// (PostgreSQL's ProjectSet), in batch mode only. For each input row it
// calls every function with its Args evaluated over the row and outputs the
// row's columns followed by one column per function, the functions run in
// lockstep: as many rows as the longest call returns, the shorter calls
// padded with NULL. A row for which every call returns nothing is dropped.
type ProjectSet struct {
	Input Node
	Calls []SetCall
	// Cols are Input's columns, then one per call.
	Cols types.Schema
}

// SetCall is one set-returning function call of a ProjectSet.
type SetCall struct {
	// Name is the function as called, which names its output column.
	Name string
	Func *expr.SetFunc
	Args []expr.Expr
}

func (n *ProjectSet) Schema() types.Schema { return n.Cols }
func (n *ProjectSet) Inputs() []Node       { return []Node{n.Input} }
func (n *ProjectSet) Kind() Kind           { return n.Input.Kind() }

func (n *ProjectSet) Explain() string {
	calls := make([]string, len(n.Calls))
	for i, c := range n.Calls {
		args := make([]string, len(c.Args))
		for j, a := range c.Args {
			args[j] = a.String()
		}
		calls[i] = c.Func.Name + "(" + strings.Join(args, ", ") + ")"
	}
	return "ProjectSet " + strings.Join(calls, ", ")
}
