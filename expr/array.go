package expr

import (
	"bytes"
	"strings"

	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/types"
)

// Arrays and the operators of the system catalog types. An array value is
// stored as its canonical text (see package types), so equality is string
// equality and the array functions take each value apart with
// types.ParseArray. That is a row at a time: arrays appear in catalog
// queries and small lists, not in the hot paths of streaming queries.

// arrayTypes are the types the array functions take: every array type, and
// int2vector and oidvector, which PostgreSQL subscripts and passes to the
// array functions as well.
var arrayTypes = func() []types.T {
	var out []types.T
	for t := types.Bool; t <= types.ACLItem; t++ {
		if t.HasArray() {
			out = append(out, types.ArrayOf(t))
		}
	}
	return append(out, types.Int2Vector, types.OidVector)
}()

func (c *catalog) catalogOps() {
	for name, op := range cmpOps {
		c.bin(name, tOid, tOid, tBool, k(compareKernel(tInt8, op)))
		c.bin(name, tName, tName, tBool, k(bytesCompare(op)))
		c.bin(name, tName, tText, tBool, k(bytesCompare(op)))
		c.bin(name, tText, tName, tBool, k(bytesCompare(op)))
		c.bin(name, types.Char, types.Char, tBool, k(bytesCompare(op)))
	}
	for _, op := range []cmpOp{cmpEq, cmpNe} {
		name := "="
		if op == cmpNe {
			name = "<>"
		}
		c.bin(name, types.Xid, types.Xid, tBool, k(compareKernel(tInt8, op)))
		for _, a := range arrayTypes {
			c.bin(name, a, a, tBool, k(bytesCompare(op)))
		}
	}
	// name LIKE text and name ~ text, as PostgreSQL has them (namelike,
	// nameregexeq): the text kernels read the name's string storage.
	for _, op := range []string{"~~", "!~~", "~~*", "!~~*", "~", "!~", "~*", "!~*"} {
		for _, ov := range c.binary[op] {
			if ov.args[0] == tText && ov.args[1] == tText {
				c.bin(op, tName, tText, tBool, ov.kernel)
				break
			}
		}
	}
}

func (c *catalog) arrayFuncs() {
	for _, a := range arrayTypes {
		dim := func(f func(v types.ArrayValue, d int) (int32, bool)) kernelBuilder {
			return k(rowKernel(tInt4, func(ra *rowArgs, i int) (int32, bool, error) {
				v, err := types.ParseArray(string(ra.bytes(0, i)), a)
				if err != nil {
					return 0, false, err
				}
				d := int(ra.int32(1, i))
				if d < 1 || d > len(v.Dims) {
					return 0, true, nil
				}
				n, ok := f(v, d-1)
				return n, !ok, nil
			}))
		}
		c.fn("array_length", ts(a, tInt4), tInt4, dim(func(v types.ArrayValue, d int) (int32, bool) {
			return int32(v.Dims[d]), v.Dims[d] > 0
		}))
		c.fn("array_lower", ts(a, tInt4), tInt4, dim(func(v types.ArrayValue, d int) (int32, bool) {
			return int32(v.Lower[d]), v.Dims[d] > 0
		}))
		c.fn("array_upper", ts(a, tInt4), tInt4, dim(func(v types.ArrayValue, d int) (int32, bool) {
			return int32(v.Lower[d] + v.Dims[d] - 1), v.Dims[d] > 0
		}))
		c.fn("array_ndims", ts(a), tInt4, k(rowKernel(tInt4, func(ra *rowArgs, i int) (int32, bool, error) {
			v, err := types.ParseArray(string(ra.bytes(0, i)), a)
			if err != nil || len(v.Elems) == 0 {
				return 0, err == nil, err
			}
			return int32(len(v.Dims)), false, nil
		})))
		c.fn("cardinality", ts(a), tInt4, k(rowKernel(tInt4, func(ra *rowArgs, i int) (int32, bool, error) {
			v, err := types.ParseArray(string(ra.bytes(0, i)), a)
			return int32(len(v.Elems)), false, err
		})))
		c.fn("array_to_string", ts(a, tText), tText, k(arrayToString(a)))
		c.fn("array_to_string", ts(a, tText, tText), tText, k(arrayToString(a))).nonStrict = true
		if a.IsArray() {
			cat := k(textKernel(a, func(ra *rowArgs, i int, dst []byte) ([]byte, bool, error) {
				return arrayCat(dst, a, ra.bytes(0, i), ra.bytes(1, i))
			}))
			c.bin("||", a, a, a, cat)
			c.fn("array_cat", ts(a, a), a, cat)
		}
	}
	c.fn("string_to_array", ts(tText, tText), types.ArrayOf(tText), k(stringToArray)).nonStrict = true
	c.fn("string_to_array", ts(tText, tText, tText), types.ArrayOf(tText), k(stringToArray)).nonStrict = true
}

