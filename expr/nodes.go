package expr

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/types"
)

func compileNode(e Expr) (node, error) {
	switch e := e.(type) {
	case *ColumnRef:
		return &colNode{index: e.Index, t: e.T}, nil
	case *Const:
		arr, err := constArray(e.Value, e.T)
		if err != nil {
			return nil, err
		}
		return &constNode{arr: arr}, nil
	case *Param:
		return nil, errUnbound(e)
	case *Call:
		return compileCall(e.Fn, e.Args)
	case *Cast:
		from := e.Arg.Type()
		arg, err := compileNode(e.Arg)
		if err != nil || from == e.To {
			return arg, err
		}
		fn, err := castKernel(from, e.To)
		if err != nil {
			return nil, err
		}
		return &callNode{fn: fn, args: []node{arg}, strict: true, ret: e.To}, nil
	case *And:
		args, err := compileBools(e.Args, "AND")
		return &boolOpNode{args: args, and: true}, err
	case *Or:
		args, err := compileBools(e.Args, "OR")
		return &boolOpNode{args: args}, err
	case *Not:
		args, err := compileBools([]Expr{e.Arg}, "NOT")
		if err != nil {
			return nil, err
		}
		return &notNode{arg: args[0]}, nil
	case *IsNull:
		arg, err := compileNode(e.Arg)
		return &isNullNode{arg: arg, negate: e.Negate}, err
	case *IsBool:
		args, err := compileBools([]Expr{e.Arg}, "IS TRUE")
		if err != nil {
			return nil, err
		}
		return &isBoolNode{arg: args[0], value: e.Value, negate: e.Negate}, nil
	case *Case:
		n := &caseNode{t: e.T}
		for _, w := range e.Whens {
			c, err := compileNode(w.Cond)
			if err != nil {
				return nil, err
			}
			r, err := compileNode(w.Result)
			if err != nil {
				return nil, err
			}
			n.conds = append(n.conds, c)
			n.results = append(n.results, r)
		}
		if e.Else != nil {
			var err error
			if n.els, err = compileNode(e.Else); err != nil {
				return nil, err
			}
		}
		return n, nil
	case *Coalesce:
		args, err := compileNodes(e.Args)
		return &coalesceNode{args: args, t: e.T}, err
	case *NullIf:
		eq, err := compileCall(e.Eq, []Expr{e.A, e.B})
		if err != nil {
			return nil, err
		}
		// The comparison evaluates A again; A is usually a column or a
		// constant, so that costs less than plumbing its value through.
		a, err := compileNode(e.A)
		return &nullIfNode{a: a, eq: eq, t: e.A.Type()}, err
	case *In:
		return compileIn(e)
	case *Subquery:
		return compileSubquery(e)
	}
	return nil, pgerror.New(pgerror.InternalError, "cannot compile expression %T", e)
}

// compileBools compiles the arguments of a boolean operator, converting
// an untyped NULL or literal to boolean as PostgreSQL's coerce_to_boolean
// does (the binder normally has done so already).
func compileBools(es []Expr, context string) ([]node, error) {
	cs := make([]Expr, len(es))
	for i, e := range es {
		c, err := Coerce(e, types.Bool, context)
		if err != nil {
			return nil, err
		}
		cs[i] = c
	}
	return compileNodes(cs)
}

func compileNodes(es []Expr) ([]node, error) {
	ns := make([]node, len(es))
	for i, e := range es {
		n, err := compileNode(e)
		if err != nil {
			return nil, err
		}
		ns[i] = n
	}
	return ns, nil
}

func compileCall(fn *Func, args []Expr) (node, error) {
	ov := fn.ov
	if ov == nil {
		return nil, pgerror.New(pgerror.InternalError, "function %s has no implementation", fn.Name)
	}
	if ov.calc != nil {
		widened := make([]Expr, len(args))
		for i, a := range args {
			widened[i] = a
			if a.Type() != ov.calc[i] {
				widened[i] = &Cast{Arg: a, To: ov.calc[i]}
			}
		}
		args = widened
	}
	nodes, err := compileNodes(args)
	if err != nil {
		return nil, err
	}
	k, err := ov.kernel(args)
	if err != nil {
		return nil, err
	}
	return &callNode{fn: k, args: nodes, strict: !ov.nonStrict, ret: fn.Ret}, nil
}

