package expr

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"

	"github.com/sluicedb/sluice/types"
)

// Kernels of the constructs that see NULLs: IS DISTINCT FROM, GREATEST and
// LEAST, concat, IN.

// distinctKernel is IS DISTINCT FROM (negate: IS NOT DISTINCT FROM) on top
// of the = kernel eq: two NULLs are not distinct, a NULL and a value are,
// and the result is never NULL.
func distinctKernel(eq evalFn, negate bool) evalFn {
	return func(st *evalState, args []vec) (vec, error) {
		a, b := args[0], args[1]
		n := st.resultLen(args)
		values := st.allocBitmap(n)
		vb := values.Bytes()
		va, vbits := validityOf(a), validityOf(b)
		if n == 1 {
			va.mask, vbits.mask = 0, 0
		}
		nullA, nullB := isNullType(a), isNullType(b)
		var equal []byte
		if !a.nullScalar() && !b.nullScalar() && !nullA && !nullB {
			e, err := eq(st, args)
			if err != nil {
				values.Release()
				return vec{}, err
			}
			equal, _ = st.truthN(e, n)
			e.release()
		}
		for i := 0; i < n; i++ {
			okA := !nullA && va.valid(i)
			okB := !nullB && vbits.valid(i)
			distinct := okA != okB || (okA && okB && !bitutil.BitIsSet(equal, i))
			if distinct != negate {
				bitutil.SetBit(vb, i)
			}
		}
		out := validityOut{n: n, mask: maskFor(n == 1 && allScalar(args))}
		return st.finishBool(values, &out), nil
	}
}

// truthN is truth for a result of n rows (1 for a scalar computation).
func (st *evalState) truthN(v vec, n int) (t, f []byte) {
	if n == st.n {
		return st.truth(v)
	}
	saved := st.n
	st.n = n
	defer func() { st.n = saved }()
	return st.truth(v)
}

// extremeKernel is GREATEST (op >) and LEAST (op <): NULLs are ignored, the
// result is NULL only when every argument is.
func extremeKernel(t types.T, op cmpOp) evalFn {
	better := compareKernel(t, op)
	return func(st *evalState, args []vec) (vec, error) {
		cur := args[0]
		cur.arr.Retain()
		for _, x := range args[1:] {
			if x.nullScalar() || isNullType(x) {
				continue
			}
			if cur.nullScalar() || isNullType(cur) {
				cur.release()
				x.arr.Retain()
				cur = x
				continue
			}
			n := st.resultLen([]vec{cur, x})
			c, err := better(st, []vec{x, cur})
			if err != nil {
				cur.release()
				return vec{}, err
			}
			wins, _ := st.truthN(c, n)
			c.release()
			vx, vc := validityOf(x), validityOf(cur)
			if n == 1 {
				vx.mask, vc.mask = 0, 0
			}
			pick := make([]int32, n)
			for i := range pick {
				if vx.valid(i) && (!vc.valid(i) || bitutil.BitIsSet(wins, i)) {
					pick[i] = 0
				} else {
					pick[i] = 1
				}
			}
			saved := st.n
			st.n = n
			next := gather(st, t, []vec{x, cur}, pick)
			st.n = saved
			next.scalar = n == 1 && x.scalar && cur.scalar
			cur.release()
			cur = next
		}
		return cur, nil
	}
}

// concatKernel is concat (ws false) and concat_ws (the first argument is
// the separator; a NULL separator makes the result NULL).
func concatKernel(ws bool) kernelBuilder {
	return func(args []Expr) (evalFn, error) {
		argTypes := make([]types.T, len(args))
		for i, a := range args {
			argTypes[i] = a.Type()
		}
		return func(st *evalState, vs []vec) (vec, error) {
			ra := newRowArgs(st, vs)
			b := st.stringBuilder(types.Text, ra.n, 0)
			first := 0
			if ws {
				first = 1
			}
			for i := 0; i < ra.n; i++ {
				if ws && (isNullType(vs[0]) || !ra.valid[0].valid(i)) {
					b.AppendNull()
					continue
				}
				dst := st.scratch[:0]
				wrote := false
				for j := first; j < len(vs); j++ {
					if isNullType(vs[j]) || !ra.valid[j].valid(i) {
						continue
					}
					if ws && wrote {
						dst = append(dst, ra.bytes(0, i)...)
					}
					dst = appendAsText(dst, ra, j, i, argTypes[j])
					wrote = true
				}
				st.scratch = dst
				b.Append(dst)
			}
			return finishString(b, ra.n == 1 && allScalar(vs)), nil
		}, nil
	}
}

// compileIn compiles `arg [NOT] IN (list)`. A list of constants of an
// integer-like or string type becomes a hash set probed once per row;
// other lists are compared item by item.
func compileIn(e *In) (node, error) {
	arg, err := compileNode(e.Arg)
	if err != nil {
		return nil, err
	}
	n := &inNode{arg: arg, negate: e.Negate}
	if set := constSet(e); set != nil {
		n.set = set
		return n, nil
	}
	for _, item := range e.List {
		eq, err := compileCall(e.Eq, []Expr{e.Arg, item})
		if err != nil {
			return nil, err
		}
		n.eqs = append(n.eqs, eq)
	}
	return n, nil
}

