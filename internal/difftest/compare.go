package difftest

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// Value is one value of a result as the server sent it in the text format.
type Value struct {
	Text string
	Null bool
}

// Null is the SQL NULL.
var Null = Value{Null: true}

// Text is a non-NULL value.
func Text(s string) Value { return Value{Text: s} }

func (v Value) String() string {
	switch {
	case v.Null:
		return "NULL"
	case v.Text == "":
		return "''"
	default:
		return v.Text
	}
}

// Column is a result column's name and type.
type Column struct {
	Name    string
	TypeOID uint32
}

// Result is what a query returned, in the text format.
type Result struct {
	Columns []Column
	Rows    [][]Value
}

// Query runs sql over the simple query protocol, so that every value arrives
// in the text format exactly as psql shows it.
func Query(ctx context.Context, conn *pgx.Conn, sql string) (Result, error) {
	rows, err := conn.Query(ctx, sql, pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		return Result{}, err
	}
	defer rows.Close()
	var res Result
	for _, f := range rows.FieldDescriptions() {
		res.Columns = append(res.Columns, Column{Name: f.Name, TypeOID: f.DataTypeOID})
	}
	for rows.Next() {
		raw := rows.RawValues()
		row := make([]Value, len(raw))
		for i, b := range raw {
			if b == nil {
				row[i] = Null
			} else {
				row[i] = Text(string(b))
			}
		}
		res.Rows = append(res.Rows, row)
	}
	return res, rows.Err()
}

// Tolerance is the relative difference under which two floating-point or
// non-integral numeric values are equal: sums of floats depend on the order
// of the additions, and Sluice's NUMERIC is a float64.
const Tolerance = 1e-9

// Diff is how a result differs from the expected one.
type Diff struct {
	// Columns lists differences in column names and types.
	Columns []string
	// Missing rows are expected but absent; Extra rows are there but not
	// expected. Both are multisets: a row expected twice and present once
	// is missing once.
	Missing, Extra [][]Value
	// GotRows and WantRows count the rows of both sides.
	GotRows, WantRows int
	columns           []Column
}

// Empty reports whether the results agree.
func (d Diff) Empty() bool { return len(d.Columns) == 0 && len(d.Missing) == 0 && len(d.Extra) == 0 }

// maxShownRows bounds the rows a diff prints; the counts are always exact.
const maxShownRows = 30

// String shows the differences: column problems, then the missing (-) and
// extra (+) rows in sorted order, so that a row of a group with a wrong value
// appears as a - and + pair.
func (d Diff) String() string {
	var b strings.Builder
	for _, c := range d.Columns {
		fmt.Fprintf(&b, "%s\n", c)
	}
	if len(d.Missing) == 0 && len(d.Extra) == 0 {
		return b.String()
	}
	fmt.Fprintf(&b, "Sluice has %d rows, PostgreSQL %d: %d missing (-), %d extra (+)\n",
		d.GotRows, d.WantRows, len(d.Missing), len(d.Extra))
	names := make([]string, len(d.columns))
	for i, c := range d.columns {
		names[i] = c.Name
	}
	fmt.Fprintf(&b, "    %s\n", strings.Join(names, " | "))
	type line struct {
		sign string
		row  []Value
	}
	var lines []line
	for _, r := range d.Missing {
		lines = append(lines, line{"-", r})
	}
	for _, r := range d.Extra {
		lines = append(lines, line{"+", r})
	}
	sort.SliceStable(lines, func(i, j int) bool { return compareRows(lines[i].row, lines[j].row) < 0 })
	for i, l := range lines {
		if i == maxShownRows {
			fmt.Fprintf(&b, "  ... and %d more\n", len(lines)-i)
			break
		}
		cells := make([]string, len(l.row))
		for j, v := range l.row {
			cells[j] = v.String()
		}
		fmt.Fprintf(&b, "  %s %s\n", l.sign, strings.Join(cells, " | "))
	}
	return b.String()
}

