package expr

import (
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/bitutil"

	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/types"
)

// Subqueries in expressions.
//
// The planner binds the inner query of a subquery into a plan, which this
// package sees only through SubPlan (package plan imports expr), and every
// reference the inner query makes to a column of the enclosing query into an
// outer reference: OuterRef(k), a Param with a negative index standing for
// Subquery.Outer[k], like PostgreSQL's PARAM_EXEC parameters. A reference
// two levels out is passed down: the middle query's Outer lists its own
// outer reference, so each plan only ever sees the values of the row just
// around it.
//
// Evaluation asks EvalContext.Subqueries to run the inner query and reduces
// the rows it returns to an expression without a subquery (reduce): a
// constant for a scalar subquery and for EXISTS, an IN list for = ANY and
// <> ALL (a hash set for integers and strings), an OR or an AND of the
// comparisons for the other ANY and ALL, whose three-valued logic is exactly
// PostgreSQL's rule for them. That expression is then evaluated as usual, a
// column at a time. An uncorrelated subquery runs once per statement, at the
// first batch with a row that needs it, so that, as in PostgreSQL, an inner
// query that fails (two rows for a scalar subquery) fails the statement only
// if some row needs its value. ARRAY(SELECT ...) reduces to the constant
// array of the rows. A correlated subquery runs once per distinct
// combination of its outer values among the rows of a batch that need it.

// SubqueryKind says how a subquery's rows become a value.
type SubqueryKind uint8

const (
	// SubqueryScalar is `(SELECT x ...)`: the value of the only row, NULL
	// when there is none, an error (21000) when there are more.
	SubqueryScalar SubqueryKind = iota
	// SubqueryExists is `EXISTS (SELECT ...)`: whether there is a row.
	SubqueryExists
	// SubqueryAny is `Test Op ANY (SELECT x ...)` and `Test IN (SELECT x
	// ...)`: true if the comparison is true for some row, else NULL if it is
	// NULL for some row, else false (also with no rows at all).
	SubqueryAny
	// SubqueryAll is `Test Op ALL (SELECT x ...)`: false if the comparison
	// is false for some row, else NULL if it is NULL for some row, else true.
	SubqueryAll
	// SubqueryArray is `ARRAY(SELECT x ...)`: an array of the values of
	// every row, in order; {} when there is none.
	SubqueryArray
)

// SubPlan is the inner query of a Subquery: a plan.Node, which package expr
// cannot name, with what this package needs of it.
type SubPlan interface {
	// MapExprs returns the plan with f applied to each expression of its
	// nodes (f itself decides whether to go into nested subqueries).
	MapExprs(f func(Expr) Expr) SubPlan
	// String renders the plan on one line, for EXPLAIN and to tell
	// subqueries apart where expressions are compared by their text.
	String() string
}

// SubqueryRunner runs the inner queries of subqueries during an evaluation.
// The executor implements it over the snapshot its statement reads.
type SubqueryRunner interface {
	// RunSubquery runs the plan of q with its outer references bound to
	// outer (one value per q.Outer; nil for an uncorrelated q) and returns
	// the plan's first column, at most limit rows of it (all when limit is
	// negative). The caller releases the array. Evaluation has no context to
	// pass: the runner works under its statement's.
	RunSubquery(q *Subquery, outer []types.Datum, limit int) (arrow.Array, error)
}

// OuterRef is the reference, inside the plan of a subquery, to the value
// Outer[slot] of the enclosing row.
func OuterRef(slot int, t types.T) *Param { return &Param{Index: -1 - slot, T: t} }

// OuterSlot reports whether p is an outer reference, and to which slot.
func OuterSlot(p *Param) (int, bool) {
	if p.Index < 0 {
		return -1 - p.Index, true
	}
	return 0, false
}

func (k SubqueryKind) String() string {
	return [...]string{"scalar", "EXISTS", "ANY", "ALL", "ARRAY"}[k]
}

func (e *Subquery) String() string {
	inner := "<no plan>"
	if e.Plan != nil {
		inner = e.Plan.String()
	}
	if len(e.Outer) > 0 {
		binds := make([]string, len(e.Outer))
		for k, o := range e.Outer {
			binds[k] = fmt.Sprintf("$outer%d := %s", k+1, o)
		}
		inner += " with " + strings.Join(binds, ", ")
	}
	switch e.Kind {
	case SubqueryExists:
		return "EXISTS(" + inner + ")"
	case SubqueryArray:
		return "ARRAY(" + inner + ")"
	case SubqueryAny, SubqueryAll:
		return fmt.Sprintf("(%s %s %s(%s))", e.Test, e.Op.Name, e.Kind, inner)
	}
	return "(SubPlan " + inner + ")"
}

