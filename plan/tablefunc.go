package plan

import (
	"strings"

	"github.com/sluicedb/sluice/expr"
	"github.com/sluicedb/sluice/types"
)

// TableFunction is a set-returning function in FROM (generate_series,
// unnest), in batch mode only.
//
// Without Input it is a relation of its own: the values of one call, whose
// Args are constants (or outer references, bound before a subquery runs).
// With Input — the arguments read columns of the FROM items before it, an
// implicit LATERAL — it calls the function once per input row, with Args
// evaluated over that row, and outputs the row's columns followed by each
// value: a row without values is dropped, as in PostgreSQL's cross join.
type TableFunction struct {
	Input Node // nil: none
	Func  *expr.SetFunc
	Args  []expr.Expr
	// Ordinality adds a bigint column numbering each call's values from 1.
	Ordinality bool
	// Cols are Input's columns, then the value, then the ordinality.
	Cols types.Schema
}

func (n *TableFunction) Schema() types.Schema { return n.Cols }

func (n *TableFunction) Inputs() []Node {
	if n.Input == nil {
		return nil
	}
	return []Node{n.Input}
}

func (n *TableFunction) Kind() Kind {
	if n.Input == nil {
		return AppendOnly
	}
	return n.Input.Kind()
}

func (n *TableFunction) Explain() string {
	args := make([]string, len(n.Args))
	for i, a := range n.Args {
		args[i] = a.String()
	}
	s := "TableFunction " + n.Func.Name + "(" + strings.Join(args, ", ") + ")"
	if n.Ordinality {
		s += " WITH ORDINALITY"
	}
	return s
}
