package expr

import (
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/types"
)

// fakePlan stands for a subquery's plan: a name and the expressions its
// nodes would hold.
type fakePlan struct {
	name  string
	exprs []Expr
}

func (p *fakePlan) MapExprs(f func(Expr) Expr) SubPlan {
	out := &fakePlan{name: p.name}
	for _, e := range p.exprs {
		out.exprs = append(out.exprs, f(e))
	}
	return out
}

func (p *fakePlan) String() string { return p.name + "[" + joinExprs(p.exprs) + "]" }

// fakeRunner answers each subquery with the rows rows gives for its outer
// values, and logs every run.
type fakeRunner struct {
	rows func(q *Subquery, outer []types.Datum) []types.Datum
	t    types.T // of the rows
	runs []string
}

func (r *fakeRunner) RunSubquery(q *Subquery, outer []types.Datum, limit int) (arrow.Array, error) {
	r.runs = append(r.runs, fmt.Sprint(outer))
	b := array.NewBuilder(memory.DefaultAllocator, r.t.Arrow())
	defer b.Release()
	for i, d := range r.rows(q, outer) {
		if limit >= 0 && i == limit {
			break
		}
		types.Put(b, d, r.t)
	}
	return b.NewArray(), nil
}

func constRows(ds ...types.Datum) func(*Subquery, []types.Datum) []types.Datum {
	return func(*Subquery, []types.Datum) []types.Datum { return ds }
}

// colOf is a reference to a column of the test table.
func colOf(t testing.TB, name string) *ColumnRef {
	t.Helper()
	for i, c := range testTable {
		if c.name == name {
			return &ColumnRef{Index: i, T: c.t, Name: name}
		}
	}
	t.Fatalf("no column %s in the test table", name)
	return nil
}

// comparison builds `test op ANY|ALL (rows of type rowType)`.
func comparison(t testing.TB, kind SubqueryKind, test Expr, op string, rowType types.T) *Subquery {
	t.Helper()
	cmp, err := Operator(op, test, &ColumnRef{T: rowType})
	if err != nil {
		t.Fatal(err)
	}
	call := cmp.(*Call)
	return &Subquery{Kind: kind, Plan: &fakePlan{name: "rows"}, Test: call.Args[0], Op: call.Fn}
}

// The rows of the inner query become the subquery's value with
// PostgreSQL's rules, NULLs included; i4 is 10, -3, 2147483647, NULL, 0.
func TestSubqueryValues(t *testing.T) {
	i4 := colOf(t, "i4")
	tests := []struct {
		name string
		q    *Subquery
		rows []types.Datum
		want string
	}{
		{"scalar of one row", &Subquery{Kind: SubqueryScalar, T: types.Int8}, []types.Datum{int64(7)}, "7 7 7 7 7"},
		{"scalar of no row is NULL", &Subquery{Kind: SubqueryScalar, T: types.Int8}, nil, "NULL NULL NULL NULL NULL"},
		{"EXISTS of a NULL row", &Subquery{Kind: SubqueryExists}, []types.Datum{nil}, "t t t t t"},
		{"EXISTS of no row", &Subquery{Kind: SubqueryExists}, nil, "f f f f f"},
		{"IN", comparison(t, SubqueryAny, i4, "=", types.Int4), []types.Datum{int32(10), int32(0)}, "t f f NULL t"},
		{"IN with a NULL", comparison(t, SubqueryAny, i4, "=", types.Int4), []types.Datum{int32(10), nil}, "t NULL NULL NULL NULL"},
		{"IN of no row is false, also for NULL", comparison(t, SubqueryAny, i4, "=", types.Int4), nil, "f f f f f"},
		{"IN bigints", comparison(t, SubqueryAny, i4, "=", types.Int8), []types.Datum{int64(-3), int64(1 << 40)}, "f t f NULL f"},
		{"NOT IN (<> ALL)", comparison(t, SubqueryAll, i4, "<>", types.Int4), []types.Datum{int32(10), int32(10)}, "f t t NULL t"},
		{"NOT IN with a NULL is never true", comparison(t, SubqueryAll, i4, "<>", types.Int4), []types.Datum{int32(10), nil}, "f NULL NULL NULL NULL"},
		{"ALL of no row is true, also for NULL", comparison(t, SubqueryAll, i4, "<>", types.Int4), nil, "t t t t t"},
		{"< ANY", comparison(t, SubqueryAny, i4, "<", types.Int4), []types.Datum{int32(0), int32(5)}, "f t f NULL t"},
		{"< ANY with a NULL", comparison(t, SubqueryAny, i4, "<", types.Int4), []types.Datum{int32(5), nil}, "NULL t NULL NULL t"},
		{">= ALL", comparison(t, SubqueryAll, i4, ">=", types.Int4), []types.Datum{int32(0), int32(-3)}, "t f t NULL t"},
		{">= ALL with a NULL", comparison(t, SubqueryAll, i4, ">=", types.Int4), []types.Datum{int32(0), nil}, "NULL f NULL NULL NULL"},
		{"text = ANY", comparison(t, SubqueryAny, colOf(t, "t"), "=", types.Text), []types.Datum{"abc", ""}, "t f t NULL f"},
		{"LIKE ANY", comparison(t, SubqueryAny, colOf(t, "t"), "~~", types.Text), []types.Datum{"%l%", "a%"}, "t t f NULL t"},
	}
	batch := testBatch(t)
	defer batch.Release()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rowType := tc.q.T
			switch {
			case tc.q.Op != nil:
				rowType = tc.q.Op.Args[1]
			case tc.q.Kind == SubqueryExists:
				rowType = types.Int4
			}
			tc.q.Plan = &fakePlan{name: "rows"}
			run := &fakeRunner{rows: constRows(tc.rows...), t: rowType}
			got, err := evalText(t, &EvalContext{Subqueries: run}, tc.q, batch)
			if err != nil {
				t.Fatal(err)
			}
			if g := strings.Join(got, " "); g != tc.want {
				t.Errorf("got %s, want %s", g, tc.want)
			}
			if len(run.runs) != 1 {
				t.Errorf("the inner query ran %d times, want once", len(run.runs))
			}
		})
	}
}

