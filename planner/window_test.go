package planner

import (
	"fmt"
	"testing"

	"github.com/sluicedb/sluice/catalog"
	"github.com/sluicedb/sluice/plan"
	"github.com/sluicedb/sluice/types"
)

// A HOP under a projection learns which of its input columns nothing reads,
// so that it need not copy them into every window; under anything else, or
// a projection of everything, it reads them all.
func TestWindowsLearnTheColumnsNothingReads(t *testing.T) {
	cat := catalog.New()
	bids := &catalog.Object{Kind: catalog.Table, Name: "bids", AppendOnly: true, Schema: types.Schema{
		{Name: "auction", Type: types.Int8}, {Name: "price", Type: types.Int8}, {Name: "url", Type: types.Text},
		{Name: "ts", Type: types.Timestamp}}}
	if err := cat.Add(bids); err != nil {
		t.Fatal(err)
	}
	p := New(cat)
	for _, c := range []struct {
		sql  string
		want string // Unread of every window, in plan order
	}{
		{"SELECT auction, count(*) FROM HOP(bids, ts, INTERVAL '2' SECOND, INTERVAL '10' SECOND) GROUP BY auction, window_start",
			"[[false true true true]]"},
		{"SELECT max(price) FROM HOP(bids, ts, INTERVAL '2' SECOND, INTERVAL '10' SECOND) GROUP BY window_end",
			"[[true false true true]]"},
		{"SELECT * FROM HOP(bids, ts, INTERVAL '2' SECOND, INTERVAL '10' SECOND)",
			"[[]]"},
		{"WITH h AS (SELECT auction, window_start FROM HOP(bids, ts, INTERVAL '2' SECOND, INTERVAL '10' SECOND)) " +
			"SELECT a.auction FROM h AS a JOIN h AS b ON a.window_start = b.window_start",
			"[[false true true true] [false true true true]]"},
	} {
		got := unreadIn(t, p, c.sql, func(n plan.Node) ([]bool, bool) {
			w, ok := n.(*plan.Window)
			if !ok {
				return nil, false
			}
			return w.Unread, true
		})
		if got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.sql, got, c.want)
		}
	}
}

// A scan of a source learns which columns nothing above it reads, through
// projections, filters and windows, but for the event-time column, which
// the watermark reads; a scan of a table reads everything.
func TestSourceScansLearnTheColumnsNothingReads(t *testing.T) {
	cat := catalog.New()
	cols := types.Schema{{Name: "auction", Type: types.Int8}, {Name: "price", Type: types.Int8},
		{Name: "url", Type: types.Text}, {Name: "ts", Type: types.Timestamp}, {Name: "extra", Type: types.Text}}
	for _, o := range []*catalog.Object{
		{Kind: catalog.Source, Name: "bids", Schema: cols, Watermark: &catalog.Watermark{Column: 3, Expr: "ts"}},
		{Kind: catalog.Table, Name: "tbids", Schema: cols},
	} {
		if err := cat.Add(o); err != nil {
			t.Fatal(err)
		}
	}
	p := New(cat)
	for _, c := range []struct {
		sql  string
		want string // Unread of every scan, in plan order
	}{
		{"SELECT auction FROM bids WHERE price > 10", "[[false false true false true]]"},
		{"SELECT auction, count(*) FROM HOP(bids, ts, INTERVAL '2' SECOND, INTERVAL '10' SECOND) GROUP BY auction, window_start",
			"[[false true true false true]]"},
		{"SELECT * FROM bids", "[[]]"},
		{"SELECT b.auction, a.extra FROM bids AS a JOIN bids AS b ON a.auction = b.auction",
			"[[] []]"}, // a join reads all its inputs' columns
		{"SELECT auction FROM tbids", "[[]]"},
	} {
		got := unreadIn(t, p, c.sql, func(n plan.Node) ([]bool, bool) {
			s, ok := n.(*plan.Scan)
			if !ok {
				return nil, false
			}
			return s.Unread, true
		})
		if got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.sql, got, c.want)
		}
	}
}

// unreadIn plans sql as a view and lists, in plan order, the unread marks
// that of picks from the nodes it is about.
func unreadIn(t *testing.T, p *Planner, sql string, of func(plan.Node) ([]bool, bool)) string {
	t.Helper()
	v, err := p.PlanView(parseSelect(t, sql), false)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	var got [][]bool
	_ = walk(v.Plan, func(n plan.Node) error {
		if u, ok := of(n); ok {
			got = append(got, u)
		}
		return nil
	})
	return fmt.Sprint(got)
}
