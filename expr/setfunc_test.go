package expr

import (
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/types"
)

// TestSetFuncs resolves set-returning functions as PostgreSQL does and
// checks their values, read in pieces of two so that every resumption is
// exercised.
func TestSetFuncs(t *testing.T) {
	ts := func(s string) Expr { return &Const{Value: mustParse(t, s, types.Timestamp), T: types.Timestamp} }
	tests := []struct {
		name string
		args []Expr
		ret  types.T
		want string // the values' text, space-separated
	}{
		{"generate_series", []Expr{sfUntyped("1"), sfUntyped("5")}, types.Int4, "1 2 3 4 5"},
		{"generate_series", []Expr{sfInt4(1), sfInt4(3)}, types.Int4, "1 2 3"},
		{"generate_series", []Expr{sfInt4(5), sfInt4(1), sfInt4(-2)}, types.Int4, "5 3 1"},
		{"generate_series", []Expr{sfInt4(5), sfInt4(1)}, types.Int4, ""},
		{"generate_series", []Expr{sfInt4(2147483646), sfInt4(2147483647)}, types.Int4, "2147483646 2147483647"},
		{"generate_series", []Expr{sfInt8(1), sfInt4(3)}, types.Int8, "1 2 3"},
		{"generate_series", []Expr{sfInt4(1), &Const{T: types.Int4}}, types.Int4, ""},
		{"generate_series", []Expr{sfNumeric(0), sfNumeric(0.3), sfNumeric(0.1)}, types.Numeric, "0 0.1 0.2 0.3"},
		{"generate_series", []Expr{ts("2020-01-31"), ts("2020-04-30"), &Const{Value: types.IntervalValue{Months: 1}, T: types.Interval}},
			types.Timestamp, "2020-01-31 00:00:00 2020-02-29 00:00:00 2020-03-29 00:00:00 2020-04-29 00:00:00"},
		{"unnest", []Expr{&Const{Value: `{a,NULL,"b c"}`, T: types.ArrayOf(types.Text)}}, types.Text, "a NULL b c"},
		{"unnest", []Expr{&Const{Value: `{{1,2},{3,4}}`, T: types.ArrayOf(types.Int4)}}, types.Int4, "1 2 3 4"},
		{"unnest", []Expr{&Const{Value: `{}`, T: types.ArrayOf(types.Int4)}}, types.Int4, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, args, err := ResolveSetFunc(tc.name, tc.args)
			if err != nil {
				t.Fatal(err)
			}
			if f.Ret != tc.ret {
				t.Fatalf("%s returns %s, want %s", f, f.Ret, tc.ret)
			}
			datums := make([]types.Datum, len(args))
			for i, a := range args {
				folded, err := Fold(a)
				if err != nil {
					t.Fatal(err)
				}
				datums[i] = folded.(*Const).Value
			}
			rows, err := f.Start(datums)
			if err != nil {
				t.Fatal(err)
			}
			b := array.NewBuilder(memory.DefaultAllocator, f.Ret.Arrow())
			defer b.Release()
			for {
				n, err := rows.Next(b, 2)
				if err != nil {
					t.Fatal(err)
				}
				if n == 0 {
					break
				}
			}
			arr := b.NewArray()
			defer arr.Release()
			var got []string
			for i := 0; i < arr.Len(); i++ {
				if arr.IsNull(i) {
					got = append(got, "NULL")
					continue
				}
				got = append(got, string(types.AppendText(nil, arr, i, f.Ret)))
			}
			if s := strings.Join(got, " "); s != tc.want {
				t.Errorf("%s: got %q, want %q", f, s, tc.want)
			}
		})
	}
}

func TestSetFuncErrors(t *testing.T) {
	tests := []struct {
		name string
		args []Expr
		code string
	}{
		{"unnest", []Expr{sfUntyped("{1}")}, pgerror.AmbiguousFunction},
		{"unnest", []Expr{sfInt4(1)}, pgerror.UndefinedFunction},
		{"generate_series", []Expr{&Const{Value: 1.5, T: types.Float8}, sfInt4(3)}, pgerror.UndefinedFunction},
		{"generate_series", []Expr{sfInt4(1)}, pgerror.UndefinedFunction},
		{"json_each", []Expr{sfUntyped("{}")}, pgerror.FeatureNotSupported},
	}
	for _, tc := range tests {
		if _, _, err := ResolveSetFunc(tc.name, tc.args); pgerror.Code(err) != tc.code {
			t.Errorf("%s(%v): got %v, want %s", tc.name, tc.args, err, tc.code)
		}
	}
	f, _, _ := ResolveSetFunc("generate_series", []Expr{sfInt4(1), sfInt4(2), sfInt4(0)})
	if _, err := f.Start([]types.Datum{int32(1), int32(2), int32(0)}); pgerror.Code(err) != pgerror.InvalidParameterValue {
		t.Errorf("a zero step: got %v, want 22023", err)
	}
}

func sfUntyped(s string) Expr  { return &Const{Value: s, T: types.Unknown} }
func sfInt4(v int32) Expr      { return &Const{Value: v, T: types.Int4} }
func sfInt8(v int64) Expr      { return &Const{Value: v, T: types.Int8} }
func sfNumeric(v float64) Expr { return &Const{Value: v, T: types.Numeric} }

func mustParse(t *testing.T, s string, typ types.T) types.Datum {
	t.Helper()
	d, err := types.ParseText(s, typ)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
