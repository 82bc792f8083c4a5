package planner

import (
	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/plan"
	"github.com/sluicedb/sluice/types"
)

// scopeCol is a column visible to expressions: the output of a FROM item.
type scopeCol struct {
	table string // the FROM item's name or alias
	name  string
	typ   types.T
}

// scope is the list of columns of the current FROM clause, in the order of
// the plan node that produces them.
type scope struct {
	cols []scopeCol
	// windowStart and windowEnd are the positions of the columns a window
	// function in FROM added, or -1.
	windowStart, windowEnd int
	// eventTime is the column carrying the stream's watermark, or -1.
	eventTime int
	// windowSize is the window length in microseconds when windowStart ≥ 0.
	windowSize int64
	// windowOnEventTime is set when the window is over the event-time column.
	windowOnEventTime bool
	// session is the SESSION window in FROM, whose partition keys are the
	// query's GROUP BY columns.
	session *plan.Window
}

func newScope() *scope { return &scope{windowStart: -1, windowEnd: -1, eventTime: -1} }

func (s *scope) schema() types.Schema {
	out := make(types.Schema, len(s.cols))
	for i, c := range s.cols {
		out[i] = types.Column{Name: c.name, Type: c.typ}
	}
	return out
}

// resolve finds the column table.name (table may be empty).
func (s *scope) resolve(table, name string, pos int) (int, error) {
	found := -1
	for i, c := range s.cols {
		if c.name != name || (table != "" && c.table != table) {
			continue
		}
		if found >= 0 {
			return 0, pgerror.New(pgerror.AmbiguousColumn, "column reference %q is ambiguous", name).WithPosition(pos)
		}
		found = i
	}
	if found < 0 {
		if table != "" {
			if !s.hasTable(table) {
				return 0, pgerror.New(pgerror.UndefinedTable, "missing FROM-clause entry for table %q", table).WithPosition(pos)
			}
			return 0, pgerror.New(pgerror.UndefinedColumn, "column %s.%s does not exist", table, name).WithPosition(pos)
		}
		return 0, pgerror.New(pgerror.UndefinedColumn, "column %q does not exist", name).WithPosition(pos)
	}
	return found, nil
}

func (s *scope) hasTable(t string) bool {
	for _, c := range s.cols {
		if c.table == t {
			return true
		}
	}
	return false
}

// join concatenates two scopes (left columns, then right).
func join(l, r *scope) *scope {
	out := newScope()
	out.cols = append(append(out.cols, l.cols...), r.cols...)
	return out
}
