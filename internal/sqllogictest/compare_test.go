package sqllogictest

import (
	"slices"
	"strings"
	"testing"
)

func TestFormatValue(t *testing.T) {
	tests := []struct {
		raw  []byte
		want string
	}{
		{nil, "NULL"},
		{[]byte{}, "(empty)"},
		{[]byte("a b"), "a b"},
		{[]byte("NULL"), "NULL"}, // the text NULL is indistinguishable, as in sqllogictest-rs
	}
	for _, tt := range tests {
		if got := formatValue(tt.raw); got != tt.want {
			t.Errorf("formatValue(%q) = %q, want %q", tt.raw, got, tt.want)
		}
	}
}

func TestFloatsClose(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"0.3333333333333333", "0.33333333333333331", true},
		{"1e20", "1.0000000001e20", true},
		{"1e20", "1.00000001e20", false},
		{"0.1", "0.1000001", false},
		{"0", "0", true},
		{"0", "1e-300", false},
		{"NaN", "NaN", true},
		{"Infinity", "Infinity", true},
		{"Infinity", "-Infinity", false},
		{"1", "one", false},
	}
	for _, tt := range tests {
		if got := floatsClose(tt.a, tt.b); got != tt.want {
			t.Errorf("floatsClose(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestCheckColumnKinds(t *testing.T) {
	tests := []struct {
		types string
		row   []string
		want  string // "" when the row fits
	}{
		{"ITRB?", []string{"-12", "x y", "1.5e3", "t", "{1}"}, ""},
		{"IRB", []string{"NULL", "NULL", "NULL"}, ""},
		{"R", []string{"-Infinity"}, ""},
		{"I", []string{"1.0"}, `row 1 column 1 is declared I but the server returned "1.0"`},
		{"TB", []string{"a", "true"}, `row 1 column 2 is declared B but the server returned "true"`},
		{"R", []string{"abc"}, `row 1 column 1 is declared R but the server returned "abc"`},
	}
	for _, tt := range tests {
		err := checkColumnKinds(tt.types, [][]string{tt.row})
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("checkColumnKinds(%q, %q) = %q, want %q", tt.types, tt.row, got, tt.want)
		}
	}
}

func TestResultLines(t *testing.T) {
	rows := [][]string{{"2", "b"}, {"10", "a"}, {"1", "c"}}
	tests := []struct {
		mode sortMode
		want []string
	}{
		{noSort, []string{"2 b", "10 a", "1 c"}},
		{rowSort, []string{"1 c", "10 a", "2 b"}}, // sorted as strings
		{valueSort, []string{"1", "10", "2", "a", "b", "c"}},
	}
	for _, tt := range tests {
		got, cells := resultLines(rows, tt.mode)
		if !slices.Equal(got, tt.want) {
			t.Errorf("mode %d: got %q, want %q", tt.mode, got, tt.want)
		}
		for i, c := range cells {
			if strings.Join(c, " ") != got[i] {
				t.Errorf("mode %d: cells %q do not make line %q", tt.mode, c, got[i])
			}
		}
	}
	if !slices.Equal(rows[0], []string{"2", "b"}) {
		t.Errorf("resultLines reordered its input")
	}
}

func TestLineMatcher(t *testing.T) {
	tests := []struct {
		types, expected string
		actual          []string
		mode            sortMode
		want            bool
	}{
		{"IT", "1 a b", []string{"1", "a b"}, noSort, true},
		{"TR", "x 0.33333333333333331", []string{"x", "0.3333333333333333"}, noSort, true},
		{"TR", "y 0.33333333333333331", []string{"x", "0.3333333333333333"}, noSort, false},
		{"IT", "1 a", []string{"2", "a"}, noSort, false},
		{"II", "1.0 2", []string{"1", "2"}, noSort, false}, // tolerance is for R columns only
		{"RR", "0.1", []string{"0.1000000000000001"}, valueSort, true},
		{"TR", "1 2 3", []string{"1 2", "3"}, noSort, true},             // equal lines need no split
		{"TR", "1 2 3.0000000001", []string{"1 2", "3"}, noSort, false}, // a value with a space defeats the split
	}
	for _, tt := range tests {
		m := lineMatcher{types: tt.types, mode: tt.mode}
		if got := m.match(tt.expected, strings.Join(tt.actual, " "), tt.actual); got != tt.want {
			t.Errorf("match(%q, %q) with types %s = %v, want %v", tt.expected, tt.actual, tt.types, got, tt.want)
		}
	}
}

func TestLineDiff(t *testing.T) {
	expected := []string{"a", "b", "c", "d"}
	actual := []string{"a", "c", "x", "d", "e"}
	got := lineDiff(expected, actual, func(i, j int) bool { return expected[i] == actual[j] })
	want := "  a\n- b\n  c\n+ x\n  d\n+ e\n"
	if got != want {
		t.Errorf("diff:\n%s\nwant:\n%s", got, want)
	}
	got = lineDiff([]string{"old"}, []string{"new"}, func(i, j int) bool { return false })
	if want := "- old\n+ new\n"; got != want {
		t.Errorf("replacement diff:\n%s\nwant:\n%s", got, want)
	}
}
