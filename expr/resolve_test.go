package expr

import (
	"testing"

	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/types"
)

// Resolution: the type PostgreSQL gives each expression, or the SQLSTATE it
// fails with at bind time. The columns are those of the test table (i2 int2,
// i4 int4, i8 int8, f4 real, f8 float8, n numeric, t text, v varchar, b
// bool, d date, ts timestamp, tz timestamptz, tm time, iv interval, by
// bytea). Each case was checked against PostgreSQL 15 with pg_typeof.
func TestResolution(t *testing.T) {
	tests := []struct {
		sql  string
		want types.T // when code is empty
		code string
	}{
		// Numeric promotion picks PostgreSQL's (cross-type) operators.
		{sql: "i2 + i2", want: types.Int2},
		{sql: "i2 + i4", want: types.Int4},
		{sql: "1::int2 + 1::int8", want: types.Int8},
		{sql: "i4 + i8", want: types.Int8},
		{sql: "i4 + n", want: types.Numeric},
		{sql: "i4 + 1.5", want: types.Numeric},
		{sql: "n + f8", want: types.Float8},
		{sql: "f4 + n", want: types.Float8},
		{sql: "f4 + f4", want: types.Float4},
		{sql: "f4 * f8", want: types.Float8},
		{sql: "i8 * f4", want: types.Float8},
		{sql: "2 ^ 3", want: types.Float8},
		{sql: "n ^ 2", want: types.Numeric},
		{sql: "5 % 3.0", want: types.Numeric},
		{sql: "-i2", want: types.Int2},
		{sql: "-n", want: types.Numeric},
		{sql: "-iv", want: types.Interval},
		{sql: "f8 % 2", code: pgerror.UndefinedFunction},
		{sql: "b + b", code: pgerror.UndefinedFunction},
		// Untyped literals take the other operand's type; two are text.
		{sql: "i4 + '2'", want: types.Int4},
		{sql: "'a' + 1", code: pgerror.InvalidTextRepresentation},
		{sql: "'1' + '2'", code: pgerror.AmbiguousFunction},
		{sql: "-'5'", code: pgerror.AmbiguousFunction},
		{sql: "'a' < 'b'", want: types.Bool},
		{sql: "'a' || 'b'", want: types.Text},
		{sql: "ts > '2026-01-01'", want: types.Bool},
		{sql: "ts > 'x'", code: pgerror.InvalidDatetimeFormat},
		{sql: "t + i4", code: pgerror.UndefinedFunction},
		// Comparisons across types.
		{sql: "d = ts", want: types.Bool},
		{sql: "d < tz", want: types.Bool},
		{sql: "v = t", want: types.Bool},
		{sql: "i2 < i8", want: types.Bool},
		{sql: "iv > '1 day'", want: types.Bool},
		{sql: "by = '\\x01'", want: types.Bool},
		{sql: "i4 = t", code: pgerror.UndefinedFunction},
		{sql: "i4 IS DISTINCT FROM i8", want: types.Bool},
		// Text.
		{sql: "t || v", want: types.Text},
		{sql: "t || 1", want: types.Text},
		{sql: "1 || t", want: types.Text},
		{sql: "1 || 'a'", want: types.Text},
		{sql: "t LIKE 'a%'", want: types.Bool},
		{sql: "v ILIKE 'a%'", want: types.Bool},
		{sql: "i4 LIKE 'a'", code: pgerror.UndefinedFunction},
		// Date and time arithmetic.
		{sql: "d + 1", want: types.Date},
		{sql: "d - d", want: types.Int4},
		{sql: "d + iv", want: types.Timestamp},
		{sql: "d + tm", want: types.Timestamp},
		{sql: "ts + iv", want: types.Timestamp},
		{sql: "tz - iv", want: types.TimestampTZ},
		{sql: "ts - ts", want: types.Interval},
		{sql: "tz - tz", want: types.Interval},
		{sql: "tm - tm", want: types.Interval},
		{sql: "tm + iv", want: types.Time},
		{sql: "iv * 2", want: types.Interval},
		{sql: "iv / 2", want: types.Interval},
		{sql: "d + d", code: pgerror.UndefinedFunction},
		{sql: "ts + 1", code: pgerror.UndefinedFunction},
		// Functions.
		{sql: "abs(i2)", want: types.Int2},
		{sql: "abs('5')", want: types.Float8},
		{sql: "abs('x')", code: pgerror.InvalidTextRepresentation},
		{sql: "round(5)", want: types.Float8},
		{sql: "round(n, 2)", want: types.Numeric},
		{sql: "round(i4, 2)", want: types.Numeric},
		{sql: "ln(5)", want: types.Float8},
		{sql: "sqrt(n)", want: types.Numeric},
		{sql: "mod(i2, i4)", want: types.Int4},
		{sql: "length(v)", want: types.Int4},
		{sql: "length(by)", want: types.Int4},
		{sql: "substr(v, 2)", want: types.Text},
		{sql: "substring(t from 2 for 1)", want: types.Text},
		{sql: "position('a' in t)", want: types.Int4},
		{sql: "concat(t, i4, NULL)", want: types.Text},
		{sql: "concat_ws(',', 1, 2)", want: types.Text},
		{sql: "lower(i4)", code: pgerror.UndefinedFunction},
		{sql: "foo(i4)", code: pgerror.UndefinedFunction},
		{sql: "now()", want: types.TimestampTZ},
		{sql: "current_date", want: types.Date},
		{sql: "extract(epoch from ts)", want: types.Numeric},
		{sql: "date_part('epoch', ts)", want: types.Float8},
		{sql: "date_trunc('hour', tz)", want: types.TimestampTZ},
		{sql: "date_trunc('hour', d)", want: types.TimestampTZ},
		{sql: "date_trunc('hour', iv)", want: types.Interval},
		{sql: "date_trunc('foo', ts)", code: pgerror.InvalidParameterValue},
		{sql: "extract(hour from d)", code: pgerror.FeatureNotSupported},
		{sql: "to_timestamp(i4)", want: types.TimestampTZ},
		// CASE, COALESCE, NULLIF, GREATEST, IN.
		{sql: "CASE WHEN b THEN 1 ELSE 2.5 END", want: types.Numeric},
		{sql: "CASE WHEN b THEN 'x' END", want: types.Text},
		{sql: "CASE WHEN b THEN d ELSE ts END", want: types.Timestamp},
		{sql: "CASE WHEN b THEN 1 ELSE now() END", code: pgerror.DatatypeMismatch},
		{sql: "CASE WHEN b THEN tm ELSE ts END", code: pgerror.CannotCoerce},
		{sql: "CASE WHEN i4 THEN 1 END", code: pgerror.DatatypeMismatch},
		{sql: "CASE WHEN b THEN 1 ELSE 'a' END", code: pgerror.InvalidTextRepresentation},
		{sql: "coalesce(i4, 1.5)", want: types.Numeric},
		{sql: "coalesce(v, t)", want: types.Varchar},
		{sql: "CASE WHEN b THEN v ELSE t END", want: types.Text},
		{sql: "coalesce(NULL, NULL)", want: types.Text},
		{sql: "coalesce(i4, d)", code: pgerror.DatatypeMismatch},
		{sql: "nullif(1, 2.2)", want: types.Numeric},
		{sql: "nullif(i2, i4)", want: types.Int2},
		{sql: "greatest(i2, i8)", want: types.Int8},
		{sql: "least(d, ts)", want: types.Timestamp},
		{sql: "i4 IN (1, 2.5)", want: types.Bool},
		{sql: "i4 IN (t)", code: pgerror.UndefinedFunction},
		// Casts.
		{sql: "'5'::int", want: types.Int4},
		{sql: "'abc'::int", code: pgerror.InvalidTextRepresentation},
		{sql: "'99999999999'::int", code: pgerror.NumericValueOutOfRange},
		{sql: "1::int8::bool", code: pgerror.CannotCoerce},
		{sql: "i4::bool", want: types.Bool},
		{sql: "d::int", code: pgerror.CannotCoerce},
		{sql: "ts::date", want: types.Date},
		{sql: "tm::interval", want: types.Interval},
		{sql: "b::text", want: types.Text},
		{sql: "t::bytea", want: types.Bytea},
		{sql: "'{\"a\": 1}'::jsonb", want: types.JSONB},
		// Constant folding reports errors at bind time like PostgreSQL.
		{sql: "1 / 0", code: pgerror.DivisionByZero},
		{sql: "32767::int2 + 1::int2", code: pgerror.NumericValueOutOfRange},
		{sql: "CASE WHEN i4 > 0 THEN 1 / 0 END", code: pgerror.DivisionByZero},
		{sql: "CASE WHEN false THEN 1 / 0 ELSE 1 END", want: types.Int4},
		{sql: "coalesce(1, 1 / 0)", want: types.Int4},
		{sql: "coalesce(i4, 1 / 0)", code: pgerror.DivisionByZero},
	}
	for _, tc := range tests {
		e, err := bindSQL(tc.sql)
		switch {
		case tc.code != "":
			if code := pgerror.Code(err); code != tc.code {
				t.Errorf("%s: got %v (%s), want SQLSTATE %s", tc.sql, err, code, tc.code)
			}
		case err != nil:
			t.Errorf("%s: %v", tc.sql, err)
		case e.Type() != tc.want:
			t.Errorf("%s: type %s, want %s", tc.sql, e.Type(), tc.want)
		}
	}
}

