package expr

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/types"
)

// Evaluation over the test table (row 3 is all NULL; i4 is 10, -3,
// 2147483647, NULL, 0), in strict mode (the first failing row fails the
// batch) and lenient mode (failing rows are NULL and counted).
func TestEvalStrictAndLenient(t *testing.T) {
	tests := []struct {
		sql        string
		strictCode string   // empty: strict evaluation succeeds with lenient's rows
		lenient    []string // rows in lenient mode
		failed     int64    // rows counted as failed in lenient mode
	}{
		{"i4 + 1", pgerror.NumericValueOutOfRange, []string{"11", "-2", "NULL", "NULL", "1"}, 1},
		{"i2 * 2::int2", pgerror.NumericValueOutOfRange, []string{"2", "-10", "NULL", "NULL", "0"}, 1},
		{"i8 + 1", pgerror.NumericValueOutOfRange, []string{"101", "8", "NULL", "NULL", "1"}, 1},
		{"i8 * i8", pgerror.NumericValueOutOfRange, []string{"10000", "49", "NULL", "NULL", "0"}, 1},
		{"-i8 - 2", pgerror.NumericValueOutOfRange, []string{"-102", "-9", "NULL", "NULL", "-2"}, 1},
		{"100 / i4", pgerror.DivisionByZero, []string{"10", "-33", "0", "NULL", "NULL"}, 1},
		{"i4 % 0", pgerror.DivisionByZero, []string{"NULL", "NULL", "NULL", "NULL", "NULL"}, 4},
		{"f8 * 10", pgerror.NumericValueOutOfRange, []string{"25", "-1", "NULL", "NULL", "NaN"}, 1},
		{"f4 * 1e10::real", pgerror.NumericValueOutOfRange, []string{"1.5000001e+10", "-2.25e+10", "NULL", "NULL", "0"}, 1},
		{"n / (n - n)", pgerror.DivisionByZero, []string{"NULL", "NULL", "NULL", "NULL", "NULL"}, 4},
		{"i8::int4", pgerror.NumericValueOutOfRange, []string{"100", "7", "NULL", "NULL", "0"}, 1},
		{"f4::int2", pgerror.NumericValueOutOfRange, []string{"2", "-2", "NULL", "NULL", "0"}, 1},
		{"t::int", pgerror.InvalidTextRepresentation, []string{"NULL", "NULL", "NULL", "NULL", "NULL"}, 4},
		{"d + iv", "", []string{"2024-03-02 03:04:05", "2000-02-28 00:00:00", "2001-02-28 00:00:00", "NULL", "2026-06-15 00:00:00.5"}, 0},
		// A failed row is NULL as a whole: COALESCE does not replace it.
		{"coalesce(100 / i4, -1)", pgerror.DivisionByZero, []string{"10", "-33", "0", "-1", "NULL"}, 1},
		// Arms and arguments that a row does not reach cannot fail it.
		{"CASE WHEN i4 <> 0 THEN 100 / i4 ELSE 0 END", "", []string{"10", "-33", "0", "0", "0"}, 0},
		{"CASE WHEN i4 = 0 THEN 0 WHEN i4 > 10 THEN i4 + 1 ELSE 100 / i4 END", pgerror.NumericValueOutOfRange,
			[]string{"10", "-33", "NULL", "NULL", "0"}, 1},
		{"CASE WHEN i4 > 100 THEN 1 WHEN 100 / i4 > 5 THEN 2 ELSE 3 END", pgerror.DivisionByZero,
			[]string{"2", "3", "1", "3", "NULL"}, 1},
		{"coalesce(CASE WHEN i4 = 0 THEN 1 END, 100 / i4)", "", []string{"10", "-33", "0", "NULL", "1"}, 0},
		{"i4 <> 0 AND 100 / i4 > 1", "", []string{"t", "f", "f", "NULL", "f"}, 0},
		{"i4 = 0 OR 100 / i4 > 1", "", []string{"t", "f", "f", "NULL", "t"}, 0},
		{"NOT (i4 <> 0 AND 100 / i4 > 1)", "", []string{"f", "t", "t", "NULL", "t"}, 0},
		// NULL semantics.
		{"b AND NULL", "", []string{"NULL", "f", "NULL", "NULL", "f"}, 0},
		{"b OR NULL", "", []string{"t", "NULL", "t", "NULL", "NULL"}, 0},
		{"i4 IN (10, NULL)", "", []string{"t", "NULL", "NULL", "NULL", "NULL"}, 0},
		{"i4 NOT IN (10, 0)", "", []string{"f", "t", "t", "NULL", "f"}, 0},
		{"i4 IN (i2, i8, 0)", "", []string{"f", "f", "f", "NULL", "t"}, 0},
		{"i4 IS DISTINCT FROM 10", "", []string{"f", "t", "t", "t", "t"}, 0},
		{"i4 IS NOT DISTINCT FROM i2", "", []string{"f", "f", "f", "t", "t"}, 0},
		{"greatest(i4, i8, NULL)", "", []string{"100", "7", "9223372036854775807", "NULL", "0"}, 0},
		{"least(t, v)", "", []string{"abc", "Hello World", "", "NULL", " x "}, 0},
		{"nullif(t, '')", "", []string{"abc", "Hello World", "NULL", "NULL", "héllo"}, 0},
		{"concat_ws('-', t, i4, b)", "", []string{"abc-10-t", "Hello World--3-f", "-2147483647-t", "", "héllo-0-f"}, 0},
		{"b IS UNKNOWN", "", []string{"f", "f", "f", "t", "f"}, 0},
		{"b IS NOT TRUE", "", []string{"f", "t", "f", "t", "t"}, 0},
		{"t IS NULL", "", []string{"f", "f", "f", "t", "f"}, 0},
	}
	batch := testBatch(t)
	defer batch.Release()
	for _, tc := range tests {
		e, err := bindSQL(tc.sql)
		if err != nil {
			t.Errorf("%s: %v", tc.sql, err)
			continue
		}
		strict := &EvalContext{}
		got, err := evalText(t, strict, e, batch)
		switch {
		case tc.strictCode != "":
			if code := pgerror.Code(err); code != tc.strictCode {
				t.Errorf("%s strict: %v (%s), want SQLSTATE %s", tc.sql, err, code, tc.strictCode)
			}
		case err != nil:
			t.Errorf("%s strict: %v", tc.sql, err)
		case !equalStrings(got, tc.lenient):
			t.Errorf("%s strict: %q, want %q", tc.sql, got, tc.lenient)
		}
		lenient := &EvalContext{Lenient: true}
		got, err = evalText(t, lenient, e, batch)
		if err != nil {
			t.Errorf("%s lenient: %v", tc.sql, err)
			continue
		}
		if !equalStrings(got, tc.lenient) {
			t.Errorf("%s lenient: %q, want %q", tc.sql, got, tc.lenient)
		}
		if lenient.Errors != tc.failed {
			t.Errorf("%s lenient: %d failed rows, want %d", tc.sql, lenient.Errors, tc.failed)
		}
		if (tc.failed > 0) != (lenient.FirstErr != nil) {
			t.Errorf("%s lenient: FirstErr %v with %d failed rows", tc.sql, lenient.FirstErr, tc.failed)
		}
	}
}

