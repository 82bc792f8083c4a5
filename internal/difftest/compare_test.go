package difftest

import (
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgtype"
)

// result builds a Result whose columns have the given types and are named
// a, b, c...; in rows, the word NULL is the SQL NULL.
func result(types []uint32, rows ...[]string) Result {
	res := Result{}
	for i, oid := range types {
		res.Columns = append(res.Columns, Column{Name: string(rune('a' + i)), TypeOID: oid})
	}
	for _, r := range rows {
		row := make([]Value, len(r))
		for i, v := range r {
			if v == "NULL" {
				row[i] = Null
			} else {
				row[i] = Text(v)
			}
		}
		res.Rows = append(res.Rows, row)
	}
	return res
}

func TestCompare(t *testing.T) {
	intText := []uint32{pgtype.Int8OID, pgtype.TextOID}
	intFloat := []uint32{pgtype.Int8OID, pgtype.Float8OID}
	intNumeric := []uint32{pgtype.Int8OID, pgtype.NumericOID}
	tests := []struct {
		name        string
		got, want   Result
		wantMissing int
		wantExtra   int
		wantColumns bool
	}{
		{
			name: "the same rows in another order are equal",
			got:  result(intText, []string{"2", "b"}, []string{"1", "a"}),
			want: result(intText, []string{"1", "a"}, []string{"2", "b"}),
		},
		{
			name:        "a row PostgreSQL has and Sluice does not is missing",
			got:         result(intText, []string{"1", "a"}),
			want:        result(intText, []string{"1", "a"}, []string{"2", "b"}),
			wantMissing: 1,
		},
		{
			name:      "a row Sluice has and PostgreSQL does not is extra",
			got:       result(intText, []string{"1", "a"}, []string{"3", "c"}),
			want:      result(intText, []string{"1", "a"}),
			wantExtra: 1,
		},
		{
			name:        "a wrong value is one missing and one extra row",
			got:         result(intText, []string{"1", "a"}, []string{"2", "x"}),
			want:        result(intText, []string{"1", "a"}, []string{"2", "b"}),
			wantMissing: 1, wantExtra: 1,
		},
		{
			name:        "rows are a multiset: a duplicate counts",
			got:         result(intText, []string{"1", "a"}),
			want:        result(intText, []string{"1", "a"}, []string{"1", "a"}),
			wantMissing: 1,
		},
		{
			name:        "NULL is not the empty string",
			got:         result(intText, []string{"1", ""}),
			want:        result(intText, []string{"1", "NULL"}),
			wantMissing: 1, wantExtra: 1,
		},
		{
			name: "floats are equal within the tolerance",
			got:  result(intFloat, []string{"1", "0.30000000000000004"}),
			want: result(intFloat, []string{"1", "0.3"}),
		},
		{
			name:        "floats beyond the tolerance differ",
			got:         result(intFloat, []string{"1", "0.3001"}),
			want:        result(intFloat, []string{"1", "0.3"}),
			wantMissing: 1, wantExtra: 1,
		},
		{
			name: "a numeric average compares with a float one by value",
			got:  result(intNumeric, []string{"1", "12.333333333333334"}),
			want: result(intNumeric, []string{"1", "12.3333333333333333"}),
		},
		{
			name:        "integral numerics must match to the digit",
			got:         result(intNumeric, []string{"1", "1000000000001"}),
			want:        result(intNumeric, []string{"1", "1000000000000"}),
			wantMissing: 1, wantExtra: 1,
		},
		{
			name:        "integers are never approximate",
			got:         result([]uint32{pgtype.Int8OID}, []string{"1000000000001"}),
			want:        result([]uint32{pgtype.Int8OID}, []string{"1000000000000"}),
			wantMissing: 1, wantExtra: 1,
		},
		{
			name:        "-0 is not 0",
			got:         result(intFloat, []string{"1", "0"}),
			want:        result(intFloat, []string{"1", "-0"}),
			wantMissing: 1, wantExtra: 1,
		},
		{
			name: "NaN and infinities compare by their text",
			got:  result(intFloat, []string{"1", "NaN"}, []string{"2", "-Infinity"}),
			want: result(intFloat, []string{"2", "-Infinity"}, []string{"1", "NaN"}),
		},
		{
			name: "rows that sort apart only within the tolerance still pair up",
			got:  result([]uint32{pgtype.Float8OID, pgtype.Int8OID}, []string{"1.0000000000000002", "2"}, []string{"1", "1"}),
			want: result([]uint32{pgtype.Float8OID, pgtype.Int8OID}, []string{"1", "2"}, []string{"1.0000000000000002", "1"}),
		},
		{
			name:        "a column's type must match",
			got:         result([]uint32{pgtype.Int4OID}, []string{"1"}),
			want:        result([]uint32{pgtype.Int8OID}, []string{"1"}),
			wantColumns: true,
		},
		{
			name: "a column's name must match",
			got:  Result{Columns: []Column{{Name: "count", TypeOID: pgtype.Int8OID}}},
			want: Result{Columns: []Column{{Name: "n", TypeOID: pgtype.Int8OID}}},

			wantColumns: true,
		},
		{
			name:        "the number of columns must match",
			got:         result(intText),
			want:        result([]uint32{pgtype.Int8OID}),
			wantColumns: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Compare(tt.got, tt.want)
			if len(d.Missing) != tt.wantMissing || len(d.Extra) != tt.wantExtra || (len(d.Columns) > 0) != tt.wantColumns {
				t.Errorf("%d missing, %d extra, column problems %q; want %d, %d, %v\n%s",
					len(d.Missing), len(d.Extra), d.Columns, tt.wantMissing, tt.wantExtra, tt.wantColumns, d)
			}
			wantEmpty := tt.wantMissing == 0 && tt.wantExtra == 0 && !tt.wantColumns
			if d.Empty() != wantEmpty {
				t.Errorf("Empty() = %v, want %v", d.Empty(), wantEmpty)
			}
		})
	}
}

