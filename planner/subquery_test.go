package planner

import (
	"strings"
	"testing"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/sluicedb/sluice/catalog"
	"github.com/sluicedb/sluice/expr"
	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/plan"
	"github.com/sluicedb/sluice/types"
)

// testPlanner has tables depts(id, name) and emps(id, name, dept).
func testPlanner(t *testing.T) *Planner {
	t.Helper()
	cat := catalog.New()
	for _, o := range []*catalog.Object{
		{Kind: catalog.Table, Name: "depts", Schema: types.Schema{{Name: "id", Type: types.Int4}, {Name: "name", Type: types.Text}}},
		{Kind: catalog.Table, Name: "emps", Schema: types.Schema{{Name: "id", Type: types.Int4}, {Name: "name", Type: types.Text}, {Name: "dept", Type: types.Int8}}},
	} {
		if err := cat.Add(o); err != nil {
			t.Fatal(err)
		}
	}
	return New(cat)
}

func parseSelect(t *testing.T, sql string) *pg.SelectStmt {
	t.Helper()
	res, err := pg.Parse(sql)
	if err != nil {
		t.Fatalf("parse %s: %v", sql, err)
	}
	return res.Stmts[0].Stmt.GetSelectStmt()
}

// subqueriesOf lists the subqueries in the expressions of every node of n,
// outermost first, not entering their plans.
func subqueriesOf(n plan.Node) []*expr.Subquery {
	var out []*expr.Subquery
	_ = walk(n, func(n plan.Node) error {
		for _, e := range planExprs(n) {
			out = append(out, expr.Subqueries(e)...)
		}
		return nil
	})
	return out
}

func rootOf(t *testing.T, q *expr.Subquery) plan.Node {
	t.Helper()
	sp, ok := q.Plan.(*subplan)
	if !ok {
		t.Fatalf("plan of %s is a %T", q, q.Plan)
	}
	return sp.root
}

// How subqueries bind: their kind and type, the outer values they read
// (Outer, over the enclosing row) and how their plans refer to them
// ($outerN), passed down level by level.
func TestBindSubqueries(t *testing.T) {
	tests := []struct {
		sql string
		// want lists the subqueries found walking the plan, then those of
		// their plans, each as "kind type outer=[...]"; plan holds
		// substrings of the first subquery's plan.
		want []string
		plan []string
	}{
		{
			sql:  "SELECT (SELECT max(id) FROM emps) FROM depts",
			want: []string{"scalar integer outer=[]"},
		},
		{
			sql:  "SELECT name FROM depts d WHERE EXISTS (SELECT 1 FROM emps e WHERE e.dept = d.id)",
			want: []string{"EXISTS boolean outer=[id]"},
			plan: []string{"Project true AS exists", "(dept = $outer1)"},
		},
		{
			// The int4 operand against bigint rows: the operator is
			// int4 = int8, with no conversion.
			sql:  "SELECT id IN (SELECT dept FROM emps) FROM depts",
			want: []string{"ANY boolean outer=[]"},
		},
		{
			// Names the inner FROM lacks come from outside; one value
			// read twice is one slot.
			sql:  "SELECT (SELECT count(*) FROM emps WHERE dept = depts.id AND name <> depts.name AND id <> depts.id) FROM depts",
			want: []string{"scalar bigint outer=[id name]"},
			plan: []string{"(dept = $outer1)", "(name <> $outer2)", "(id <> $outer1)"},
		},
		{
			// d.id two levels down is an outer value of the middle query,
			// which passes it to the inner one.
			sql: "SELECT name FROM depts d WHERE EXISTS (SELECT 1 FROM emps e WHERE e.dept = d.id AND " +
				"EXISTS (SELECT 1 FROM emps x WHERE x.id = e.id AND x.dept = d.id))",
			want: []string{"EXISTS boolean outer=[id]", "EXISTS boolean outer=[id $outer1]"},
			plan: []string{"(dept = $outer1)", "with $outer1 := id, $outer2 := $outer1"},
		},
		{
			// A FROM subquery of a subquery sees the queries around it.
			sql:  "SELECT (SELECT q FROM (SELECT d.id AS q) s) FROM depts d",
			want: []string{"scalar integer outer=[id]"},
			plan: []string{"Project $outer1 AS q"},
		},
	}
	p := testPlanner(t)
	for _, tc := range tests {
		t.Run(tc.sql, func(t *testing.T) {
			q, err := p.PlanSelect(parseSelect(t, tc.sql), nil)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			queue := subqueriesOf(q.Plan)
			for len(queue) > 0 {
				s := queue[0]
				queue = queue[1:]
				outer := make([]string, len(s.Outer))
				for i, o := range s.Outer {
					outer[i] = o.String()
				}
				got = append(got, s.Kind.String()+" "+s.Type().String()+" outer=["+strings.Join(outer, " ")+"]")
				queue = append(queue, subqueriesOf(rootOf(t, s))...)
			}
			if strings.Join(got, "; ") != strings.Join(tc.want, "; ") {
				t.Errorf("got  %s\nwant %s", strings.Join(got, "; "), strings.Join(tc.want, "; "))
			}
			all := subqueriesOf(q.Plan)
			for _, sub := range tc.plan {
				if len(all) == 0 || !strings.Contains(all[0].String(), sub) {
					t.Errorf("%s lacks %q", all[0], sub)
				}
			}
		})
	}
}

