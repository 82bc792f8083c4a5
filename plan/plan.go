package plan

import (
	"fmt"
	"strings"

	"github.com/sluicedb/sluice/expr"
	"github.com/sluicedb/sluice/types"
)

// Kind is a stream's changelog kind.
type Kind uint8

const (
	// AppendOnly streams carry only inserts.
	AppendOnly Kind = iota
	// Retract streams carry inserts and deletes (an update is a delete of
	// the old row followed by an insert of the new one).
	Retract
)

// IsAppendOnly reports whether the stream carries only inserts.
func (k Kind) IsAppendOnly() bool { return k == AppendOnly }

func (k Kind) String() string {
	if k == AppendOnly {
		return "append-only"
	}
	return "retract"
}

// Node is a relational operator.
type Node interface {
	// Schema is the node's output columns.
	Schema() types.Schema
	// Inputs are the node's children.
	Inputs() []Node
	// Kind is the stream kind of the node's output.
	Kind() Kind
	// Explain describes the node itself (not its inputs) on one line.
	Explain() string
}

// RelationKind says what a scan reads.
type RelationKind uint8

const (
	RelSource RelationKind = iota
	RelTable
	RelMaterializedView
	RelSystem // a virtual catalog relation (pg_catalog, information_schema)
)

func (k RelationKind) String() string {
	return [...]string{"source", "table", "materialized view", "system"}[k]
}

// Scan reads a relation: in batch mode its current snapshot, in streaming
// mode its changes (and for tables and views a snapshot first).
type Scan struct {
	Relation string
	RelKind  RelationKind
	Cols     types.Schema
	// AppendOnlyInput is set when the relation only ever grows.
	AppendOnlyInput bool
	// EventTime is the index of the column that carries the stream's
	// watermark, or -1.
	EventTime int
	// Unread marks, for a source, the columns that nothing above the scan
	// reads (the planner sets it; nil: all are read): a source that can
	// leave them out (connectors.ColumnSkipper) gives NULLs for them.
	Unread []bool
}

// Values produces constant rows (INSERT ... VALUES, SELECT without FROM).
type Values struct {
	Rows [][]expr.Expr
	Cols types.Schema
}

// Project computes one output column per expression.
type Project struct {
	Input Node
	Exprs []expr.Expr
	Cols  types.Schema
}

// Filter keeps the rows for which Pred is true.
type Filter struct {
	Input Node
	Pred  expr.Expr
}

// WindowKind is a window function in FROM.
type WindowKind uint8

const (
	Tumble WindowKind = iota
	Hop
	Session
)

func (k WindowKind) String() string { return [...]string{"TUMBLE", "HOP", "SESSION"}[k] }

// Window assigns each row to its windows and appends window_start and
// window_end. Sizes are in microseconds.
type Window struct {
	Input   Node
	Func    WindowKind
	TimeCol int
	Size    int64
	Slide   int64 // HOP only; equal to Size for TUMBLE
	Offset  int64
	// Gap is SESSION's gap: rows of one partition less than Gap apart share
	// a session.
	Gap int64
	// PartitionBy are the columns that SESSION keeps sessions apart by (the
	// query's other GROUP BY keys).
	PartitionBy []int
	Cols        types.Schema
	// Unread marks the input columns that nothing above the window reads
	// (the planner sets it; nil: all are read). A HOP, which copies each
	// row once per window, gives NULLs for them instead of copies.
	Unread []bool
}

// AggCall is one aggregate function call.
type AggCall struct {
	Func     string // count, count_star, sum, avg, min, max
	Arg      int    // input column; -1 for count(*)
	Distinct bool
	ArgType  types.T
	Ret      types.T
}

func (a AggCall) String() string {
	if a.Arg < 0 {
		return "count(*)"
	}
	d := ""
	if a.Distinct {
		d = "DISTINCT "
	}
	return fmt.Sprintf("%s(%s#%d)", a.Func, d, a.Arg)
}

// Aggregate groups its input by the key columns and computes aggregates.
// Output columns: the group keys in order, then one column per aggregate.
type Aggregate struct {
	Input Node
	Keys  []int
	Aggs  []AggCall
	Cols  types.Schema
	// WindowEnd, when ≥ 0, is the position among Keys of a column whose
	// value is the end of the group's event-time window (window_end, or
	// window_start plus WindowShift). Once the watermark reaches it the
	// group can no longer change: its state is freed and, with
	// EmitOnWindowClose, its row is emitted.
	WindowEnd   int
	WindowShift int64
	// EmitOnWindowClose emits each group once, when its window closes.
	EmitOnWindowClose bool
	// InputAppendOnly lets min and max keep one value instead of a multiset.
	InputAppendOnly bool
}

