package executor

import (
	"context"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sluicedb/sluice/expr"
	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/plan"
	"github.com/sluicedb/sluice/types"
)

// testSubplan is a subquery plan as the planner stores it, for plans made
// of scans, filters and projections.
type testSubplan struct{ root plan.Node }

func (s testSubplan) Root() plan.Node { return s.root }
func (s testSubplan) String() string  { return s.root.Explain() }
func (s testSubplan) MapExprs(f func(expr.Expr) expr.Expr) expr.SubPlan {
	var m func(plan.Node) plan.Node
	m = func(n plan.Node) plan.Node {
		switch n := n.(type) {
		case *plan.Filter:
			return &plan.Filter{Input: m(n.Input), Pred: f(n.Pred)}
		case *plan.Project:
			exprs := make([]expr.Expr, len(n.Exprs))
			for i, e := range n.Exprs {
				exprs[i] = f(e)
			}
			return &plan.Project{Input: m(n.Input), Exprs: exprs, Cols: n.Cols}
		}
		return n
	}
	return testSubplan{root: m(s.root)}
}

// countingSnapshots serves fixed relations and counts the scans of each.
type countingSnapshots struct {
	recs  map[string]arrow.Record
	scans map[string]int
}

func (s *countingSnapshots) Snapshot(_ context.Context, scan *plan.Scan) ([]arrow.Record, error) {
	s.scans[scan.Relation]++
	r := s.recs[scan.Relation]
	r.Retain()
	return []arrow.Record{r}, nil
}

// Subqueries run as batch plans over the query's snapshots: an
// uncorrelated one once per statement, a correlated one once per distinct
// outer value of a batch.
func TestRunBatchWithSubqueries(t *testing.T) {
	alloc := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer alloc.AssertSize(t, 0)
	one := types.Schema{{Name: "x", Type: types.Int4}}
	tRows := record(t, alloc, one, []types.Datum{int32(1)}, []types.Datum{int32(2)}, []types.Datum{int32(2)}, []types.Datum{int32(3)}, []types.Datum{nil})
	uRows := record(t, alloc, types.Schema{{Name: "y", Type: types.Int4}}, []types.Datum{int32(1)}, []types.Datum{int32(2)}, []types.Datum{int32(2)}, []types.Datum{int32(5)})
	defer tRows.Release()
	defer uRows.Release()

	x := &expr.ColumnRef{Index: 0, T: types.Int4, Name: "x"}
	y := &expr.ColumnRef{Index: 0, T: types.Int4, Name: "y"}
	scanT := &plan.Scan{Relation: "t", RelKind: plan.RelTable, Cols: one, EventTime: -1}
	scanU := &plan.Scan{Relation: "u", RelKind: plan.RelTable, Cols: types.Schema{{Name: "y", Type: types.Int4}}, EventTime: -1}
	eq := func(a, b expr.Expr) expr.Expr {
		e, err := expr.Operator("=", a, b)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	// EXISTS (SELECT true FROM u WHERE y = t.x)
	exists := &expr.Subquery{
		Kind:  expr.SubqueryExists,
		Outer: []expr.Expr{x},
		Plan: testSubplan{root: &plan.Project{
			Input: &plan.Filter{Input: scanU, Pred: eq(y, expr.OuterRef(0, types.Int4))},
			Exprs: []expr.Expr{&expr.Const{Value: true, T: types.Bool}},
			Cols:  types.Schema{{Name: "exists", Type: types.Bool}},
		}},
	}
	// x IN (SELECT y FROM u)
	in := &expr.Subquery{Kind: expr.SubqueryAny, Plan: testSubplan{root: scanU}, Test: x, Op: eq(x, y).(*expr.Call).Fn}
	// x = ANY (SELECT y FROM u WHERE y >= t.x)
	ge, err := expr.Operator(">=", y, expr.OuterRef(0, types.Int4))
	if err != nil {
		t.Fatal(err)
	}
	anyAbove := &expr.Subquery{
		Kind:  expr.SubqueryAny,
		Outer: []expr.Expr{x},
		Plan:  testSubplan{root: &plan.Filter{Input: scanU, Pred: ge}},
		Test:  x,
		Op:    eq(x, y).(*expr.Call).Fn,
	}
	// (SELECT y FROM u): four rows.
	scalar := &expr.Subquery{Kind: expr.SubqueryScalar, T: types.Int4, Plan: testSubplan{root: scanU}}

	tests := []struct {
		name  string
		e     expr.Expr
		want  string
		scans int // of u
		code  string
	}{
		{name: "correlated EXISTS", e: exists, want: "t t t f f", scans: 4},
		{name: "uncorrelated IN", e: in, want: "t t t f NULL", scans: 1},
		{name: "correlated ANY", e: anyAbove, want: "t t t f f", scans: 4},
		{name: "scalar of many rows", e: scalar, code: pgerror.CardinalityViolation, scans: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := types.Schema{{Name: "v", Type: tc.e.Type()}}
			p := &plan.Project{Input: scanT, Exprs: []expr.Expr{tc.e}, Cols: out}
			var relations []string
			WalkPlan(p, func(n plan.Node) {
				if s, ok := n.(*plan.Scan); ok {
					relations = append(relations, s.Relation)
				}
			})
			if strings.Join(relations, " ") != "u t" {
				t.Errorf("WalkPlan found scans of %v, want u (in the subquery) and t", relations)
			}
			snaps := &countingSnapshots{recs: map[string]arrow.Record{"t": tRows, "u": uRows}, scans: map[string]int{}}
			ectx := &expr.EvalContext{Alloc: alloc}
			c := &collector{schema: out}
			err := RunBatch(t.Context(), p, snaps, ectx, func(rec arrow.Record) error {
				return c.emit(t.Context(), Chunk{Rec: rec})
			})
			if tc.code != "" {
				if pgerror.Code(err) != tc.code {
					t.Fatalf("got %v, want %s", err, tc.code)
				}
			} else if err != nil {
				t.Fatal(err)
			} else if got := strings.ReplaceAll(strings.Join(c.rows, " "), "+ ", ""); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
			if snaps.scans["u"] != tc.scans {
				t.Errorf("u scanned %d times, want %d", snaps.scans["u"], tc.scans)
			}
			if ectx.Subqueries != nil {
				t.Error("RunBatch left its subquery runner in the evaluation context")
			}
		})
	}
}