func TestScalarSubqueryOfTwoRowsFails(t *testing.T) {
	batch := testBatch(t)
	defer batch.Release()
	q := &Subquery{Kind: SubqueryScalar, T: types.Int4, Plan: &fakePlan{name: "rows"}}
	run := &fakeRunner{rows: constRows(int32(1), int32(2), int32(3)), t: types.Int4}
	_, err := evalText(t, &EvalContext{Subqueries: run}, q, batch)
	if pgerror.Code(err) != pgerror.CardinalityViolation {
		t.Fatalf("got %v, want 21000", err)
	}
}

func TestSubqueryWithoutRunnerIsRefused(t *testing.T) {
	batch := testBatch(t)
	defer batch.Release()
	q := &Subquery{Kind: SubqueryExists, Plan: &fakePlan{name: "rows"}}
	_, err := evalText(t, &EvalContext{}, q, batch)
	if pgerror.Code(err) != pgerror.FeatureNotSupported {
		t.Fatalf("got %v, want 0A000", err)
	}
}

// An uncorrelated subquery runs once per statement (per EvalContext), and
// not at all when no row needs it.
func TestUncorrelatedSubqueryRunsOnce(t *testing.T) {
	batch := testBatch(t)
	defer batch.Release()
	q := comparison(t, SubqueryAny, colOf(t, "i4"), "=", types.Int4)
	run := &fakeRunner{rows: constRows(int32(0)), t: types.Int4}
	ctx := &EvalContext{Subqueries: run}
	for range 3 {
		if _, err := evalText(t, ctx, q, batch); err != nil {
			t.Fatal(err)
		}
	}
	if len(run.runs) != 1 {
		t.Errorf("ran %d times over three batches, want once", len(run.runs))
	}

	// CASE WHEN false-for-every-row THEN (SELECT of two rows) END.
	never := &Case{
		Whens: []When{{Cond: &IsNull{Arg: colOf(t, "i2")}, Result: &Subquery{Kind: SubqueryScalar, T: types.Int4, Plan: &fakePlan{name: "two"}}}},
		T:     types.Int4,
	}
	only := testBatch(t)
	defer only.Release()
	notNull := only.NewSlice(0, 3) // rows without the all-NULL row
	defer notNull.Release()
	run = &fakeRunner{rows: constRows(int32(1), int32(2)), t: types.Int4}
	got, err := evalText(t, &EvalContext{Subqueries: run}, never, notNull)
	if err != nil {
		t.Fatalf("a subquery no row needs failed the batch: %v", err)
	}
	if strings.Join(got, " ") != "NULL NULL NULL" || len(run.runs) != 0 {
		t.Errorf("got %v after %d runs, want NULLs and no run", got, len(run.runs))
	}
}