// arrayToString is array_to_string(a, delimiter [, null_string]): the
// elements in order, NULLs skipped unless null_string is given. It is NULL
// when the array or the delimiter is.
func arrayToString(a types.T) evalFn {
	return func(st *evalState, args []vec) (vec, error) {
		ra := newRowArgs(st, args)
		b := st.stringBuilder(tText, ra.n, 0)
		for i := 0; i < ra.n; i++ {
			if isNullType(args[0]) || isNullType(args[1]) || !ra.valid[0].valid(i) || !ra.valid[1].valid(i) {
				b.AppendNull()
				continue
			}
			v, err := types.ParseArray(string(ra.bytes(0, i)), a)
			if err != nil {
				b.Release()
				return vec{}, err
			}
			delim := ra.bytes(1, i)
			var nullStr []byte
			hasNullStr := len(args) > 2 && !isNullType(args[2]) && ra.valid[2].valid(i)
			if hasNullStr {
				nullStr = ra.bytes(2, i)
			}
			dst := st.scratch[:0]
			first := true
			for j, e := range v.Elems {
				if v.IsNull(j) && !hasNullStr {
					continue
				}
				if !first {
					dst = append(dst, delim...)
				}
				first = false
				if v.IsNull(j) {
					dst = append(dst, nullStr...)
				} else {
					dst = append(dst, e...)
				}
			}
			st.scratch = dst
			b.Append(dst)
		}
		return finishString(b, ra.n == 1 && allScalar(args)), nil
	}
}

// arrayCat is array_cat of two one-dimensional arrays (or an empty one).
func arrayCat(dst []byte, t types.T, x, y []byte) ([]byte, bool, error) {
	a, err := types.ParseArray(string(x), t)
	if err != nil {
		return dst, false, err
	}
	b, err := types.ParseArray(string(y), t)
	if err != nil {
		return dst, false, err
	}
	switch {
	case len(a.Elems) == 0:
		return append(dst, y...), false, nil
	case len(b.Elems) == 0:
		return append(dst, x...), false, nil
	case len(a.Dims) != 1 || len(b.Dims) != 1:
		return dst, false, pgerror.New(pgerror.FeatureNotSupported, "concatenating multidimensional arrays is not supported")
	}
	out := types.ArrayValue{Dims: []int{len(a.Elems) + len(b.Elems)}, Lower: a.Lower, Elems: append(a.Elems, b.Elems...)}
	if a.Nulls != nil || b.Nulls != nil {
		out.Nulls = make([]bool, 0, len(out.Elems))
		for i := range a.Elems {
			out.Nulls = append(out.Nulls, a.IsNull(i))
		}
		for i := range b.Elems {
			out.Nulls = append(out.Nulls, b.IsNull(i))
		}
	}
	return out.Append(dst, t), false, nil
}

// stringToArray is string_to_array(s, delimiter [, null_string]): the
// parts of s between delimiters; a NULL delimiter splits into characters,
// an empty one gives s whole; parts equal to null_string are NULL.
func stringToArray(st *evalState, args []vec) (vec, error) {
	ra := newRowArgs(st, args)
	t := types.ArrayOf(tText)
	b := st.stringBuilder(t, ra.n, 0)
	for i := 0; i < ra.n; i++ {
		if isNullType(args[0]) || !ra.valid[0].valid(i) {
			b.AppendNull()
			continue
		}
		s := string(ra.bytes(0, i))
		var parts []string
		switch {
		case s == "":
		case isNullType(args[1]) || !ra.valid[1].valid(i):
			for _, r := range s {
				parts = append(parts, string(r))
			}
		case len(ra.bytes(1, i)) == 0:
			parts = []string{s}
		default:
			parts = strings.Split(s, string(ra.bytes(1, i)))
		}
		v := types.ArrayValue{Elems: parts}
		if len(parts) > 0 {
			v.Dims, v.Lower = []int{len(parts)}, []int{1}
		}
		if len(args) > 2 && !isNullType(args[2]) && ra.valid[2].valid(i) {
			null := string(ra.bytes(2, i))
			for j, p := range parts {
				if p == null {
					if v.Nulls == nil {
						v.Nulls = make([]bool, len(parts))
					}
					v.Nulls[j] = true
				}
			}
		}
		st.scratch = v.Append(st.scratch[:0], t)
		b.Append(st.scratch)
	}
	return finishString(b, ra.n == 1 && allScalar(args)), nil
}

