package plan

import (
	"fmt"
	"strings"

	"github.com/sluicedb/sluice/types"
)

// TopN keeps, per partition, the rows whose rank in Order is at most Limit:
// the rows of ROW_NUMBER(), RANK() or DENSE_RANK() OVER (PARTITION BY ...
// ORDER BY ...) filtered by rn <= Limit. For ROW_NUMBER(), rows that tie on
// Order are numbered in the order of their whole row, so the choice among
// ties is deterministic (PostgreSQL leaves it unspecified); RANK() and
// DENSE_RANK() keep every tied row, as in PostgreSQL.
//
// Output columns: the input columns, then, with RankCol, the row's rank in
// its partition (bigint, from 1). Without RankCol a row that only moves
// within the kept rows causes no change downstream.
type TopN struct {
	Input       Node
	PartitionBy []int // input columns; none: one global partition
	Order       []SortKey
	Func        RankFunc
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

// RankFunc is the window function a TopN filters on.
type RankFunc int

const (
	RowNumber RankFunc = iota // 1, 2, 3, 4: one number per row
	Rank                      // 1, 2, 2, 4: ties share a rank, then a gap
	DenseRank                 // 1, 2, 2, 3: ties share a rank, no gap
)

func (f RankFunc) String() string {
	switch f {
	case Rank:
		return "rank"
	case DenseRank:
		return "dense_rank"
	}
	return "row_number"
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
	if n.Func != RowNumber {
		s += " by=" + n.Func.String()
	}
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