// colNode reads a column of the batch.
type colNode struct {
	index int
	t     types.T
}

func (c *colNode) eval(st *evalState) (vec, error) {
	if c.index < 0 || c.index >= int(st.batch.NumCols()) {
		return vec{}, pgerror.New(pgerror.InternalError, "column #%d is out of range: the batch has %d columns", c.index, st.batch.NumCols())
	}
	arr := st.batch.Column(c.index)
	if !arrow.TypeEqual(arr.DataType(), c.t.Arrow()) && c.t != types.Null {
		return vec{}, pgerror.New(pgerror.InternalError, "column #%d holds %s, expected %s for type %s", c.index, arr.DataType(), c.t.Arrow(), c.t)
	}
	arr.Retain()
	return vec{arr: arr}, nil
}

// constNode is a constant, kept as an array of one value.
type constNode struct{ arr arrow.Array }

func (c *constNode) eval(*evalState) (vec, error) {
	c.arr.Retain()
	return vec{arr: c.arr, scalar: true}, nil
}

// constArray builds the one-value array of a constant. Constants live as long
// as their program, so they use the Go allocator rather than a batch's.
func constArray(d types.Datum, t types.T) (arrow.Array, error) {
	mem := memory.DefaultAllocator
	if d == nil || t == types.Null {
		return array.MakeArrayOfNull(mem, t.Arrow(), 1), nil
	}
	if t == types.Unknown {
		t = types.Text
	}
	b := array.NewBuilder(mem, t.Arrow())
	defer b.Release()
	types.Put(b, d, t)
	arr := b.NewArray()
	if arr.Len() != 1 {
		arr.Release()
		return nil, pgerror.New(pgerror.InternalError, "cannot build a constant of type %s from %T", t, d)
	}
	return arr, nil
}

// callNode applies a kernel to its evaluated arguments.
type callNode struct {
	fn     evalFn
	args   []node
	strict bool
	ret    types.T
}

func (c *callNode) eval(st *evalState) (vec, error) {
	var buf [4]vec
	args := buf[:0]
	defer func() {
		for _, a := range args {
			a.release()
		}
	}()
	nullArg := false
	for _, a := range c.args {
		v, err := a.eval(st)
		if err != nil {
			return vec{}, err
		}
		args = append(args, v)
		nullArg = nullArg || v.nullScalar()
	}
	if c.strict && nullArg {
		return st.nullVec(c.ret), nil
	}
	return c.fn(st, args)
}

// boolOpNode is a three-valued AND or OR. Like PostgreSQL it stops at the
// first argument that decides a row: later arguments run only on the rows
// still undecided, so `x <> 0 AND 10 / x > 1` does not fail where x = 0.
type boolOpNode struct {
	args []node
	and  bool
}

func (b *boolOpNode) eval(st *evalState) (vec, error) {
	// decided collects rows that are FALSE (AND) or TRUE (OR); other holds
	// the rows that are TRUE (AND) or FALSE (OR) for every argument so far.
	nb := bitutil.BytesForBits(int64(st.n))
	decided := make([]byte, nb)
	other := make([]byte, nb)
	bitutil.SetBitsTo(other, 0, int64(st.n), true)
	undecided := st.liveBits()
	for k, a := range b.args {
		var live []byte
		if k > 0 {
			bitutil.BitmapAndNot(undecided, decided, 0, 0, undecided, 0, int64(st.n))
			if !st.anySet(undecided) {
				break
			}
			live = undecided
		} else {
			live = st.live
		}
		v, err := st.withLive(live, func() (vec, error) { return a.eval(st) })
		if err != nil {
			return vec{}, err
		}
		t, f := st.truth(v)
		v.release()
		if b.and {
			t, f = f, t
		}
		bitutil.BitmapOr(decided, t, 0, 0, decided, 0, int64(st.n))
		bitutil.BitmapAnd(other, f, 0, 0, other, 0, int64(st.n))
	}
	// AND: value TRUE where every argument was TRUE, valid where decided or
	// all TRUE. OR: value TRUE where decided.
	values, valid := st.allocBitmap(st.n), st.allocBitmap(st.n)
	bitutil.BitmapOr(decided, other, 0, 0, valid.Bytes(), 0, int64(st.n))
	if b.and {
		copy(values.Bytes(), other)
	} else {
		copy(values.Bytes(), decided)
	}
	out := validityOut{buf: valid, n: st.n, mask: -1}
	return st.finishBool(values, &out), nil
}