// now() and friends read the statement time from the context and are not
// folded at bind time.
func TestStatementTime(t *testing.T) {
	batch := testBatch(t)
	defer batch.Release()
	now := int64(1767225600123456) // 2026-01-01 00:00:00.123456 UTC
	for sql, want := range map[string]string{
		"now()":                    "2026-01-01 00:00:00.123456+00",
		"current_timestamp":        "2026-01-01 00:00:00.123456+00",
		"current_date":             "2026-01-01",
		"localtimestamp":           "2026-01-01 00:00:00.123456",
		"now() - interval '1 h'":   "2025-12-31 23:00:00.123456+00",
		"date_trunc('day', now())": "2026-01-01 00:00:00+00",
	} {
		e, err := bindSQL(sql)
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		if _, ok := e.(*Const); ok {
			t.Errorf("%s was folded into a constant", sql)
		}
		got, err := evalText(t, &EvalContext{Now: now}, e, batch)
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		for _, g := range got {
			if g != want {
				t.Errorf("%s = %q, want %q", sql, g, want)
				break
			}
		}
	}
}

func TestFilter(t *testing.T) {
	batch := testBatch(t)
	defer batch.Release()
	compile := func(sql string) *Program {
		t.Helper()
		e, err := bindSQL(sql)
		if err != nil {
			t.Fatal(err)
		}
		p, err := Compile(e)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	column := func(rec arrow.Record, name string) []string {
		idx := rec.Schema().FieldIndices(name)[0]
		out := make([]string, rec.NumRows())
		for i := range out {
			col := rec.Column(idx)
			if col.IsNull(i) {
				out[i] = "NULL"
				continue
			}
			out[i] = string(types.AppendText(nil, col, i, testTable[idx].t))
		}
		return out
	}
	tests := []struct {
		pred string
		t    []string // column t of the rows kept
	}{
		{"i4 > 0", []string{"abc", ""}},
		{"b", []string{"abc", ""}},
		{"b IS NOT FALSE", []string{"abc", "", "NULL"}},
		{"t LIKE '%l%'", []string{"Hello World", "héllo"}},
		{"iv > '1 day'", []string{"abc", ""}},
		{"ts < '2000-06-01'", []string{"Hello World", ""}},
		{"true", []string{"abc", "Hello World", "", "NULL", "héllo"}},
		{"NULL::bool", []string{}},
		{"i4 IN (0, -3)", []string{"Hello World", "héllo"}},
	}
	for _, tc := range tests {
		out, err := Filter(&EvalContext{}, batch, compile(tc.pred))
		if err != nil {
			t.Errorf("%s: %v", tc.pred, err)
			continue
		}
		if got := column(out, "t"); !equalStrings(got, tc.t) {
			t.Errorf("%s: kept t = %q, want %q", tc.pred, got, tc.t)
		}
		if len(tc.t) == int(batch.NumRows()) && out != batch {
			t.Errorf("%s: every row passes but Filter copied the batch", tc.pred)
		}
		out.Release()
	}

	// Lenient mode drops the rows that fail and counts them.
	ctx := &EvalContext{Lenient: true}
	out, err := Filter(ctx, batch, compile("100 / i4 > 1"))
	if err != nil {
		t.Fatal(err)
	}
	if got := column(out, "i4"); !equalStrings(got, []string{"10"}) || ctx.Errors != 1 {
		t.Errorf("lenient filter kept %q with %d errors", got, ctx.Errors)
	}
	out.Release()
	if _, err := Filter(&EvalContext{}, batch, compile("100 / i4 > 1")); pgerror.Code(err) != pgerror.DivisionByZero {
		t.Errorf("strict filter: %v", err)
	}

	sel, n, err := EvalPredicate(&EvalContext{}, compile("i4 >= 0"), batch)
	if err != nil {
		t.Fatal(err)
	}
	defer sel.Release()
	if n != 3 || sel.NullN() != 0 || !sel.Value(0) || sel.Value(1) || sel.Value(3) || !sel.Value(4) {
		t.Errorf("EvalPredicate: %v (%d selected)", sel, n)
	}
}

// Evaluating a slice of a batch (arrays with an offset) gives the same rows
// as evaluating the whole batch, and an empty batch gives an empty result.
func TestEvalSlicedBatch(t *testing.T) {
	full := testBatch(t)
	defer full.Release()
	slice := full.NewSlice(1, full.NumRows())
	defer slice.Release()
	empty := full.NewSlice(2, 2)
	defer empty.Release()
	for _, sql := range diffExprs {
		e, err := bindSQL(sql)
		if err != nil {
			continue
		}
		ctx := &EvalContext{Lenient: true, Now: 1767225600000000}
		want, err := evalText(t, ctx, e, full)
		if err != nil {
			t.Errorf("%s: %v", sql, err)
			continue
		}
		got, err := evalText(t, &EvalContext{Lenient: true, Now: 1767225600000000}, e, slice)
		if err != nil {
			t.Errorf("%s on a slice: %v", sql, err)
			continue
		}
		if !equalStrings(got, want[1:]) {
			t.Errorf("%s on a slice: %q, want %q", sql, got, want[1:])
		}
		if got, err := evalText(t, &EvalContext{}, e, empty); err != nil || len(got) != 0 {
			t.Errorf("%s on an empty batch: %q, %v", sql, got, err)
		}
	}
}

// Every array a program allocates is released: results by the caller,
// intermediates by the program.
func TestEvalReleasesMemory(t *testing.T) {
	batch := testBatch(t)
	defer batch.Release()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	for _, sql := range diffExprs {
		e, err := bindSQL(sql)
		if err != nil {
			continue
		}
		p, err := Compile(e)
		if err != nil {
			continue
		}
		for _, lenient := range []bool{false, true} {
			arr, err := p.Eval(&EvalContext{Alloc: mem, Lenient: lenient}, batch)
			if err == nil {
				arr.Release()
			}
		}
		if p.Type() == types.Bool {
			out, err := Filter(&EvalContext{Alloc: mem, Lenient: true}, batch, p)
			if err == nil {
				out.Release()
			}
		}
		if mem.CurrentAlloc() != 0 {
			t.Fatalf("%s: %d bytes still allocated", sql, mem.CurrentAlloc())
		}
	}
}

// Randomized check of the typed loops against a row-at-a-time model, on
// batches long enough to exercise bitmaps word by word, with operands near
// the limits so that overflow detection is exercised too.
func TestArithmeticLoops(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	const n = 1037
	values := func() []int64 {
		out := make([]int64, n)
		for i := range out {
			switch rng.Intn(4) {
			case 0:
				out[i] = rng.Int63n(200) - 100
			case 1:
				out[i] = rng.Int63n(1<<40) - 1<<39
			case 2:
				out[i] = math.MaxInt64 - rng.Int63n(5)
			default:
				out[i] = math.MinInt64 + rng.Int63n(5)
			}
		}
		return out
	}
	build := func(vals []int64) arrow.Array {
		b := array.NewInt64Builder(memory.DefaultAllocator)
		defer b.Release()
		for i, v := range vals {
			if i%13 == 5 {
				b.AppendNull()
				continue
			}
			b.Append(v)
		}
		return b.NewArray()
	}
	xs, ys := values(), values()
	xa, ya := build(xs), build(ys)
	schema := types.Schema{{Name: "x", Type: types.Int8}, {Name: "y", Type: types.Int8}}.Arrow()
	batch := array.NewRecord(schema, []arrow.Array{xa, ya}, n)
	xa.Release()
	ya.Release()
	defer batch.Release()

	model := map[string]func(a, b int64) (int64, bool){
		"+": func(a, b int64) (int64, bool) { s := a + b; return s, (s^a)&(s^b) >= 0 },
		"-": func(a, b int64) (int64, bool) { s := a - b; return s, (a^b)&(a^s) >= 0 },
		"*": func(a, b int64) (int64, bool) { return a * b, !mulOverflows(a, b, types.Int8) },
		"/": func(a, b int64) (int64, bool) {
			if b == 0 || (b == -1 && a == math.MinInt64) {
				return 0, false
			}
			return a / b, true
		},
	}
	cmpModel := map[string]func(a, b int64) bool{
		"=": func(a, b int64) bool { return a == b }, "<>": func(a, b int64) bool { return a != b },
		"<": func(a, b int64) bool { return a < b }, "<=": func(a, b int64) bool { return a <= b },
		">": func(a, b int64) bool { return a > b }, ">=": func(a, b int64) bool { return a >= b },
	}
	x := &ColumnRef{Index: 0, T: types.Int8, Name: "x"}
	y := &ColumnRef{Index: 1, T: types.Int8, Name: "y"}
	c := int64(rng.Int63n(1000) + 2)
	k := &Const{Value: c, T: types.Int8}
	shapes := []struct {
		l, r   Expr
		lv, rv func(i int) (int64, bool)
	}{
		{x, y, func(i int) (int64, bool) { return xs[i], i%13 != 5 }, func(i int) (int64, bool) { return ys[i], i%13 != 5 }},
		{x, k, func(i int) (int64, bool) { return xs[i], i%13 != 5 }, func(int) (int64, bool) { return c, true }},
		{k, y, func(int) (int64, bool) { return c, true }, func(i int) (int64, bool) { return ys[i], i%13 != 5 }},
	}
	for _, sh := range shapes {
		for op, f := range model {
			e, err := Operator(op, sh.l, sh.r)
			if err != nil {
				t.Fatal(err)
			}
			p, _ := Compile(e)
			ctx := &EvalContext{Lenient: true}
			arr, err := p.Eval(ctx, batch)
			if err != nil {
				t.Fatal(err)
			}
			got := arr.(*array.Int64)
			var failed int64
			for i := 0; i < n; i++ {
				a, okA := sh.lv(i)
				b, okB := sh.rv(i)
				desc := fmt.Sprintf("%s: row %d: %d %s %d", e, i, a, op, b)
				if !okA || !okB {
					if got.IsValid(i) {
						t.Fatalf("%s is not NULL", desc)
					}
					continue
				}
				want, ok := f(a, b)
				switch {
				case !ok:
					failed++
					if got.IsValid(i) {
						t.Fatalf("%s = %d, want a failure", desc, got.Value(i))
					}
				case got.IsNull(i) || got.Value(i) != want:
					t.Fatalf("%s = %v, want %d", desc, got.ValueStr(i), want)
				}
			}
			if ctx.Errors != failed {
				t.Errorf("%s: %d failed rows counted, want %d", e, ctx.Errors, failed)
			}
			arr.Release()
		}
		for op, f := range cmpModel {
			e, err := Operator(op, sh.l, sh.r)
			if err != nil {
				t.Fatal(err)
			}
			p, _ := Compile(e)
			arr, err := p.Eval(&EvalContext{}, batch)
			if err != nil {
				t.Fatal(err)
			}
			got := arr.(*array.Boolean)
			for i := 0; i < n; i++ {
				a, okA := sh.lv(i)
				b, okB := sh.rv(i)
				if !okA || !okB {
					if got.IsValid(i) {
						t.Fatalf("%s: row %d is not NULL", e, i)
					}
					continue
				}
				if got.IsNull(i) || got.Value(i) != f(a, b) {
					t.Fatalf("%s: row %d: %d %s %d = %v", e, i, a, op, b, got.ValueStr(i))
				}
			}
			arr.Release()
		}
	}
}

func TestLikeMatch(t *testing.T) {
	tests := []struct {
		s, p string
		want bool
		code string
	}{
		{"abc", "abc", true, ""},
		{"abc", "a%", true, ""},
		{"abc", "%c", true, ""},
		{"abc", "%b%", true, ""},
		{"abc", "a_c", true, ""},
		{"abc", "_", false, ""},
		{"", "%", true, ""},
		{"", "_", false, ""},
		{"héllo", "h_llo", true, ""},
		{"héllo", "h__llo", false, ""},
		{"a%c", `a\%c`, true, ""},
		{"abc", `a\%c`, false, ""},
		{"a_c", `a\_c`, true, ""},
		{"mississippi", "%iss%ppi", true, ""},
		{"mississippi", "m%s_s%i", true, ""},
		{"mississippi", "%x%", false, ""},
		{"aaa", "%a%a%a%", true, ""},
		{"aa", "%a%a%a%", false, ""},
		{"ab", `x\`, false, ""},
		{"xb", `x\`, false, pgerror.InvalidEscapeSequence},
	}
	for _, tc := range tests {
		got, err := likeMatch([]byte(tc.s), []byte(tc.p))
		if code := pgerror.Code(err); tc.code != "" || err != nil {
			if code != tc.code {
				t.Errorf("%q LIKE %q: %v", tc.s, tc.p, err)
			}
			continue
		}
		if got != tc.want {
			t.Errorf("%q LIKE %q = %v, want %v", tc.s, tc.p, got, tc.want)
		}
	}
}
