package sqllogictest

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// columnTypeLetters are the column types a query header may declare:
// I integer, T text, R floating point, B boolean, ? anything.
const columnTypeLetters = "ITRB?"

// floatTolerance is the relative difference under which two R values are
// equal, so that a file need not pin the last digit of a float computation.
const floatTolerance = 1e-9

// formatValue renders one text-format value as it is written in a file.
// NULL and the empty string get names because the file format cannot show
// them otherwise: an empty line ends the expected block.
func formatValue(raw []byte) string {
	switch {
	case raw == nil:
		return "NULL"
	case len(raw) == 0:
		return "(empty)"
	default:
		return string(raw)
	}
}

var integerText = regexp.MustCompile(`^[-+]?[0-9]+$`)

// checkColumnKinds verifies that every value has the shape its column's
// declared type promises, which catches a server returning, say, 2.5 for an
// integer column before the values are compared.
func checkColumnKinds(types string, rows [][]string) error {
	for i, row := range rows {
		for j, v := range row {
			if v == "NULL" {
				continue
			}
			kind := types[j]
			ok := true
			switch kind {
			case 'I':
				ok = integerText.MatchString(v)
			case 'R':
				ok = isFloat(v)
			case 'B':
				ok = v == "t" || v == "f"
			}
			if !ok {
				return fmt.Errorf("row %d column %d is declared %c but the server returned %q", i+1, j+1, kind, v)
			}
		}
	}
	return nil
}

func isFloat(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return err == nil || isRangeError(err)
}

func isRangeError(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// floatsClose reports whether two float renderings are equal within
// floatTolerance. Values that do not parse as floats never are.
func floatsClose(a, b string) bool {
	x, errA := strconv.ParseFloat(a, 64)
	y, errB := strconv.ParseFloat(b, 64)
	if (errA != nil && !isRangeError(errA)) || (errB != nil && !isRangeError(errB)) {
		return false
	}
	if x == y || (math.IsNaN(x) && math.IsNaN(y)) {
		return true
	}
	if math.IsInf(x, 0) || math.IsInf(y, 0) {
		return false
	}
	return math.Abs(x-y) <= floatTolerance*math.Max(math.Abs(x), math.Abs(y))
}

// resultLines lays out rows as the lines of an expected block under the
// record's sort mode: one row per line with values separated by one space, or
// one value per line for valuesort. Rows are sorted by their rendered line,
// which is how expected blocks are sorted too.
func resultLines(rows [][]string, mode sortMode) (lines []string, cells [][]string) {
	switch mode {
	case valueSort:
		for _, row := range rows {
			for _, v := range row {
				lines = append(lines, v)
			}
		}
		sort.Strings(lines)
		cells = make([][]string, len(lines))
		for i, v := range lines {
			cells[i] = []string{v}
		}
		return lines, cells
	default:
		cells = make([][]string, len(rows))
		copy(cells, rows)
		if mode == rowSort {
			sort.SliceStable(cells, func(i, j int) bool {
				return strings.Join(cells[i], " ") < strings.Join(cells[j], " ")
			})
		}
		lines = make([]string, len(cells))
		for i, row := range cells {
			lines[i] = strings.Join(row, " ")
		}
		return lines, cells
	}
}

// lineMatcher compares one expected line with one actual line, given the
// actual line's values. Lines equal byte for byte match; otherwise, when the
// query has R columns, the expected line is split on single spaces and R
// columns are compared numerically.
type lineMatcher struct {
	types string
	mode  sortMode
}

func (m lineMatcher) match(expected string, actualLine string, actualCells []string) bool {
	if expected == actualLine {
		return true
	}
	if !strings.ContainsRune(m.types, 'R') {
		return false
	}
	if m.mode == valueSort {
		return floatsClose(expected, actualLine)
	}
	want := strings.Split(expected, " ")
	if len(want) != len(actualCells) {
		return false
	}
	for i, w := range want {
		if w == actualCells[i] {
			continue
		}
		if m.types[i] != 'R' || !floatsClose(w, actualCells[i]) {
			return false
		}
	}
	return true
}

// sortExpected orders an expected block the way actual rows are ordered, so
// that a file may list rowsort and valuesort results in any order.
func sortExpected(expected []string, mode sortMode) []string {
	if mode == noSort {
		return expected
	}
	sorted := append([]string(nil), expected...)
	sort.Strings(sorted)
	return sorted
}

// resultsMatch compares an expected block with actual lines, both already in
// the order of the record's sort mode.
func (m lineMatcher) resultsMatch(expected, actualLines []string, actualCells [][]string) bool {
	if len(expected) != len(actualLines) {
		return false
	}
	for i := range expected {
		if !m.match(expected[i], actualLines[i], actualCells[i]) {
			return false
		}
	}
	return true
}

// maxDiffCells bounds the work of the line diff; beyond it the two blocks are
// shown one after the other, which is still readable and never quadratic.
const maxDiffCells = 4 << 20

// lineDiff renders a unified-style diff of expected against actual, every line
// shown: "  " common, "- " only expected, "+ " only actual. equal decides
// whether expected[i] and actual[j] are the same line.
func lineDiff(expected, actual []string, equal func(i, j int) bool) string {
	var b strings.Builder
	n, m := len(expected), len(actual)
	if n*m > maxDiffCells {
		for _, l := range expected {
			b.WriteString("- " + l + "\n")
		}
		for _, l := range actual {
			b.WriteString("+ " + l + "\n")
		}
		return b.String()
	}
	// lcs[i][j] is the length of the longest common subsequence of
	// expected[i:] and actual[j:].
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if equal(i, j) {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && equal(i, j):
			b.WriteString("  " + expected[i] + "\n")
			i++
			j++
		case i < n && (j == m || lcs[i+1][j] >= lcs[i][j+1]):
			b.WriteString("- " + expected[i] + "\n")
			i++
		default:
			b.WriteString("+ " + actual[j] + "\n")
			j++
		}
	}
	return b.String()
}