// rowLimit is how many rows of the inner query evaluation needs: two for a
// scalar subquery (to tell one from more), one for EXISTS.
func (e *Subquery) rowLimit() int {
	switch e.Kind {
	case SubqueryScalar:
		return 2
	case SubqueryExists:
		return 1
	}
	return -1
}

// BindOuter replaces the outer references in e (OuterRef(k)) with constants
// of outer[k]. It binds the Outer and Test of the subqueries in e, which are
// over the same row, but not their plans, whose outer references are their
// own. What holds no outer reference is returned as it is, so that a nested
// uncorrelated subquery keeps its identity and its once-per-statement
// result.
func BindOuter(e Expr, outer []types.Datum) Expr {
	if p, ok := e.(*Param); ok {
		if slot, ok := OuterSlot(p); ok && slot < len(outer) {
			return &Const{Value: outer[slot], T: p.T}
		}
		return e
	}
	return mapChildren(e, func(c Expr) Expr { return BindOuter(c, outer) })
}

// Subqueries lists the subqueries in e, outermost first. It does not enter
// their plans.
func Subqueries(e Expr) []*Subquery {
	var found []*Subquery
	var visit func(Expr) Expr
	visit = func(x Expr) Expr {
		if q, ok := x.(*Subquery); ok {
			found = append(found, q)
		}
		mapChildren(x, visit)
		return x
	}
	if e != nil {
		visit(e)
	}
	return found
}

// mapChildren returns e with f applied to each of its direct
// subexpressions (of a Subquery: its Outer and Test, not its plan), or e
// itself when f changes none of them.
func mapChildren(e Expr, f func(Expr) Expr) Expr {
	switch x := e.(type) {
	case *Call:
		if args, changed := mapList(x.Args, f); changed {
			return &Call{Fn: x.Fn, Args: args}
		}
	case *Cast:
		if a := f(x.Arg); a != x.Arg {
			return &Cast{Arg: a, To: x.To}
		}
	case *And:
		if args, changed := mapList(x.Args, f); changed {
			return &And{Args: args}
		}
	case *Or:
		if args, changed := mapList(x.Args, f); changed {
			return &Or{Args: args}
		}
	case *Not:
		if a := f(x.Arg); a != x.Arg {
			return &Not{Arg: a}
		}
	case *IsNull:
		if a := f(x.Arg); a != x.Arg {
			return &IsNull{Arg: a, Negate: x.Negate}
		}
	case *IsBool:
		if a := f(x.Arg); a != x.Arg {
			return &IsBool{Arg: a, Value: x.Value, Negate: x.Negate}
		}
	case *Case:
		changed := false
		whens := make([]When, len(x.Whens))
		for i, w := range x.Whens {
			whens[i] = When{Cond: f(w.Cond), Result: f(w.Result)}
			changed = changed || whens[i].Cond != w.Cond || whens[i].Result != w.Result
		}
		els := x.Else
		if els != nil {
			els = f(els)
			changed = changed || els != x.Else
		}
		if changed {
			return &Case{Whens: whens, Else: els, T: x.T}
		}
	case *Coalesce:
		if args, changed := mapList(x.Args, f); changed {
			return &Coalesce{Args: args, T: x.T}
		}
	case *NullIf:
		if a, b := f(x.A), f(x.B); a != x.A || b != x.B {
			return &NullIf{A: a, B: b, Eq: x.Eq}
		}
	case *In:
		arg := f(x.Arg)
		if list, changed := mapList(x.List, f); changed || arg != x.Arg {
			return &In{Arg: arg, List: list, Eq: x.Eq, Negate: x.Negate}
		}
	case *Subquery:
		test := x.Test
		if test != nil {
			test = f(test)
		}
		if outer, changed := mapList(x.Outer, f); changed || test != x.Test {
			c := *x
			c.Outer, c.Test = outer, test
			return &c
		}
	}
	return e
}

// mapList applies f to each of es; it returns es itself when f changes
// none of them.
func mapList(es []Expr, f func(Expr) Expr) ([]Expr, bool) {
	var out []Expr
	for i, e := range es {
		m := f(e)
		if m != e && out == nil {
			out = make([]Expr, len(es))
			copy(out, es[:i])
		}
		if out != nil {
			out[i] = m
		}
	}
	if out == nil {
		return es, false
	}
	return out, true
}

