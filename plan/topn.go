package plan

import (
	"fmt"
	"strings"

	"github.com/sluicedb/sluice/types"
)

// TopN keeps, per partition, the first Limit rows in Order: the rows of
// ROW_NUMBER() OVER (PARTITION BY ... ORDER BY ...) filtered by rn <= Limit.
// Rows that tie on Order are ranked by their whole row, so the choice among
// ties is deterministic (PostgreSQL leaves it unspecified).
//
// Output columns: the input columns, then, with RankCol, the row's number in
// its partition (bigint, from 1). Without RankCol a row that only moves
// within the first Limit causes no change downstream.
type TopN struct {
	Input       Node
	PartitionBy []int // input columns; none: one global partition
	Order       []SortKey
	Limit       int64
	RankCol     bool
	Cols        types.Schema
	// WindowPart, when ≥ 0, is the position in PartitionBy of a column that
	// holds an event-time window's end (plus WindowShift for a window's
	// start): once the watermark passes it, the partition can no longer
	// change and its state is freed.
	WindowPart  int
	WindowShift int64
}

func (n *TopN) Schema() types.Schema { return n.Cols }
func (n *TopN) Inputs() []Node       { return []Node{n.Input} }

// Kind is retract: a row leaves the top when a better one arrives.
func (n *TopN) Kind() Kind { return Retract }

func (n *TopN) Explain() string {
	keys := make([]string, len(n.Order))
	for i, k := range n.Order {
		keys[i] = fmt.Sprintf("#%d", k.Col)
		if k.Desc {
			keys[i] += " DESC"
		}
		if k.NullsFirst != k.Desc {
			if k.NullsFirst {
				keys[i] += " NULLS FIRST"
			} else {
				keys[i] += " NULLS LAST"
			}
		}
	}
	s := fmt.Sprintf("TopN limit=%d partition-by=%v order=[%s]", n.Limit, n.PartitionBy, strings.Join(keys, ", "))
	if n.RankCol {
		s += " rank=" + n.Cols[len(n.Cols)-1].Name
	}
	if n.WindowPart >= 0 {
		s += fmt.Sprintf(" state-freed-at=watermark≥partition%d", n.WindowPart)
		if n.WindowShift != 0 {
			s += "+" + FormatMicros(n.WindowShift)
		}
	}
	return s
}