// Error messages read like PostgreSQL's.
func TestResolutionMessages(t *testing.T) {
	tests := []struct{ sql, msg, hint string }{
		{"t + i4", "operator does not exist: text + integer",
			"No operator matches the given name and argument types. You might need to add explicit type casts."},
		{"-t", "operator does not exist: - text", ""},
		{"'1' + '2'", "operator is not unique: unknown + unknown", ""},
		{"lower(i4)", "function lower(integer) does not exist", ""},
		{"foo(i4, 'x')", "function foo(integer, unknown) does not exist", ""},
		{"1::int8::bool", "cannot cast type bigint to boolean", ""},
		{"CASE WHEN b THEN 1 ELSE now() END", "CASE types timestamp with time zone and integer cannot be matched", ""},
		{"CASE WHEN i4 THEN 1 END", "argument of CASE/WHEN must be type boolean, not type integer", ""},
		{"'abc'::int", `invalid input syntax for type integer: "abc"`, ""},
		{"date_trunc('foo', ts)", `unit "foo" not recognized for type timestamp without time zone`, ""},
		{"extract(hour from d)", `unit "hour" not supported for type date`, ""},
	}
	for _, tc := range tests {
		_, err := bindSQL(tc.sql)
		pe, ok := err.(*pgerror.Error)
		if !ok {
			t.Errorf("%s: got %v, want a *pgerror.Error", tc.sql, err)
			continue
		}
		if pe.Message != tc.msg {
			t.Errorf("%s: message %q, want %q", tc.sql, pe.Message, tc.msg)
		}
		if tc.hint != "" && pe.Hint != tc.hint {
			t.Errorf("%s: hint %q, want %q", tc.sql, pe.Hint, tc.hint)
		}
	}
}