// notNode is three-valued negation.
type notNode struct{ arg node }

func (n *notNode) eval(st *evalState) (vec, error) {
	v, err := n.arg.eval(st)
	if err != nil {
		return vec{}, err
	}
	defer v.release()
	out := st.newValidity(st.resultLen([]vec{v}), v)
	d := v.arr.Data()
	values := st.allocBitmap(out.n)
	bitutil.InvertBitmap(d.Buffers()[1].Bytes(), d.Offset(), out.n, values.Bytes(), 0)
	return st.finishBool(values, &out), nil
}

// isNullNode is IS [NOT] NULL.
type isNullNode struct {
	arg    node
	negate bool
}

func (n *isNullNode) eval(st *evalState) (vec, error) {
	v, err := n.arg.eval(st)
	if err != nil {
		return vec{}, err
	}
	defer v.release()
	count := st.resultLen([]vec{v})
	values := st.allocBitmap(count)
	vb := values.Bytes()
	switch {
	case v.arr.NullN() == 0:
		// Nothing is NULL: all false.
	case v.arr.DataType().ID() == arrow.NULL:
		bitutil.SetBitsTo(vb, 0, int64(count), true)
	default:
		bitutil.InvertBitmap(v.arr.NullBitmapBytes(), v.arr.Data().Offset(), count, vb, 0)
	}
	if n.negate {
		bitutil.InvertBitmap(vb, 0, count, vb, 0)
	}
	out := validityOut{n: count, mask: v.idxMask()}
	return st.finishBool(values, &out), nil
}

// isBoolNode is IS [NOT] TRUE | FALSE | UNKNOWN.
type isBoolNode struct {
	arg    node
	value  *bool
	negate bool
}

func (n *isBoolNode) eval(st *evalState) (vec, error) {
	v, err := n.arg.eval(st)
	if err != nil {
		return vec{}, err
	}
	t, f := st.truth(v)
	v.release()
	values := st.allocBitmap(st.n)
	vb := values.Bytes()
	switch {
	case n.value == nil:
		bitutil.BitmapOr(t, f, 0, 0, vb, 0, int64(st.n))
		bitutil.InvertBitmap(vb, 0, st.n, vb, 0)
	case *n.value:
		copy(vb, t)
	default:
		copy(vb, f)
	}
	if n.negate {
		bitutil.InvertBitmap(vb, 0, st.n, vb, 0)
	}
	out := validityOut{n: st.n, mask: -1}
	return st.finishBool(values, &out), nil
}

// caseNode is a searched CASE. Each arm's result is computed only for the
// rows that take that arm, and each condition only for the rows that no
// earlier condition took, so that an arm not taken cannot fail the query.
type caseNode struct {
	conds, results []node
	els            node
	t              types.T
}