// NewArrayCompare builds `left op ANY (right)` (all: `op ALL`), where right
// is an array (an untyped literal is taken as an array of left's type). op
// must be a comparison operator. As in PostgreSQL, ANY is TRUE when some
// element compares TRUE, and NULL rather than FALSE when some comparison is
// NULL; ALL is the converse; an empty array gives FALSE (ANY) or TRUE (ALL)
// even for a NULL left operand.
func NewArrayCompare(op string, left, right Expr, all bool) (Expr, error) {
	if op == "!=" {
		op = "<>"
	}
	cmp, ok := cmpOps[op]
	if !ok {
		return nil, pgerror.New(pgerror.FeatureNotSupported, "operator %s with ANY or ALL is not supported; only comparisons are", op)
	}
	at := right.Type()
	if isUntyped(at) {
		lt := left.Type()
		if isUntyped(lt) {
			lt = types.Text
		}
		if !lt.HasArray() {
			return nil, pgerror.New(pgerror.UndefinedFunction, "operator does not exist: %s %s ANY (unknown)", lt, op)
		}
		at = types.ArrayOf(lt)
		var err error
		if right, err = coerce(right, at, coerceImplicit); err != nil {
			return nil, err
		}
	}
	elem := at.Elem()
	if elem == types.Unknown {
		return nil, pgerror.New(pgerror.WrongObjectType, "op ANY/ALL (array) requires array on right side")
	}
	eq, err := resolveCall(op, left, &Const{T: elem})
	if err != nil {
		return nil, err
	}
	lt, rt := eq.Fn.Args[0], eq.Fn.Args[1]
	name := op + " ANY"
	if all {
		name = op + " ALL"
	}
	ov := &overload{args: []types.T{lt, at}, ret: tBool, nonStrict: true, kernel: k(arrayCompareKernel(cmp, lt, at, rt, all))}
	return &Call{Fn: &Func{Name: name, Args: ov.args, Ret: tBool, ov: ov}, Args: []Expr{eq.Args[0], right}}, nil
}

func arrayCompareKernel(op cmpOp, lt, at, rt types.T, all bool) evalFn {
	return func(st *evalState, args []vec) (vec, error) {
		n := st.resultLen(args)
		values, valid := st.allocBitmap(n), st.allocBitmap(n)
		vb, nb := values.Bytes(), valid.Bytes()
		left, right := args[0], args[1]
		lv, rv := validityOf(left), validityOf(right)
		lm, rm := left.idxMask(), right.idxMask()
		if n == 1 {
			lv.mask, rv.mask, lm, rm = 0, 0, 0, 0
		}
		arrays := binaryOf(right)
		arrays.mask = rm
		set := func(i int, v, isValid bool) {
			if v {
				vb[i/8] |= 1 << (i % 8)
			}
			if isValid {
				nb[i/8] |= 1 << (i % 8)
			}
		}
		for i := 0; i < n; i++ {
			if isNullType(right) || !rv.valid(i) {
				continue
			}
			a, err := types.ParseArray(string(arrays.at(i)), at)
			if err != nil {
				values.Release()
				valid.Release()
				return vec{}, err
			}
			if len(a.Elems) == 0 {
				set(i, all, true)
				continue
			}
			if isNullType(left) || !lv.valid(i) {
				continue
			}
			x := types.Value(left.arr, i&lm, lt)
			sawNull, decided := false, false
			for j, e := range a.Elems {
				if a.IsNull(j) {
					sawNull = true
					continue
				}
				y, err := types.ParseText(e, rt)
				if err != nil {
					values.Release()
					valid.Release()
					return vec{}, err
				}
				if op.holds(compareDatums(x, y)) != all {
					decided = true
					break
				}
			}
			switch {
			case decided:
				set(i, !all, true)
			case !sawNull:
				set(i, all, true)
			}
		}
		out := validityOut{buf: valid, n: n, mask: maskFor(n == 1 && allScalar(args))}
		return st.finishBool(values, &out), nil
	}
}

// compareDatums orders two non-NULL Datums of the same kind (integers of
// any width, floats of any width, strings, ...) the way PostgreSQL orders
// their SQL values (NaN above every number). Cross-type operators such as
// bigint = smallint compare their operands widened.
func compareDatums(x, y types.Datum) int {
	x, y = widen(x), widen(y)
	switch a := x.(type) {
	case int64:
		return cmpOrdered(a, y.(int64))
	case float64:
		return floatCmp(a, y.(float64))
	case string:
		return strings.Compare(a, y.(string))
	case []byte:
		return bytes.Compare(a, y.([]byte))
	case bool:
		b := y.(bool)
		switch {
		case a == b:
			return 0
		case b:
			return -1
		}
		return 1
	case types.IntervalValue:
		return cmpOrdered(a.Duration(), y.(types.IntervalValue).Duration())
	}
	return 0
}