// rewriteSubquery is rewrite's step for a subquery: unlike BindOuter it
// goes into the plan, since what it replaces (statement parameters) means
// the same at every level.
func rewriteSubquery(x *Subquery, f func(Expr) Expr) Expr {
	c := *x
	c.Outer = rewriteAll(x.Outer, f)
	if x.Test != nil {
		c.Test = rewrite(x.Test, f)
	}
	if x.Plan != nil {
		c.Plan = x.Plan.MapExprs(func(e Expr) Expr { return rewrite(e, f) })
	}
	return &c
}

// subqueryNode evaluates a Subquery.
type subqueryNode struct {
	q     *Subquery
	outer []node // the Outer values, over the batch
}

func compileSubquery(q *Subquery) (node, error) {
	if q.Plan == nil {
		return nil, pgerror.New(pgerror.InternalError, "subquery without a plan")
	}
	if (q.Kind == SubqueryAny || q.Kind == SubqueryAll) && (q.Test == nil || q.Op == nil) {
		return nil, pgerror.New(pgerror.InternalError, "%s subquery without a comparison", q.Kind)
	}
	outer, err := compileNodes(q.Outer)
	if err != nil {
		return nil, err
	}
	return &subqueryNode{q: q, outer: outer}, nil
}

func (n *subqueryNode) eval(st *evalState) (vec, error) {
	if st.ctx.Subqueries == nil {
		return vec{}, pgerror.New(pgerror.FeatureNotSupported, "subqueries are not supported in this statement")
	}
	if st.n == 0 || (st.live != nil && !st.anySet(st.live)) {
		// No row needs the value: the inner query does not run.
		return st.nullVec(n.q.Type()), nil
	}
	if len(n.outer) == 0 {
		r, err := n.result(st)
		if err != nil {
			return vec{}, err
		}
		return r.eval(st)
	}
	return n.correlated(st)
}

// result is the compiled reduction of an uncorrelated subquery, computed at
// its first use in the statement.
func (n *subqueryNode) result(st *evalState) (node, error) {
	if r, ok := st.ctx.subqueryResults[n.q]; ok {
		return r, nil
	}
	e, err := n.run(st, nil)
	if err != nil {
		return nil, err
	}
	r, err := compileNode(e)
	if err != nil {
		return nil, err
	}
	if st.ctx.subqueryResults == nil {
		st.ctx.subqueryResults = make(map[*Subquery]node)
	}
	st.ctx.subqueryResults[n.q] = r
	return r, nil
}

// run runs the inner query with the given outer values and reduces its
// rows to an expression over the enclosing row.
func (n *subqueryNode) run(st *evalState, outer []types.Datum) (Expr, error) {
	vals, err := st.ctx.Subqueries.RunSubquery(n.q, outer, n.q.rowLimit())
	if err != nil {
		return nil, err
	}
	defer vals.Release()
	return reduce(n.q, vals)
}

// correlated runs the inner query once per distinct combination of outer
// values among the rows that need the result, and puts each combination's
// result in its rows.
func (n *subqueryNode) correlated(st *evalState) (vec, error) {
	outs := make([]vec, 0, len(n.outer))
	defer func() {
		for _, v := range outs {
			v.release()
		}
	}()
	for _, o := range n.outer {
		v, err := o.eval(st)
		if err != nil {
			return vec{}, err
		}
		outs = append(outs, v)
	}

	// Group the rows by their outer values, encoded as bytes. A row that is
	// not needed gets group -1 (NULL).
	group := make([]int32, st.n)
	var firsts []int // a row of each group
	ids := make(map[string]int32)
	var key []byte
	for i := range group {
		if st.live != nil && !bitutil.BitIsSet(st.live, i) {
			group[i] = -1
			continue
		}
		key = key[:0]
		for _, v := range outs {
			key = appendKey(key, v, i)
		}
		g, ok := ids[string(key)]
		if !ok {
			g = int32(len(firsts))
			ids[string(key)] = g
			firsts = append(firsts, i)
		}
		group[i] = g
	}

	results := make([]Expr, len(firsts))
	outer := make([]types.Datum, len(outs))
	for g, i := range firsts {
		for k, v := range outs {
			outer[k] = types.Value(v.arr, i&v.idxMask(), n.q.Outer[k].Type())
		}
		e, err := n.run(st, outer)
		if err != nil {
			return vec{}, err
		}
		results[g] = e
	}
	if n.q.Kind == SubqueryScalar || n.q.Kind == SubqueryExists || n.q.Kind == SubqueryArray {
		return gatherConsts(st, n.q.Type(), results, group)
	}
	return scatterGroups(st, results, group)
}