func (c *caseNode) eval(st *evalState) (vec, error) {
	remaining := st.liveBits()
	pick := make([]int32, st.n)
	for i := range pick {
		pick[i] = -1
	}
	var srcs []vec
	defer func() {
		for _, s := range srcs {
			s.release()
		}
	}()
	for k, cn := range c.conds {
		if !st.anySet(remaining) {
			break
		}
		cond, err := st.withLive(remaining, func() (vec, error) { return cn.eval(st) })
		if err != nil {
			return vec{}, err
		}
		taken, _ := st.truth(cond)
		cond.release()
		bitutil.BitmapAnd(taken, remaining, 0, 0, taken, 0, int64(st.n))
		if !st.anySet(taken) {
			continue
		}
		bitutil.BitmapAndNot(remaining, taken, 0, 0, remaining, 0, int64(st.n))
		res, err := st.withLive(taken, func() (vec, error) { return c.results[k].eval(st) })
		if err != nil {
			return vec{}, err
		}
		setPicks(pick, taken, int32(len(srcs)))
		srcs = append(srcs, res)
	}
	if c.els != nil && st.anySet(remaining) {
		res, err := st.withLive(remaining, func() (vec, error) { return c.els.eval(st) })
		if err != nil {
			return vec{}, err
		}
		setPicks(pick, remaining, int32(len(srcs)))
		srcs = append(srcs, res)
	}
	return gather(st, c.t, srcs, pick), nil
}

// setPicks points the rows set in rows at source k.
func setPicks(pick []int32, rows []byte, k int32) {
	for i := range pick {
		if bitutil.BitIsSet(rows, i) {
			pick[i] = k
		}
	}
}

// coalesceNode returns, per row, its first non-NULL argument; an argument is
// computed only for the rows that all earlier arguments left NULL.
type coalesceNode struct {
	args []node
	t    types.T
}

func (c *coalesceNode) eval(st *evalState) (vec, error) {
	remaining := st.liveBits()
	pick := make([]int32, st.n)
	for i := range pick {
		pick[i] = -1
	}
	var srcs []vec
	defer func() {
		for _, s := range srcs {
			s.release()
		}
	}()
	valid := make([]byte, len(remaining))
	for _, a := range c.args {
		if !st.anySet(remaining) {
			break
		}
		live := remaining
		if len(srcs) == 0 {
			live = st.live
		}
		v, err := st.withLive(live, func() (vec, error) { return a.eval(st) })
		if err != nil {
			return vec{}, err
		}
		validBits(st, v, valid)
		bitutil.BitmapAnd(valid, remaining, 0, 0, valid, 0, int64(st.n))
		bitutil.BitmapAndNot(remaining, valid, 0, 0, remaining, 0, int64(st.n))
		setPicks(pick, valid, int32(len(srcs)))
		srcs = append(srcs, v)
	}
	return gather(st, c.t, srcs, pick), nil
}

// validBits writes the rows where v is not NULL into dst (n bits, offset 0).
func validBits(st *evalState, v vec, dst []byte) {
	switch {
	case v.arr.DataType().ID() == arrow.NULL:
		clear(dst)
	case v.arr.NullN() == 0:
		bitutil.SetBitsTo(dst, 0, int64(st.n), true)
	case v.scalar:
		clear(dst)
	default:
		bitutil.CopyBitmap(v.arr.NullBitmapBytes(), v.arr.Data().Offset(), st.n, dst, 0)
	}
}

// nullIfNode is NULLIF(a, b): a, except NULL where a = b is TRUE.
type nullIfNode struct {
	a, eq node
	t     types.T
}

func (n *nullIfNode) eval(st *evalState) (vec, error) {
	eq, err := n.eq.eval(st)
	if err != nil {
		return vec{}, err
	}
	equal, _ := st.truth(eq)
	eq.release()
	a, err := n.a.eval(st)
	if err != nil {
		return vec{}, err
	}
	defer a.release()
	pick := make([]int32, st.n)
	for i := range pick {
		if bitutil.BitIsSet(equal, i) {
			pick[i] = -1
		}
	}
	return gather(st, n.t, []vec{a}, pick), nil
}