// JoinType is the kind of join.
type JoinType uint8

const (
	InnerJoin JoinType = iota
	LeftJoin
	RightJoin
	FullJoin
)

func (t JoinType) String() string { return [...]string{"inner", "left", "right", "full"}[t] }

// Join is an equi-join with an optional residual predicate over the
// concatenated row (left columns, then right columns).
type Join struct {
	Left, Right         Node
	Type                JoinType
	LeftKeys, RightKeys []int
	Residual            expr.Expr // nil: none
	Cols                types.Schema
	// WindowKey, when ≥ 0, is the position among the keys of a pair of
	// event-time window bounds (a window join): the window ends at the key's
	// value plus WindowShift, after which its state can be freed.
	WindowKey   int
	WindowShift int64
	// Interval bounds (an interval join: ON keys AND a.ts BETWEEN b.ts - x
	// AND b.ts + y): a side's row can only match rows of the other side whose
	// time is at most TTL after its own, so it is freed once the watermark
	// passes its time (column IntervalCol[side] of that side) plus TTL[side].
	HasTTL      [2]bool
	TTL         [2]int64
	IntervalCol [2]int
	// Temporal joins each left row with the right side as it is when the
	// row arrives (FOR SYSTEM_TIME AS OF PROCTIME()): later changes of the
	// right side do not change rows already joined.
	Temporal bool
}

// SortKey orders by one column.
type SortKey struct {
	Col        int
	Desc       bool
	NullsFirst bool
}

// Sort orders its input (batch mode only).
type Sort struct {
	Input Node
	Keys  []SortKey
}

// Limit skips Offset rows and returns at most Count (-1: all).
type Limit struct {
	Input  Node
	Count  int64
	Offset int64
}

func (n *Scan) Schema() types.Schema      { return n.Cols }
func (n *Values) Schema() types.Schema    { return n.Cols }
func (n *Project) Schema() types.Schema   { return n.Cols }
func (n *Filter) Schema() types.Schema    { return n.Input.Schema() }
func (n *Window) Schema() types.Schema    { return n.Cols }
func (n *Aggregate) Schema() types.Schema { return n.Cols }
func (n *Join) Schema() types.Schema      { return n.Cols }
func (n *Sort) Schema() types.Schema      { return n.Input.Schema() }
func (n *Limit) Schema() types.Schema     { return n.Input.Schema() }

func (n *Scan) Inputs() []Node      { return nil }
func (n *Values) Inputs() []Node    { return nil }
func (n *Project) Inputs() []Node   { return []Node{n.Input} }
func (n *Filter) Inputs() []Node    { return []Node{n.Input} }
func (n *Window) Inputs() []Node    { return []Node{n.Input} }
func (n *Aggregate) Inputs() []Node { return []Node{n.Input} }
func (n *Join) Inputs() []Node      { return []Node{n.Left, n.Right} }
func (n *Sort) Inputs() []Node      { return []Node{n.Input} }
func (n *Limit) Inputs() []Node     { return []Node{n.Input} }

func (n *Scan) Kind() Kind {
	if n.AppendOnlyInput {
		return AppendOnly
	}
	return Retract
}
func (n *Values) Kind() Kind  { return AppendOnly }
func (n *Project) Kind() Kind { return n.Input.Kind() }
func (n *Filter) Kind() Kind  { return n.Input.Kind() }
func (n *Window) Kind() Kind {
	if n.Func == Session {
		return Retract // a merge of sessions moves rows to a new window
	}
	return n.Input.Kind()
}
func (n *Aggregate) Kind() Kind {
	if n.EmitOnWindowClose {
		return AppendOnly
	}
	return Retract
}
func (n *Join) Kind() Kind {
	if n.Temporal && n.Left.Kind() == AppendOnly {
		return AppendOnly
	}
	if n.Left.Kind() == AppendOnly && n.Right.Kind() == AppendOnly && n.Type == InnerJoin {
		return AppendOnly
	}
	return Retract
}
func (n *Sort) Kind() Kind  { return n.Input.Kind() }
func (n *Limit) Kind() Kind { return Retract }