// gatherConsts builds the column whose row i is the constant results[g] of
// its group g = group[i] (NULL where g is -1).
func gatherConsts(st *evalState, t types.T, results []Expr, group []int32) (vec, error) {
	srcs := make([]vec, 0, len(results))
	defer func() {
		for _, s := range srcs {
			s.release()
		}
	}()
	for _, e := range results {
		c, ok := e.(*Const)
		if !ok {
			return vec{}, pgerror.New(pgerror.InternalError, "subquery reduced to %T, not a constant", e)
		}
		arr, err := constArray(c.Value, c.T)
		if err != nil {
			return vec{}, err
		}
		srcs = append(srcs, vec{arr: arr, scalar: true})
	}
	return gather(st, t, srcs, group), nil
}

// scatterGroups evaluates, for each group g, the boolean results[g] over
// the rows of the group and puts the values in those rows.
func scatterGroups(st *evalState, results []Expr, group []int32) (vec, error) {
	// The rows of each group, grouped: rows[start[g]:start[g+1]].
	start := make([]int32, len(results)+1)
	for _, g := range group {
		if g >= 0 {
			start[g+1]++
		}
	}
	for g := range results {
		start[g+1] += start[g]
	}
	rows := make([]int32, start[len(results)])
	next := append([]int32(nil), start[:len(results)]...)
	for i, g := range group {
		if g >= 0 {
			rows[next[g]] = int32(i)
			next[g]++
		}
	}

	values, valid := st.allocBitmap(st.n), st.allocBitmap(st.n)
	vb, nb := values.Bytes(), valid.Bytes()
	for g, e := range results {
		mine := rows[start[g]:start[g+1]]
		if c, ok := e.(*Const); ok {
			// No rows in the inner query: the same value for the group.
			if b, ok := c.Value.(bool); ok {
				for _, r := range mine {
					bitutil.SetBit(nb, int(r))
					if b {
						bitutil.SetBit(vb, int(r))
					}
				}
			}
			continue
		}
		if err := evalOnRows(st, e, mine, vb, nb); err != nil {
			values.Release()
			valid.Release()
			return vec{}, err
		}
	}
	out := validityOut{buf: valid, n: st.n, mask: -1}
	return st.finishBool(values, &out), nil
}

// evalOnRows evaluates the boolean e over the rows of the batch listed in
// rows and sets their bits in values and valid.
func evalOnRows(st *evalState, e Expr, rows []int32, values, valid []byte) error {
	prog, err := compileNode(e)
	if err != nil {
		return err
	}
	sub, err := TakeRecord(st.mem, st.batch, rows)
	if err != nil {
		return fmt.Errorf("rows of a correlated subquery: %w", err)
	}
	defer sub.Release()
	sst := newEvalState(st.ctx, sub)
	v, err := prog.eval(sst)
	if err != nil {
		return err
	}
	t, f := sst.truth(v)
	v.release()
	for p, r := range rows {
		switch {
		case bitutil.BitIsSet(t, p):
			bitutil.SetBit(values, int(r))
			bitutil.SetBit(valid, int(r))
		case bitutil.BitIsSet(f, p):
			bitutil.SetBit(valid, int(r))
		}
		if sst.failed != nil && bitutil.BitIsSet(sst.failed, p) {
			st.markFailed(int(r), false)
		}
	}
	return nil
}

// appendKey appends an encoding of row i of v that tells apart any two
// values that are not identical (and NULL from every value).
func appendKey(dst []byte, v vec, i int) []byte {
	i &= v.idxMask()
	arr := v.arr
	if arr.DataType().ID() == arrow.NULL || arr.IsNull(i) {
		return append(dst, 0)
	}
	dst = append(dst, 1)
	d := arr.Data()
	switch dt := arr.DataType().(type) {
	case arrow.BinaryDataType:
		b := binaryOf(v).at(i)
		dst = binary.AppendUvarint(dst, uint64(len(b)))
		return append(dst, b...)
	case *arrow.BooleanType:
		if bitutil.BitIsSet(d.Buffers()[1].Bytes(), d.Offset()+i) {
			return append(dst, 1)
		}
		return append(dst, 0)
	case arrow.FixedWidthDataType:
		w := dt.BitWidth() / 8
		at := (d.Offset() + i) * w
		return append(dst, d.Buffers()[1].Bytes()[at:at+w]...)
	}
	// Not a layout of a Sluice type; its text is a key too.
	return append(dst, arr.ValueStr(i)...)
}