func TestSubqueryBindErrors(t *testing.T) {
	tests := []struct {
		sql  string
		code string
		msg  string
		pos  int
	}{
		{"SELECT (SELECT id, name FROM emps)", pgerror.SyntaxError, "subquery must return only one column", 8},
		{"SELECT 1 IN (SELECT id, name FROM emps)", pgerror.SyntaxError, "subquery has too many columns", 10},
		{"SELECT 1 IN (SELECT name FROM emps)", pgerror.UndefinedFunction, "operator does not exist: integer = text", 10},
		{"SELECT 1 + ANY (SELECT id FROM emps)", pgerror.DatatypeMismatch, "must yield type boolean", 10},
		{"SELECT (1, 2) IN (SELECT id, id FROM emps)", pgerror.FeatureNotSupported, "row comparisons", 0},
		{"SELECT ARRAY(SELECT id, name FROM emps)", pgerror.SyntaxError, "subquery must return only one column", 0},
		{"SELECT * FROM unnest(1)", pgerror.UndefinedFunction, "function unnest(integer) does not exist", 15},
		{"SELECT * FROM generate_series(1, count(*))", pgerror.GroupingError, "not allowed in functions in FROM", 0},
		{"SELECT * FROM emps, generate_series(1, 2) g(a, b)", pgerror.InvalidColumnReference, `table "g" has 1 columns available but 2 columns specified`, 0},
		{"SELECT 1 FROM depts d WHERE EXISTS (SELECT 1 FROM emps e WHERE d.nosuch = 1)", pgerror.UndefinedColumn, "column d.nosuch does not exist", 0},
		{"SELECT 1 FROM depts d WHERE EXISTS (SELECT 1 FROM emps e WHERE nosuch = 1)", pgerror.UndefinedColumn, `column "nosuch" does not exist`, 0},
		{"SELECT 1 FROM depts d WHERE EXISTS (SELECT 1 FROM emps e WHERE x.id = 1)", pgerror.UndefinedTable, `missing FROM-clause entry for table "x"`, 0},
		// Two emps in scope one level out: dept is ambiguous there.
		{"SELECT 1 FROM emps, emps e2 WHERE EXISTS (SELECT 1 FROM depts d WHERE d.id = dept)", pgerror.AmbiguousColumn, "ambiguous", 0},
		// A FROM subquery does not see the FROM items beside it.
		{"SELECT 1 FROM depts d, (SELECT d.id) s", pgerror.UndefinedTable, `missing FROM-clause entry for table "d"`, 0},
		{"SELECT dept, (SELECT name FROM depts WHERE id = emps.id) FROM emps GROUP BY dept", pgerror.GroupingError, `subquery uses ungrouped column "id" from outer query`, 0},
	}
	p := testPlanner(t)
	for _, tc := range tests {
		t.Run(tc.sql, func(t *testing.T) {
			_, err := p.PlanSelect(parseSelect(t, tc.sql), nil)
			if pgerror.Code(err) != tc.code || err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("got %v (%s), want %s %q", err, pgerror.Code(err), tc.code, tc.msg)
			}
			if tc.pos > 0 {
				if pe, ok := err.(*pgerror.Error); !ok || pe.Position != tc.pos {
					t.Errorf("position %v, want %d", err, tc.pos)
				}
			}
		})
	}
}

// Streaming plans refuse subqueries, and so do statements whose execution
// cannot run them.
func TestSubqueriesRefusedWhereTheyCannotRun(t *testing.T) {
	p := testPlanner(t)
	_, err := p.PlanView(parseSelect(t, "SELECT id, (SELECT dept FROM emps WHERE emps.dept = depts.id LIMIT 1) FROM depts"), false)
	if pgerror.Code(err) != pgerror.FeatureNotSupported || !strings.Contains(err.Error(), "materialized view") {
		t.Errorf("view: got %v, want 0A000 about materialized views", err)
	}
	res, perr := pg.Parse("DELETE FROM depts WHERE id IN (SELECT dept FROM emps)")
	if perr != nil {
		t.Fatal(perr)
	}
	_, err = p.PlanDelete(res.Stmts[0].Stmt.GetDeleteStmt(), nil)
	if pgerror.Code(err) != pgerror.FeatureNotSupported {
		t.Errorf("DELETE: got %v, want 0A000", err)
	}
}

// Statement parameters inside subqueries get their types there.
func TestParameterTypesInsideSubqueries(t *testing.T) {
	p := testPlanner(t)
	q, err := p.PlanSelect(parseSelect(t, "SELECT $1 IN (SELECT dept FROM emps WHERE name = $2)"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := []types.T{q.Params[0], q.Params[1]}; got[0] != types.Int8 || got[1] != types.Text {
		t.Errorf("parameter types %v, want [bigint text]", got)
	}
}