func (n *Scan) Explain() string {
	return fmt.Sprintf("Scan %s %s columns=[%s]", n.RelKind, n.Relation, colNames(n.Cols))
}
func (n *Values) Explain() string { return fmt.Sprintf("Values rows=%d", len(n.Rows)) }
func (n *Project) Explain() string {
	parts := make([]string, len(n.Exprs))
	for i, e := range n.Exprs {
		parts[i] = e.String()
		if name := n.Cols[i].Name; name != "" && name[0] != 0 && name != e.String() {
			parts[i] += " AS " + name
		}
	}
	return "Project " + strings.Join(parts, ", ")
}
func (n *Filter) Explain() string { return "Filter " + n.Pred.String() }
func (n *Window) Explain() string {
	if n.Func == Session {
		return fmt.Sprintf("Window SESSION time=#%d gap=%s partition-by=%v", n.TimeCol, FormatMicros(n.Gap), n.PartitionBy)
	}
	s := fmt.Sprintf("Window %s time=#%d size=%s", n.Func, n.TimeCol, FormatMicros(n.Size))
	if n.Func == Hop {
		s += " slide=" + FormatMicros(n.Slide)
	}
	if n.Offset != 0 {
		s += " offset=" + FormatMicros(n.Offset)
	}
	return s
}
func (n *Aggregate) Explain() string {
	keys := make([]string, len(n.Keys))
	for i, k := range n.Keys {
		keys[i] = fmt.Sprintf("#%d", k)
	}
	aggs := make([]string, len(n.Aggs))
	for i, a := range n.Aggs {
		aggs[i] = a.String()
	}
	s := fmt.Sprintf("HashAggregate keys=[%s] aggs=[%s]", strings.Join(keys, ", "), strings.Join(aggs, ", "))
	if n.WindowEnd >= 0 {
		s += fmt.Sprintf(" state-freed-at=watermark≥key%d", n.WindowEnd)
		if n.WindowShift != 0 {
			s += "+" + FormatMicros(n.WindowShift)
		}
	}
	if n.EmitOnWindowClose {
		s += " emit=on-window-close"
	}
	return s
}
func (n *Join) Explain() string {
	s := fmt.Sprintf("HashJoin %s left-keys=%v right-keys=%v", n.Type, n.LeftKeys, n.RightKeys)
	if n.Residual != nil {
		s += " residual=" + n.Residual.String()
	}
	if n.Temporal {
		s += " temporal (lookup at arrival, no state for the left side)"
	}
	for side, name := range [2]string{"left", "right"} {
		if n.HasTTL[side] {
			s += fmt.Sprintf(" %s-state-freed-at=watermark>#%d+%s", name, n.IntervalCol[side], FormatMicros(n.TTL[side]))
		}
	}
	if n.WindowKey >= 0 {
		s += fmt.Sprintf(" window-join state-freed-at=watermark≥key%d", n.WindowKey)
		if n.WindowShift != 0 {
			s += "+" + FormatMicros(n.WindowShift)
		}
	}
	return s
}
func (n *Sort) Explain() string {
	keys := make([]string, len(n.Keys))
	for i, k := range n.Keys {
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
	return "Sort " + strings.Join(keys, ", ")
}
func (n *Limit) Explain() string {
	return fmt.Sprintf("Limit count=%d offset=%d", n.Count, n.Offset)
}

// Format renders the tree rooted at n, one node per line, children indented.
func Format(n Node) string {
	var b strings.Builder
	format(&b, n, 0)
	return b.String()
}

func format(b *strings.Builder, n Node, depth int) {
	b.WriteString(strings.Repeat("  ", depth))
	if depth > 0 {
		b.WriteString("└─")
	}
	b.WriteString(n.Explain())
	fmt.Fprintf(b, " (%s)\n", n.Kind())
	for _, in := range n.Inputs() {
		format(b, in, depth+1)
	}
}

func colNames(s types.Schema) string {
	names := make([]string, len(s))
	for i, c := range s {
		names[i] = c.Name
	}
	return strings.Join(names, ", ")
}

// FormatMicros renders a duration in microseconds compactly: 10s, 5m, 2h, 1d.
func FormatMicros(us int64) string {
	switch {
	case us%types.MicrosPerDay == 0:
		return fmt.Sprintf("%dd", us/types.MicrosPerDay)
	case us%3_600_000_000 == 0:
		return fmt.Sprintf("%dh", us/3_600_000_000)
	case us%60_000_000 == 0:
		return fmt.Sprintf("%dm", us/60_000_000)
	case us%1_000_000 == 0:
		return fmt.Sprintf("%ds", us/1_000_000)
	}
	return fmt.Sprintf("%dus", us)
}