// An untyped literal facing a typed operand becomes a constant of that type
// at bind time: the comparison does not parse text per row.
func TestUntypedLiteralBecomesConstant(t *testing.T) {
	e, err := bindSQL("ts > '2026-01-01'")
	if err != nil {
		t.Fatal(err)
	}
	call := e.(*Call)
	c, ok := call.Args[1].(*Const)
	if !ok || c.T != types.Timestamp {
		t.Fatalf("right operand is %#v, want a timestamp constant", call.Args[1])
	}
	if want := int64(1767225600000000); c.Value != want {
		t.Errorf("constant is %v, want %d", c.Value, want)
	}
	if call.Fn.String() != ">(timestamp without time zone, timestamp without time zone) boolean" {
		t.Errorf("resolved %s", call.Fn)
	}
}

func TestCoerceAssignment(t *testing.T) {
	col := func(ty types.T) Expr { return &ColumnRef{Index: 0, T: ty} }
	tests := []struct {
		e       Expr
		to      types.T
		context string
		code    string
	}{
		{col(types.Int8), types.Int4, "assignment", ""},
		{col(types.Int4), types.Text, "assignment:name", ""},
		{col(types.Float8), types.Numeric, "assignment", ""},
		{col(types.TimestampTZ), types.Timestamp, "assignment", ""},
		{col(types.Int8), types.Int4, "WHERE", pgerror.DatatypeMismatch},
		{col(types.Int4), types.Bool, "WHERE", pgerror.DatatypeMismatch},
		{col(types.Text), types.Int4, "assignment:n", pgerror.DatatypeMismatch},
		{col(types.Date), types.Bool, "assignment", pgerror.DatatypeMismatch},
		{&Const{Value: "12", T: types.Unknown}, types.Int8, "assignment", ""},
		{&Const{Value: "x", T: types.Unknown}, types.Int8, "assignment", pgerror.InvalidTextRepresentation},
		{&Const{T: types.Null}, types.Date, "assignment", ""},
		{col(types.Int2), types.Int8, "WHERE", ""},
	}
	for _, tc := range tests {
		got, err := Coerce(tc.e, tc.to, tc.context)
		if code := pgerror.Code(err); tc.code != "" || err != nil {
			if code != tc.code {
				t.Errorf("Coerce(%s, %s, %q): %v (%s), want %s", tc.e, tc.to, tc.context, err, code, tc.code)
			}
			continue
		}
		if got.Type() != tc.to {
			t.Errorf("Coerce(%s, %s, %q) has type %s", tc.e, tc.to, tc.context, got.Type())
		}
	}
	_, err := Coerce(col(types.Text), types.Int4, "assignment:n")
	if err.Error() != `column "n" is of type integer but expression is of type text` {
		t.Errorf("message %q", err.Error())
	}
}