// Compare compares a result (got, from Sluice) with the expected one (want,
// from PostgreSQL) as multisets of rows. Column names and types must match.
// Values compare by their text, except in floating-point and numeric columns,
// where values that are not both integers are equal within Tolerance, so that
// PostgreSQL's exact numeric avg matches Sluice's float.
func Compare(got, want Result) Diff {
	d := Diff{GotRows: len(got.Rows), WantRows: len(want.Rows), columns: want.Columns}
	types := pgtype.NewMap()
	typeName := func(oid uint32) string {
		if t, ok := types.TypeForOID(oid); ok {
			return t.Name
		}
		return fmt.Sprintf("oid %d", oid)
	}
	if len(got.Columns) != len(want.Columns) {
		d.Columns = append(d.Columns, fmt.Sprintf("Sluice has %d columns (%s), PostgreSQL %d (%s)",
			len(got.Columns), columnList(got.Columns, typeName), len(want.Columns), columnList(want.Columns, typeName)))
		return d
	}
	approx := make([]bool, len(want.Columns))
	for i, w := range want.Columns {
		g := got.Columns[i]
		if g.Name != w.Name || g.TypeOID != w.TypeOID {
			d.Columns = append(d.Columns, fmt.Sprintf("column %d: Sluice has %s %s, PostgreSQL %s %s",
				i+1, g.Name, typeName(g.TypeOID), w.Name, typeName(w.TypeOID)))
		}
		switch w.TypeOID {
		case pgtype.Float4OID, pgtype.Float8OID, pgtype.NumericOID:
			approx[i] = true
		}
	}
	gotRows, wantRows := sortedCopy(got.Rows), sortedCopy(want.Rows)
	equal := func(a, b []Value) bool { return rowsEqual(a, b, approx) }
	// Merge the two sorted lists; rows that differ only within the tolerance
	// may sort in a different order on each side, so whatever is left over
	// is paired up once more by brute force.
	var missing, extra [][]Value
	i, j := 0, 0
	for i < len(gotRows) && j < len(wantRows) {
		switch {
		case equal(gotRows[i], wantRows[j]):
			i++
			j++
		case compareRows(gotRows[i], wantRows[j]) < 0:
			extra = append(extra, gotRows[i])
			i++
		default:
			missing = append(missing, wantRows[j])
			j++
		}
	}
	extra = append(extra, gotRows[i:]...)
	missing = append(missing, wantRows[j:]...)
	for _, e := range extra {
		matched := false
		for k, m := range missing {
			if equal(e, m) {
				missing = append(missing[:k], missing[k+1:]...)
				matched = true
				break
			}
		}
		if !matched {
			d.Extra = append(d.Extra, e)
		}
	}
	d.Missing = missing
	return d
}

func columnList(cols []Column, typeName func(uint32) string) string {
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = c.Name + " " + typeName(c.TypeOID)
	}
	return strings.Join(parts, ", ")
}

func sortedCopy(rows [][]Value) [][]Value {
	out := append([][]Value(nil), rows...)
	sort.SliceStable(out, func(i, j int) bool { return compareRows(out[i], out[j]) < 0 })
	return out
}

// compareRows orders rows the same way whichever server produced them: NULL
// first, numbers by value, anything else by bytes (no collation).
func compareRows(a, b []Value) int {
	for i := 0; i < min(len(a), len(b)); i++ {
		if c := compareValues(a[i], b[i]); c != 0 {
			return c
		}
	}
	return len(a) - len(b)
}

func compareValues(a, b Value) int {
	switch {
	case a.Null && b.Null:
		return 0
	case a.Null:
		return -1
	case b.Null:
		return 1
	}
	x, errA := strconv.ParseFloat(a.Text, 64)
	y, errB := strconv.ParseFloat(b.Text, 64)
	if errA == nil && errB == nil {
		// NaN sorts above every number, as in PostgreSQL.
		switch nanX, nanY := math.IsNaN(x), math.IsNaN(y); {
		case nanX && !nanY:
			return 1
		case nanY && !nanX:
			return -1
		case x < y:
			return -1
		case x > y:
			return 1
		}
	}
	return strings.Compare(a.Text, b.Text)
}

func rowsEqual(a, b []Value, approx []bool) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !valuesEqual(a[i], b[i], i < len(approx) && approx[i]) {
			return false
		}
	}
	return true
}

var integerText = regexp.MustCompile(`^-?[0-9]+$`)

func valuesEqual(a, b Value, approx bool) bool {
	if a.Null || b.Null {
		return a.Null == b.Null
	}
	if a.Text == b.Text {
		return true
	}
	if !approx {
		return false
	}
	x, errA := strconv.ParseFloat(a.Text, 64)
	y, errB := strconv.ParseFloat(b.Text, 64)
	if errA != nil || errB != nil {
		return false
	}
	if integerText.MatchString(a.Text) && integerText.MatchString(b.Text) &&
		math.Abs(x) <= 1<<53 && math.Abs(y) <= 1<<53 {
		// Integral sums are exact on both sides (Sluice's NUMERIC is exact
		// to 2^53), so they must match to the digit.
		return false
	}
	if x == y {
		return true
	}
	if math.IsInf(x, 0) || math.IsInf(y, 0) || math.IsNaN(x) || math.IsNaN(y) {
		return false
	}
	return math.Abs(x-y) <= Tolerance*math.Max(math.Abs(x), math.Abs(y))
}
