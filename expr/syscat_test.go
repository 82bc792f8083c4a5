package expr

import (
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/types"
)

func TestQuoteAndParseIdent(t *testing.T) {
	for in, want := range map[string]string{
		"users": "users", "a b": `"a b"`, "select": `"select"`, "Ab": `"Ab"`, "_x": "_x",
		"1a": `"1a"`, `a"b`: `"a""b"`, "": `""`, "é": `"é"`, "name": "name",
	} {
		if got := string(AppendQuotedIdent(nil, in)); got != want {
			t.Errorf("quote_ident(%q) = %s, want %s", in, got, want)
		}
	}
	for _, c := range []struct {
		in     string
		strict bool
		want   string // parts joined by |, or the SQLSTATE
	}{
		{`a."B c".d`, true, "a|B c|d"}, {"A . b", true, "a|b"}, {"x.y()", false, "x|y"},
		{"x.y()", true, "22023"}, {"a..b", true, "22023"}, {"", true, "22023"}, {`"a""b"`, true, `a"b`},
	} {
		parts, err := ParseIdent(c.in, c.strict)
		got := strings.Join(parts, "|")
		if err != nil {
			got = pgerror.Code(err)
		}
		if got != c.want {
			t.Errorf("parse_ident(%q, %v) = %s, want %s", c.in, c.strict, got, c.want)
		}
	}
}

func TestFormatType(t *testing.T) {
	for _, c := range []struct {
		oid    int64
		typmod int32
		want   string
	}{
		{1043, 24, "character varying(20)"}, {1043, -1, "character varying"}, {1700, 655366, "numeric(10,2)"},
		{1114, 3, "timestamp(3) without time zone"}, {1009, -1, "text[]"}, {1002, -1, `"char"[]`},
		{22, -1, "int2vector"}, {2205, -1, "regclass"}, {0, -1, "-"}, {123456, -1, "???"},
	} {
		if got := string(AppendFormatType(nil, c.oid, c.typmod)); got != c.want {
			t.Errorf("format_type(%d, %d) = %s, want %s", c.oid, c.typmod, got, c.want)
		}
	}
}

// constEval folds e on a one-row batch with ctx.
func constEval(t *testing.T, ctx *EvalContext, e Expr) (string, error) {
	t.Helper()
	prog, err := Compile(e)
	if err != nil {
		return "", err
	}
	rec := array.NewRecord(arrow.NewSchema(nil, nil), nil, 1)
	defer rec.Release()
	arr, err := prog.Eval(ctx, rec)
	if err != nil {
		return "", err
	}
	defer arr.Release()
	if arr.IsNull(0) {
		return "NULL", nil
	}
	return string(types.AppendText(nil, arr, 0, e.Type())), nil
}

func TestArrayCompare(t *testing.T) {
	arr := func(s string, elem types.T) Expr {
		d, err := types.ParseText(s, types.ArrayOf(elem))
		if err != nil {
			t.Fatal(err)
		}
		return &Const{Value: d, T: types.ArrayOf(elem)}
	}
	i4 := func(v int32) Expr { return &Const{Value: v, T: types.Int4} }
	null := &Const{T: types.Int4}
	for _, c := range []struct {
		name        string
		op          string
		left, right Expr
		all         bool
		want        string
	}{
		{"found", "=", i4(2), arr("{1,2}", types.Int4), false, "t"},
		{"not found", "=", i4(3), arr("{1,2}", types.Int4), false, "f"},
		{"not found with a NULL", "=", i4(3), arr("{1,NULL}", types.Int4), false, "NULL"},
		{"found despite a NULL", "=", i4(1), arr("{1,NULL}", types.Int4), false, "t"},
		{"empty is false", "=", null, arr("{}", types.Int4), false, "f"},
		{"NULL operand", "=", null, arr("{1}", types.Int4), false, "NULL"},
		{"ALL of empty is true", "=", null, arr("{}", types.Int4), true, "t"},
		{"ALL", "<", i4(0), arr("{1,2}", types.Int4), true, "t"},
		{"ALL fails", "<>", i4(1), arr("{1,2}", types.Int4), true, "f"},
		{"ALL with a NULL", "=", i4(1), arr("{1,NULL}", types.Int4), true, "NULL"},
		{"wider operand", "=", &Const{Value: int64(2), T: types.Int8}, arr("{1,2}", types.Int2), false, "t"},
		{"untyped array", "=", &Const{Value: "r", T: types.Char}, &Const{Value: "{r,m}", T: types.Unknown}, false, "t"},
		{"vector", "=", &Const{Value: int16(2), T: types.Int2}, &Const{Value: "1 2", T: types.Int2Vector}, false, "t"},
	} {
		e, err := NewArrayCompare(c.op, c.left, c.right, c.all)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		got, err := constEval(t, &EvalContext{Alloc: memory.DefaultAllocator}, e)
		if err != nil || got != c.want {
			t.Errorf("%s: %s, %v; want %s", c.name, got, err, c.want)
		}
	}
	if _, err := NewArrayCompare("~~", i4(1), arr("{1}", types.Int4), false); pgerror.Code(err) != pgerror.FeatureNotSupported {
		t.Errorf("LIKE ANY: %v, want 0A000", err)
	}
}

// TestSystemFunctionsNeedACatalog checks that the functions reading the
// session and the catalog are never folded at plan time and fail clearly
// where no catalog is given (in a materialized view).
func TestSystemFunctionsNeedACatalog(t *testing.T) {
	for _, f := range []string{"version", "current_user", "current_database"} {
		e, err := Function(f)
		if err != nil {
			t.Fatal(err)
		}
		if e, err = Fold(e); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if _, ok := e.(*Const); ok {
			t.Errorf("%s() was folded into a constant", f)
		}
		if _, err := constEval(t, &EvalContext{}, e); pgerror.Code(err) != pgerror.FeatureNotSupported {
			t.Errorf("%s() without a catalog: %v, want 0A000", f, err)
		}
	}
	cast, err := NewCast(&Const{Value: int64(1259), T: types.RegClass}, types.Text, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := cast.(*Const); ok {
		t.Error("regclass output was folded without a catalog")
	}
}