// reduce turns the rows of a subquery's inner query (its first column,
// vals) into the expression over the enclosing row that the subquery
// equals.
func reduce(q *Subquery, vals arrow.Array) (Expr, error) {
	switch q.Kind {
	case SubqueryExists:
		return &Const{Value: vals.Len() > 0, T: types.Bool}, nil
	case SubqueryScalar:
		switch vals.Len() {
		case 0:
			return &Const{T: q.T}, nil
		case 1:
			return &Const{Value: types.Value(vals, 0, q.T), T: q.T}, nil
		}
		return nil, pgerror.New(pgerror.CardinalityViolation, "more than one row returned by a subquery used as an expression")
	case SubqueryArray:
		return arrayOfRows(q.T, vals), nil
	}
	if vals.Len() == 0 {
		// ANY of no rows is false and ALL of no rows true, whatever Test is.
		return &Const{Value: q.Kind == SubqueryAll, T: types.Bool}, nil
	}
	items := distinctConsts(vals, q.Op.Args[1])
	switch {
	case q.Kind == SubqueryAny && q.Op.Name == "=":
		return inList(q.Test, items, q.Op, false), nil
	case q.Kind == SubqueryAll && q.Op.Name == "<>":
		if eq := equalityOf(q.Op.Args[0], q.Op.Args[1]); eq != nil {
			return inList(q.Test, items, eq, true), nil
		}
	}
	cmps := make([]Expr, len(items))
	for i, item := range items {
		cmps[i] = &Call{Fn: q.Op, Args: []Expr{q.Test, item}}
	}
	if q.Kind == SubqueryAny {
		return &Or{Args: cmps}, nil
	}
	return &And{Args: cmps}, nil
}

// distinctConsts returns the distinct values of vals as constants of type
// t, with one NULL last if there is any.
func distinctConsts(vals arrow.Array, t types.T) []Expr {
	seen := make(map[any]struct{}, vals.Len())
	var items []Expr
	hasNull := false
	for i := 0; i < vals.Len(); i++ {
		d := types.Value(vals, i, t)
		if d == nil {
			hasNull = true
			continue
		}
		var key any = d
		if b, ok := d.([]byte); ok {
			key = string(b)
		}
		if _, dup := seen[key]; dup {
			continue
		}
		seen[key] = struct{}{}
		items = append(items, &Const{Value: d, T: t})
	}
	if hasNull {
		items = append(items, &Const{T: t})
	}
	return items
}

// inList is `test [NOT] IN (items)` with eq comparing them. An integer
// test against integers of another width compares both as bigint, so that
// the list is a hash set.
func inList(test Expr, items []Expr, eq *Func, negate bool) Expr {
	tt, it := eq.Args[0], eq.Args[1]
	if tt != it && isIntType(tt) && isIntType(it) {
		if eq8 := equalityOf(types.Int8, types.Int8); eq8 != nil {
			wide := make([]Expr, len(items))
			for i, item := range items {
				c := item.(*Const)
				wide[i] = &Const{Value: widenInt(c.Value), T: types.Int8}
			}
			if tt != types.Int8 {
				test = &Cast{Arg: test, To: types.Int8}
			}
			return &In{Arg: test, List: wide, Eq: eq8, Negate: negate}
		}
	}
	return &In{Arg: test, List: items, Eq: eq, Negate: negate}
}

func isIntType(t types.T) bool { return t == types.Int2 || t == types.Int4 || t == types.Int8 }

func widenInt(d types.Datum) types.Datum {
	switch v := d.(type) {
	case int16:
		return int64(v)
	case int32:
		return int64(v)
	}
	return d
}

// equalityOf is the = operator between a and b when it takes them as they
// are (no conversion of either side), or nil.
func equalityOf(a, b types.T) *Func {
	l, r := &ColumnRef{T: a}, &ColumnRef{T: b}
	e, err := Operator("=", l, r)
	if err != nil {
		return nil
	}
	c, ok := e.(*Call)
	if !ok || len(c.Args) != 2 || c.Args[0] != Expr(l) || c.Args[1] != Expr(r) {
		return nil
	}
	return c.Fn
}

// arrayOfRows is the value of ARRAY(subquery) whose rows are vals: a
// one-dimensional array of type t holding them in order.
func arrayOfRows(t types.T, vals arrow.Array) *Const {
	elem := t.Elem()
	v := types.ArrayValue{Elems: make([]string, vals.Len())}
	if vals.Len() > 0 {
		v.Dims, v.Lower = []int{vals.Len()}, []int{1}
	}
	for i := range v.Elems {
		if vals.IsNull(i) {
			if v.Nulls == nil {
				v.Nulls = make([]bool, vals.Len())
			}
			v.Nulls[i] = true
			continue
		}
		v.Elems[i] = string(types.AppendText(nil, vals, i, elem))
	}
	return &Const{Value: string(v.Append(nil, t)), T: t}
}