func TestCommonType(t *testing.T) {
	tests := []struct {
		in   []types.T
		want types.T
		code string
	}{
		{[]types.T{types.Int4, types.Int8}, types.Int8, ""},
		{[]types.T{types.Int8, types.Int4}, types.Int8, ""},
		{[]types.T{types.Int4, types.Numeric, types.Float4}, types.Float4, ""},
		{[]types.T{types.Float8, types.Numeric}, types.Float8, ""},
		{[]types.T{types.Unknown, types.Unknown}, types.Text, ""},
		{[]types.T{types.Null, types.Int2}, types.Int2, ""},
		{[]types.T{types.Varchar, types.Varchar}, types.Varchar, ""},
		{[]types.T{types.Varchar, types.Text}, types.Varchar, ""},
		{[]types.T{types.Text, types.Varchar}, types.Text, ""},
		{[]types.T{types.Date, types.TimestampTZ, types.Timestamp}, types.TimestampTZ, ""},
		{[]types.T{types.Int4, types.Text}, 0, pgerror.DatatypeMismatch},
		{[]types.T{types.Time, types.Timestamp}, 0, pgerror.CannotCoerce},
	}
	for _, tc := range tests {
		got, err := CommonType(tc.in, "UNION")
		if code := pgerror.Code(err); tc.code != "" || err != nil {
			if code != tc.code {
				t.Errorf("CommonType(%v): %v, want %s", tc.in, err, tc.code)
			}
			continue
		}
		if got != tc.want {
			t.Errorf("CommonType(%v) = %s, want %s", tc.in, got, tc.want)
		}
	}
	_, err := CommonType([]types.T{types.Int4, types.Text}, "CASE")
	if err.Error() != "CASE types integer and text cannot be matched" {
		t.Errorf("message %q", err.Error())
	}
}

// A parameter whose type is unknown takes the type its context requires,
// which the binder reads back for ParameterDescription.
func TestParamTypeInference(t *testing.T) {
	p := &Param{Index: 0, T: types.Unknown}
	e, err := Operator("=", &ColumnRef{Index: 2, T: types.Int8, Name: "i8"}, p)
	if err != nil {
		t.Fatal(err)
	}
	if p.T != types.Int8 {
		t.Fatalf("parameter type %s, want bigint", p.T)
	}
	if got := e.String(); got != "(i8 = $1)" {
		t.Errorf("String() = %q", got)
	}
	if _, err := Compile(e); pgerror.Code(err) != pgerror.UndefinedParameter {
		t.Errorf("compiling an unbound parameter: %v", err)
	}
	bound, err := Fold(Bind(e, []types.Datum{int64(100)}))
	if err != nil {
		t.Fatal(err)
	}
	batch := testBatch(t)
	defer batch.Release()
	got, err := evalText(t, &EvalContext{}, bound, batch)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"t", "f", "f", "NULL", "f"}; !equalStrings(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestString(t *testing.T) {
	tests := []struct{ sql, want string }{
		{"i4 + 1", "(i4 + 1)"},
		{"-i4", "(- i4)"},
		{"i8 * 2 + i8", "((i8 * 2) + i8)"},
		{"lower(t) || 'x'", "(lower(t) || 'x')"},
		{"ts > '2026-01-01'", "(ts > '2026-01-01 00:00:00'::timestamp without time zone)"},
		{"CASE WHEN b THEN 1 ELSE 2 END", "CASE WHEN b THEN 1 ELSE 2 END"},
		{"coalesce(i4, 0)", "COALESCE(i4, 0)"},
		{"i4 IN (1, 2)", "(i4 IN (1, 2))"},
		{"b AND i4 IS NULL", "(b AND (i4 IS NULL))"},
		{"i4 IS DISTINCT FROM 1", "(i4 IS DISTINCT FROM 1)"},
		{"i4::text", "i4::text"},
		{"t = NULL", "NULL::boolean"},
	}
	for _, tc := range tests {
		e, err := bindSQL(tc.sql)
		if err != nil {
			t.Errorf("%s: %v", tc.sql, err)
			continue
		}
		if got := e.String(); got != tc.want {
			t.Errorf("%s: String() = %q, want %q", tc.sql, got, tc.want)
		}
	}
	if got := (&ColumnRef{Index: 2, T: types.Int4}).String(); got != "#2" {
		t.Errorf("unnamed column renders as %q", got)
	}
}