// widen turns integers into int64 and floats into float64.
func widen(d types.Datum) types.Datum {
	switch v := d.(type) {
	case int16:
		return int64(v)
	case int32:
		return int64(v)
	case float32:
		return float64(v)
	}
	return d
}

func cmpOrdered[T int64 | float64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// NewSubscript builds arr[i] or arr[i][j]...: the element at those
// positions, or NULL outside the array. Slices are not supported.
func NewSubscript(arr Expr, indexes []Expr) (Expr, error) {
	at := arr.Type()
	elem := at.Elem()
	if elem == types.Unknown {
		return nil, pgerror.New(pgerror.DatatypeMismatch, "cannot subscript type %s because it does not support subscripting", typeName(at))
	}
	args := []Expr{arr}
	argTs := []types.T{at}
	for _, ix := range indexes {
		c, err := Coerce(ix, tInt4, "array subscript")
		if err != nil {
			return nil, pgerror.New(pgerror.DatatypeMismatch, "array subscript must have type integer")
		}
		args = append(args, c)
		argTs = append(argTs, tInt4)
	}
	ov := &overload{args: argTs, ret: elem, kernel: k(subscriptKernel(at, elem))}
	return &Call{Fn: &Func{Name: "subscript", Args: argTs, Ret: elem, ov: ov}, Args: args}, nil
}

func subscriptKernel(at, elem types.T) evalFn {
	return func(st *evalState, args []vec) (vec, error) {
		ra := newRowArgs(st, args)
		b := array.NewBuilder(st.mem, elem.Arrow())
		defer b.Release()
		for i := 0; i < ra.n; i++ {
			if ra.null(i) {
				b.AppendNull()
				continue
			}
			a, err := types.ParseArray(string(ra.bytes(0, i)), at)
			if err != nil {
				return vec{}, err
			}
			pos, ok := 0, len(a.Dims) == len(args)-1 && len(a.Elems) > 0
			for d := 0; ok && d < len(a.Dims); d++ {
				ix := int(ra.int32(d+1, i)) - a.Lower[d]
				ok = ix >= 0 && ix < a.Dims[d]
				pos = pos*a.Dims[d] + ix
			}
			if !ok || a.IsNull(pos) {
				b.AppendNull()
				continue
			}
			d, err := types.ParseText(a.Elems[pos], elem)
			if err != nil {
				return vec{}, err
			}
			types.Put(b, d, elem)
		}
		return vec{arr: b.NewArray(), scalar: ra.n == 1 && allScalar(args)}, nil
	}
}

// NewArrayConstructor builds ARRAY[e1, e2, ...] over the elements' common
// type.
func NewArrayConstructor(elems []Expr) (Expr, error) {
	if len(elems) == 0 {
		return nil, pgerror.New("42P18", "cannot determine type of empty array").
			WithHint("Explicitly cast to the desired type, for example ARRAY[]::integer[].")
	}
	et, err := CommonType(argTypes(elems), "ARRAY")
	if err != nil {
		return nil, err
	}
	if et.IsArray() || !et.HasArray() {
		return nil, pgerror.New(pgerror.FeatureNotSupported, "arrays of %s are not supported", typeName(et))
	}
	cs, err := coerceAll(elems, et, "ARRAY")
	if err != nil {
		return nil, err
	}
	at := types.ArrayOf(et)
	argTs := make([]types.T, len(cs))
	for i := range argTs {
		argTs[i] = et
	}
	ov := &overload{args: argTs, ret: at, nonStrict: true, kernel: k(arrayConstructorKernel(et, at))}
	return &Call{Fn: &Func{Name: "array", Args: argTs, Ret: at, ov: ov}, Args: cs}, nil
}

func arrayConstructorKernel(et, at types.T) evalFn {
	return func(st *evalState, args []vec) (vec, error) {
		ra := newRowArgs(st, args)
		b := st.stringBuilder(at, ra.n, 0)
		v := types.ArrayValue{Dims: []int{len(args)}, Lower: []int{1}, Elems: make([]string, len(args))}
		for i := 0; i < ra.n; i++ {
			v.Nulls = nil
			for j := range args {
				if isNullType(args[j]) || !ra.valid[j].valid(i) {
					if v.Nulls == nil {
						v.Nulls = make([]bool, len(args))
					}
					v.Nulls[j] = true
					continue
				}
				v.Elems[j] = string(appendAsText(nil, ra, j, i, et))
			}
			st.scratch = v.Append(st.scratch[:0], at)
			b.Append(st.scratch)
		}
		return finishString(b, ra.n == 1 && allScalar(args)), nil
	}
}