// gather builds a column of type t whose row i is row i of srcs[pick[i]]
// (row 0 for a scalar source), or NULL where pick[i] is negative.
func gather(st *evalState, t types.T, srcs []vec, pick []int32) vec {
	switch t.Physical() {
	case types.Bool:
		return gatherBool(st, srcs, pick)
	case types.Int2:
		return gatherFixed[int16](st, t, srcs, pick)
	case types.Int4, types.Date:
		return gatherFixed[int32](st, t, srcs, pick)
	case types.Int8, types.Time, types.Timestamp, types.TimestampTZ:
		return gatherFixed[int64](st, t, srcs, pick)
	case types.Float4:
		return gatherFixed[float32](st, t, srcs, pick)
	case types.Float8, types.Numeric:
		return gatherFixed[float64](st, t, srcs, pick)
	case types.Interval:
		return gatherFixed[arrow.MonthDayNanoInterval](st, t, srcs, pick)
	case types.Text, types.Varchar, types.JSONB, types.Unknown, types.Bytea:
		return gatherBinary(st, t, srcs, pick)
	}
	return vec{arr: array.MakeArrayOfNull(st.mem, t.Arrow(), len(pick))}
}

// sourcesOf prepares the validity of gather's sources; a source of type
// NULL (an arm that is the NULL literal) is NULL everywhere.
func sourcesOf(srcs []vec) []bits {
	vs := make([]bits, len(srcs))
	for k, s := range srcs {
		vs[k] = validityOf(s)
	}
	return vs
}

func isNullType(v vec) bool { return v.arr.DataType().ID() == arrow.NULL }

func gatherFixed[T arrow.FixedWidthType](st *evalState, t types.T, srcs []vec, pick []int32) vec {
	n := len(pick)
	vals := make([][]T, len(srcs))
	masks := make([]int, len(srcs))
	for k, s := range srcs {
		if !isNullType(s) {
			vals[k] = fixedValues[T](s)
		}
		masks[k] = s.idxMask()
	}
	valid := sourcesOf(srcs)
	buf, out := allocFixed[T](st, n)
	vbuf := st.allocBitmap(n)
	vb := vbuf.Bytes()
	for i, k := range pick {
		if k < 0 || vals[k] == nil || !valid[k].valid(i) {
			continue
		}
		out[i] = vals[k][i&masks[k]]
		bitutil.SetBit(vb, i)
	}
	res := validityOut{buf: vbuf, n: n, mask: -1}
	return st.finishFixed(t, buf, &res)
}

func gatherBool(st *evalState, srcs []vec, pick []int32) vec {
	n := len(pick)
	vals := make([][]byte, len(srcs))
	offs := make([]int, len(srcs))
	masks := make([]int, len(srcs))
	for k, s := range srcs {
		if !isNullType(s) {
			vals[k] = s.arr.Data().Buffers()[1].Bytes()
			offs[k] = s.arr.Data().Offset()
		}
		masks[k] = s.idxMask()
	}
	valid := sourcesOf(srcs)
	values := st.allocBitmap(n)
	vbuf := st.allocBitmap(n)
	out, vb := values.Bytes(), vbuf.Bytes()
	for i, k := range pick {
		if k < 0 || vals[k] == nil || !valid[k].valid(i) {
			continue
		}
		if bitutil.BitIsSet(vals[k], offs[k]+(i&masks[k])) {
			bitutil.SetBit(out, i)
		}
		bitutil.SetBit(vb, i)
	}
	res := validityOut{buf: vbuf, n: n, mask: -1}
	return st.finishBool(values, &res)
}

func gatherBinary(st *evalState, t types.T, srcs []vec, pick []int32) vec {
	vals := make([]binaryValues, len(srcs))
	isNull := make([]bool, len(srcs))
	for k, s := range srcs {
		isNull[k] = isNullType(s)
		if !isNull[k] {
			vals[k] = binaryOf(s)
		}
	}
	valid := sourcesOf(srcs)
	b := st.stringBuilder(t, len(pick), 0)
	for i, k := range pick {
		if k < 0 || isNull[k] || !valid[k].valid(i) {
			b.AppendNull()
			continue
		}
		b.Append(vals[k].at(i))
	}
	return finishString(b, false)
}