// inSet is the constant list of an IN, as a set.
type inSet struct {
	ints    map[int64]struct{}
	strs    map[string]struct{}
	hasNull bool
}

func constSet(e *In) *inSet {
	set := &inSet{}
	t := e.Arg.Type()
	switch t.Physical() {
	case types.Int2, types.Int4, types.Int8, types.Date, types.Time, types.Timestamp, types.TimestampTZ:
		set.ints = make(map[int64]struct{}, len(e.List))
	case types.Text, types.Varchar:
		set.strs = make(map[string]struct{}, len(e.List))
	default:
		return nil
	}
	for _, item := range e.List {
		c, ok := item.(*Const)
		if !ok || (c.T != t && c.Value != nil) {
			return nil
		}
		switch v := c.Value.(type) {
		case nil:
			set.hasNull = true
		case int16:
			set.ints[int64(v)] = struct{}{}
		case int32:
			set.ints[int64(v)] = struct{}{}
		case int64:
			set.ints[v] = struct{}{}
		case string:
			set.strs[v] = struct{}{}
		default:
			return nil
		}
	}
	return set
}

// inNode evaluates IN with PostgreSQL's NULL rules: TRUE if some item is
// equal, else NULL if the argument or some item is NULL, else FALSE.
type inNode struct {
	arg    node
	eqs    []node // arg = item, per item
	set    *inSet
	negate bool
}

func (n *inNode) eval(st *evalState) (vec, error) {
	if n.set != nil {
		return n.evalSet(st)
	}
	nb := bitutil.BytesForBits(int64(st.n))
	found := make([]byte, nb)
	unknown := make([]byte, nb)
	for _, eq := range n.eqs {
		v, err := eq.eval(st)
		if err != nil {
			return vec{}, err
		}
		t, f := st.truth(v)
		v.release()
		bitutil.BitmapOr(found, t, 0, 0, found, 0, int64(st.n))
		// NULL where neither TRUE nor FALSE.
		bitutil.BitmapOr(t, f, 0, 0, t, 0, int64(st.n))
		bitutil.InvertBitmap(t, 0, st.n, t, 0)
		bitutil.BitmapOr(unknown, t, 0, 0, unknown, 0, int64(st.n))
	}
	return n.result(st, found, unknown), nil
}

// result builds the boolean result from the rows where an item matched and
// the rows where some comparison was NULL.
func (n *inNode) result(st *evalState, found, unknown []byte) vec {
	values, valid := st.allocBitmap(st.n), st.allocBitmap(st.n)
	vb, nb := values.Bytes(), valid.Bytes()
	// valid = found | ~unknown
	bitutil.InvertBitmap(unknown, 0, st.n, nb, 0)
	bitutil.BitmapOr(nb, found, 0, 0, nb, 0, int64(st.n))
	if n.negate {
		bitutil.InvertBitmap(found, 0, st.n, vb, 0)
	} else {
		copy(vb, found)
	}
	out := validityOut{buf: valid, n: st.n, mask: -1}
	return st.finishBool(values, &out)
}

func (n *inNode) evalSet(st *evalState) (vec, error) {
	v, err := n.arg.eval(st)
	if err != nil {
		return vec{}, err
	}
	defer v.release()
	nb := bitutil.BytesForBits(int64(st.n))
	found := make([]byte, nb)
	unknown := make([]byte, nb)
	valid := validityOf(v)
	m := v.idxMask()
	var lookup func(i int) bool
	switch {
	case n.set.strs != nil:
		s := v.arr.(*array.String)
		lookup = func(i int) bool { _, ok := n.set.strs[s.Value(i&m)]; return ok }
	default:
		ints := intsOf(v)
		lookup = func(i int) bool { _, ok := n.set.ints[ints(i&m)]; return ok }
	}
	for i := 0; i < st.n; i++ {
		switch {
		case !valid.valid(i):
			bitutil.SetBit(unknown, i)
		case lookup(i):
			bitutil.SetBit(found, i)
		case n.set.hasNull:
			bitutil.SetBit(unknown, i)
		}
	}
	return n.result(st, found, unknown), nil
}

// intsOf reads an integer-like vec as int64 values.
func intsOf(v vec) func(i int) int64 {
	switch v.arr.DataType().ID() {
	case arrow.INT16:
		x := fixedValues[int16](v)
		return func(i int) int64 { return int64(x[i]) }
	case arrow.INT32, arrow.DATE32:
		x := fixedValues[int32](v)
		return func(i int) int64 { return int64(x[i]) }
	}
	x := fixedValues[int64](v)
	return func(i int) int64 { return x[i] }
}
