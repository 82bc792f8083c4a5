package expr

import (
	"strconv"

	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/types"
)

// jsonBuildObject is json_build_object(VARIADIC "any") and
// jsonb_build_object: alternating keys and values into a JSON object. Keys
// are formatted as text (a NULL key is an error, as in PostgreSQL); values
// keep their JSON form: numbers and booleans bare, jsonb as is, NULL as
// null, anything else as a JSON string of its text. Both return jsonb here,
// which Sluice uses for JSON.
func jsonBuildObject(name string, args []Expr) (Expr, error) {
	if len(args)%2 != 0 {
		return nil, pgerror.New(pgerror.InvalidParameterValue, "argument list must have even number of elements").
			WithHint("The arguments of %s() must consist of alternating keys and values.", name)
	}
	cs := make([]Expr, len(args))
	argTs := make([]types.T, len(args))
	for i, a := range args {
		t := a.Type()
		if isUntyped(t) {
			var err error
			if a, err = coerce(a, types.Text, coerceImplicit); err != nil {
				return nil, err
			}
			t = types.Text
		}
		cs[i], argTs[i] = a, t
	}
	ov := &overload{args: argTs, ret: types.JSONB, nonStrict: true, kernel: jsonObjectKernel}
	return &Call{Fn: &Func{Name: name, Args: argTs, Ret: types.JSONB, ov: ov}, Args: cs}, nil
}

func jsonObjectKernel(args []Expr) (evalFn, error) {
	argTypes := make([]types.T, len(args))
	for i, a := range args {
		argTypes[i] = a.Type()
	}
	return func(st *evalState, vs []vec) (vec, error) {
		ra := newRowArgs(st, vs)
		b := st.stringBuilder(types.JSONB, ra.n, 0)
		var text []byte
		for i := 0; i < ra.n; i++ {
			dst := append(st.scratch[:0], '{')
			for j := 0; j+1 < len(vs); j += 2 {
				if isNullType(vs[j]) || !ra.valid[j].valid(i) {
					return vec{}, pgerror.New(pgerror.InvalidParameterValue, "null value not allowed for object key")
				}
				if j > 0 {
					dst = append(dst, ", "...)
				}
				text = appendAsText(text[:0], ra, j, i, argTypes[j])
				dst = types.AppendJSONString(dst, text)
				dst = append(dst, ": "...)
				k := j + 1
				switch t := argTypes[k]; {
				case isNullType(vs[k]) || !ra.valid[k].valid(i):
					dst = append(dst, "null"...)
				case t == types.JSONB || t == types.Bool || t.IsNumeric():
					text = appendAsText(text[:0], ra, k, i, t)
					switch {
					case t == types.Bool && string(text) == "t":
						dst = append(dst, "true"...)
					case t == types.Bool:
						dst = append(dst, "false"...)
					case t.IsNumeric() && !isJSONNumber(text):
						dst = types.AppendJSONString(dst, text) // NaN, Infinity
					default:
						dst = append(dst, text...)
					}
				default:
					text = appendAsText(text[:0], ra, k, i, t)
					dst = types.AppendJSONString(dst, text)
				}
			}
			dst = append(dst, '}')
			st.scratch = dst
			b.Append(dst)
		}
		return finishString(b, ra.n == 1 && allScalar(vs)), nil
	}, nil
}

func isJSONNumber(b []byte) bool {
	_, err := strconv.ParseFloat(string(b), 64)
	return err == nil && len(b) > 0 && b[0] != 'I' && b[0] != 'N' && b[0] != '+' && (b[0] != '-' || len(b) < 2 || b[1] != 'I')
}
