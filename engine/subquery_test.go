package engine_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// TestSubqueriesOverTheWire covers what the simple-protocol sqllogictest
// file (testdata/sql/subqueries.slt) cannot: parameters of a prepared
// statement inside subqueries, whose types are inferred there, and the
// names PostgreSQL gives subqueries in the SELECT list.
func TestSubqueriesOverTheWire(t *testing.T) {
	connect, _ := startServer(t)
	ctx := t.Context()
	conn, err := connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, sql := range []string{
		"CREATE TABLE depts (id INT PRIMARY KEY, name TEXT, budget BIGINT)",
		"CREATE TABLE emps (id INT PRIMARY KEY, name TEXT, dept INT)",
		"INSERT INTO depts VALUES (1, 'eng', 1000), (2, 'ops', 500), (3, 'law', 300)",
		"INSERT INTO emps VALUES (1, 'ann', 1), (2, 'bo', 1), (3, 'cy', 2), (4, 'di', 3)",
	} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}

	tests := []struct {
		name string
		sql  string
		args []any
		cols string // the result's column names
		want string // the rows, values separated by spaces, rows by "|"
	}{
		{
			name: "parameter in the inner query",
			sql:  "SELECT name FROM emps WHERE dept IN (SELECT id FROM depts WHERE budget > $1) ORDER BY name",
			args: []any{400},
			cols: "name",
			want: "ann|bo|cy",
		},
		{
			name: "parameter as the left operand of IN",
			sql:  "SELECT $1 IN (SELECT dept FROM emps), $2 NOT IN (SELECT dept FROM emps)",
			args: []any{3, 4},
			cols: "?column? ?column?",
			want: "true true",
		},
		{
			name: "parameter beside an outer reference, two levels down",
			sql: "SELECT name FROM depts d WHERE EXISTS (SELECT 1 FROM emps e WHERE e.dept = d.id AND EXISTS " +
				"(SELECT 1 FROM depts x WHERE x.id = d.id AND x.budget >= $1)) ORDER BY name",
			args: []any{500},
			cols: "name",
			want: "eng|ops",
		},
		{
			name: "names of subqueries in the SELECT list",
			sql:  "SELECT (SELECT 1 AS one), (SELECT name FROM depts WHERE id = 1), EXISTS (SELECT 1), 1 IN (SELECT 1), (SELECT count(*) FROM emps) AS n",
			cols: "one name exists ?column? n",
			want: "1 eng true true 4",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, err := conn.Query(ctx, tt.sql, tt.args...)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for rows.Next() {
				vals, err := rows.Values()
				if err != nil {
					t.Fatal(err)
				}
				parts := make([]string, len(vals))
				for i, v := range vals {
					parts[i] = fmt.Sprint(v)
				}
				got = append(got, strings.Join(parts, " "))
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			if cols := fieldNames(rows.FieldDescriptions()); cols != tt.cols {
				t.Errorf("columns %q, want %q", cols, tt.cols)
			}
			if g := strings.Join(got, "|"); g != tt.want {
				t.Errorf("rows %q, want %q", g, tt.want)
			}
		})
	}
}

func TestTableFunctionTakesParameters(t *testing.T) {
	ctx := context.Background()
	connect, _ := startServer(t)
	conn, err := connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n, sum int64
	if err := conn.QueryRow(ctx, "SELECT count(*), sum(g) FROM generate_series(1, $1) AS g", 10).Scan(&n, &sum); err != nil {
		t.Fatal(err)
	}
	if n != 10 || sum != 55 {
		t.Fatalf("count %d sum %d, want 10 and 55", n, sum)
	}
}