// A correlated subquery runs once per distinct combination of its outer
// values among the rows that need it.
func TestCorrelatedSubqueryRunsPerDistinctOuterValue(t *testing.T) {
	b := colOf(t, "b") // true, false, true, NULL, false
	i4 := colOf(t, "i4")
	// (SELECT count(*) ... WHERE x = $outer1): the row count is 2 for true,
	// 1 for false, 0 for NULL.
	counts := func(_ *Subquery, outer []types.Datum) []types.Datum {
		switch outer[0] {
		case true:
			return []types.Datum{int64(2)}
		case false:
			return []types.Datum{int64(1)}
		}
		return []types.Datum{int64(0)}
	}
	scalar := &Subquery{Kind: SubqueryScalar, T: types.Int8, Plan: &fakePlan{name: "count"}, Outer: []Expr{b}}
	// i4 = ANY (rows): 10 and -3 for true, 0 for false, none for NULL.
	members := func(_ *Subquery, outer []types.Datum) []types.Datum {
		switch outer[0] {
		case true:
			return []types.Datum{int32(10), int32(-3)}
		case false:
			return []types.Datum{int32(0)}
		}
		return nil
	}
	in := comparison(t, SubqueryAny, i4, "=", types.Int4)
	in.Outer = []Expr{b}

	tests := []struct {
		name string
		e    Expr
		rows func(*Subquery, []types.Datum) []types.Datum
		t    types.T
		want string
		runs string
	}{
		{"scalar", scalar, counts, types.Int8, "2 1 2 0 1", "[true] [false] [<nil>]"},
		{"IN", in, members, types.Int4, "t f f f t", "[true] [false] [<nil>]"},
		{"only the rows that need it", &Case{Whens: []When{{Cond: &IsNull{Arg: i4, Negate: true}, Result: scalar}}, T: types.Int8},
			counts, types.Int8, "2 1 2 NULL 1", "[true] [false]"},
		{"under a NOT", &Not{Arg: in}, members, types.Int4, "f t t t f", "[true] [false] [<nil>]"},
	}
	batch := testBatch(t)
	defer batch.Release()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			run := &fakeRunner{rows: tc.rows, t: tc.t}
			got, err := evalText(t, &EvalContext{Subqueries: run}, tc.e, batch)
			if err != nil {
				t.Fatal(err)
			}
			if g := strings.Join(got, " "); g != tc.want {
				t.Errorf("got %s, want %s", g, tc.want)
			}
			if r := strings.Join(run.runs, " "); r != tc.runs {
				t.Errorf("runs %s, want %s", r, tc.runs)
			}
		})
	}
}

// BindOuter binds the outer references of one level: those of the plan it
// is given, and the Outer of the subqueries nested there, not what is
// inside their plans.
func TestBindOuter(t *testing.T) {
	nested := &Subquery{Kind: SubqueryExists, Plan: &fakePlan{name: "inner", exprs: []Expr{OuterRef(0, types.Int4)}}, Outer: []Expr{OuterRef(1, types.Text)}}
	uncorrelated := &Subquery{Kind: SubqueryScalar, T: types.Int4, Plan: &fakePlan{name: "max"}}
	e := &And{Args: []Expr{
		&Call{Fn: mustOp(t, "=", types.Int4), Args: []Expr{OuterRef(0, types.Int4), uncorrelated}},
		nested,
	}}
	got := BindOuter(e, []types.Datum{int32(5), "x"})
	const want = "((5 = (SubPlan max[])) AND EXISTS(inner[$outer1] with $outer1 := 'x'))"
	if got.String() != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if got.(*And).Args[0].(*Call).Args[1] != Expr(uncorrelated) {
		t.Error("an uncorrelated subquery lost its identity (and its once-per-statement result)")
	}
	if same := BindOuter(uncorrelated, []types.Datum{int32(5)}); same != Expr(uncorrelated) {
		t.Error("an expression without outer references was copied")
	}
	if found := Subqueries(e); len(found) != 2 || found[0] != uncorrelated || found[1] != nested {
		t.Errorf("Subqueries found %v", found)
	}
}

// Statement parameters are bound at every level, plans included.
func TestBindGoesIntoSubqueryPlans(t *testing.T) {
	q := &Subquery{Kind: SubqueryExists, Plan: &fakePlan{name: "p", exprs: []Expr{&Param{Index: 0, T: types.Int4}, OuterRef(0, types.Int4)}}, Outer: []Expr{&Param{Index: 0, T: types.Int4}}}
	got := Bind(q, []types.Datum{int32(3)})
	const want = "EXISTS(p[3, $outer1] with $outer1 := 3)"
	if got.String() != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func mustOp(t testing.TB, op string, typ types.T) *Func {
	t.Helper()
	e, err := Operator(op, &ColumnRef{T: typ}, &ColumnRef{T: typ})
	if err != nil {
		t.Fatal(err)
	}
	return e.(*Call).Fn
}
