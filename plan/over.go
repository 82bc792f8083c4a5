package plan

import (
	"fmt"
	"strings"

	"github.com/sluicedb/sluice/types"
)

// OverWindow computes window functions (f(...) OVER (PARTITION BY ...
// ORDER BY ...)) for every row of its input: the output is the input's
// columns followed by one column per call. All calls share the window. The
// frame is SQL's default: with ORDER BY, from the partition's start to the
// current row and its peers (rows equal in the ORDER BY); without it, the
// whole partition.
type OverWindow struct {
	Input       Node
	PartitionBy []int // input columns; none: one partition
	Order       []SortKey
	Calls       []WindowCall
	Cols        types.Schema
}

// WindowCall is one window function.
type WindowCall struct {
	// Func is row_number, rank, dense_rank, lag, lead, first_value,
	// last_value, count, sum, avg, min or max.
	Func string
	// Arg is the input column of the argument, -1 for none (row_number(),
	// count(*)).
	Arg int
	// Offset is lag's or lead's offset (1 when not given).
	Offset int64
	// Default is the input column holding lag's or lead's default, -1 for
	// NULL.
	Default int
	Ret     types.T
}

func (n *OverWindow) Schema() types.Schema { return n.Cols }
func (n *OverWindow) Inputs() []Node       { return []Node{n.Input} }

// Kind is retract: a new row can change the values of rows already out
// (the next row's lag, every later row's running sum).
func (n *OverWindow) Kind() Kind { return Retract }

func (n *OverWindow) Explain() string {
	keys := make([]string, len(n.Order))
	for i, k := range n.Order {
		keys[i] = fmt.Sprintf("#%d", k.Col)
		if k.Desc {
			keys[i] += " DESC"
		}
	}
	calls := make([]string, len(n.Calls))
	for i, c := range n.Calls {
		switch {
		case c.Arg >= 0:
			calls[i] = fmt.Sprintf("%s(#%d)", c.Func, c.Arg)
		default:
			calls[i] = c.Func + "()"
		}
	}
	return fmt.Sprintf("OverWindow %s partition-by=%v order=[%s] state=every row of each partition",
		strings.Join(calls, ", "), n.PartitionBy, strings.Join(keys, ", "))
}