// TestDiffReportsAMismatch deliberately compares two different results and
// checks that the report shows both sides of every difference.
func TestDiffReportsAMismatch(t *testing.T) {
	types := []uint32{pgtype.TimestampOID, pgtype.Int4OID, pgtype.Int8OID}
	got := result(types,
		[]string{"2026-03-01 12:00:00", "1", "3"},
		[]string{"2026-03-01 12:00:10", "1", "5"},
		[]string{"2026-03-01 12:00:20", "2", "1"})
	want := result(types,
		[]string{"2026-03-01 12:00:00", "1", "3"},
		[]string{"2026-03-01 12:00:10", "1", "4"},
		[]string{"2026-03-01 12:00:10", "NULL", "1"})
	d := Compare(got, want)
	if d.Empty() {
		t.Fatal("different results compare equal")
	}
	report := d.String()
	for _, line := range []string{
		"Sluice has 3 rows, PostgreSQL 3: 2 missing (-), 2 extra (+)",
		"    a | b | c",
		"  - 2026-03-01 12:00:10 | NULL | 1",
		"  - 2026-03-01 12:00:10 | 1 | 4",
		"  + 2026-03-01 12:00:10 | 1 | 5",
		"  + 2026-03-01 12:00:20 | 2 | 1",
	} {
		if !strings.Contains(report, line+"\n") {
			t.Errorf("the report lacks the line %q:\n%s", line, report)
		}
	}
	if strings.Contains(report, "12:00:00") {
		t.Errorf("the report shows a row both sides agree on:\n%s", report)
	}
	// The wrong value shows as a - line next to its + line.
	if i, j := strings.Index(report, "| 1 | 4"), strings.Index(report, "| 1 | 5"); j < i || strings.Count(report[i:j], "\n") != 1 {
		t.Errorf("the two sides of the wrong value are not adjacent:\n%s", report)
	}
}

func TestDiffShortensLongReports(t *testing.T) {
	types := []uint32{pgtype.Int8OID}
	var rows [][]string
	for i := 0; i < 100; i++ {
		rows = append(rows, []string{strings.Repeat("1", i+1)})
	}
	report := Compare(result(types), result(types, rows...)).String()
	if !strings.Contains(report, "100 missing") || !strings.Contains(report, "... and 70 more") {
		t.Errorf("report of 100 missing rows:\n%s", report)
	}
}
