package executor

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/plan"
	"github.com/sluicedb/sluice/types"
)

// aggregator keeps the state of one aggregate call for every group, in
// slices indexed by group id. update is called once per chunk with the group
// of every row; the loops inside are typed, so there is no per-row dispatch.
type aggregator interface {
	// grow makes room for groups [0, n).
	grow(n int)
	// update folds column col of the chunk into the groups gids; sign is +1
	// for an inserted row and -1 for a deleted one.
	update(col arrow.Array, gids []int32, signs []int8) error
	// result appends group g's current value to b.
	result(b array.Builder, g int32) error
	// reset clears group g so its id can be reused.
	reset(g int32)
	// save writes group g's state; load reads it back into group g, which
	// grow has made room for.
	save(w *StateWriter, g int32)
	load(r *StateReader, g int32) error
}

func newAggregator(a plan.AggCall, appendOnly bool) (aggregator, error) {
	switch {
	case a.Func == "count" && a.Distinct:
		return &countDistinctAgg{st: storageOf(a.ArgType)}, nil
	case a.Func == "count" || a.Func == "count_star":
		return &countAgg{star: a.Arg < 0}, nil
	case a.Distinct:
		return nil, pgerror.New(pgerror.FeatureNotSupported, "%s(DISTINCT ...) is not supported yet; only count(DISTINCT ...) is", a.Func)
	case (a.Func == "sum" || a.Func == "avg") && a.ArgType.IsInteger():
		return &sumIntAgg{avg: a.Func == "avg", ret: a.Ret}, nil
	case (a.Func == "sum" || a.Func == "avg") && (a.ArgType == types.Float4 || a.ArgType == types.Float8 || a.ArgType == types.Numeric):
		return &sumFloatAgg{avg: a.Func == "avg", ret: a.Ret}, nil
	case a.Func == "min" || a.Func == "max":
		return newMinMax(a, appendOnly)
	case a.Func == "bool_and" || a.Func == "every" || a.Func == "bool_or":
		return &boolAgg{or: a.Func == "bool_or"}, nil
	case a.Func == "array_agg":
		return &arrayAgg{elem: a.ArgType, t: a.Ret}, nil
	}
	if kind, ok := varianceKinds[a.Func]; ok && (a.ArgType.IsNumeric()) {
		return &varianceAgg{kind: kind}, nil
	}
	return nil, pgerror.New(pgerror.UndefinedFunction, "function %s(%s) does not exist", a.Func, a.ArgType)
}

// countAgg is count(*) (star) or count(x), which skips NULLs.
type countAgg struct {
	star bool
	n    []int64
}

func (c *countAgg) grow(n int) { c.n = growTo(c.n, n) }
func (c *countAgg) update(col arrow.Array, gids []int32, signs []int8) error {
	if c.star || col.NullN() == 0 {
		for i, g := range gids {
			c.n[g] += int64(signs[i])
		}
		return nil
	}
	for i, g := range gids {
		if col.IsValid(i) {
			c.n[g] += int64(signs[i])
		}
	}
	return nil
}
func (c *countAgg) result(b array.Builder, g int32) error {
	b.(*array.Int64Builder).Append(c.n[g])
	return nil
}
func (c *countAgg) reset(g int32) { c.n[g] = 0 }

// sumIntAgg sums integers exactly in 128 bits, so that sum(bigint), which
// is NUMERIC in PostgreSQL, cannot overflow; avg divides by the count.
type sumIntAgg struct {
	avg     bool
	ret     types.T
	lo      []uint64
	hi      []int64
	n       []int64
	scratch []int64
}

func (s *sumIntAgg) grow(n int) {
	s.lo, s.hi, s.n = growTo(s.lo, n), growTo(s.hi, n), growTo(s.n, n)
}

func (s *sumIntAgg) update(col arrow.Array, gids []int32, signs []int8) error {
	vals := int64s(col, s.scratch)
	s.scratch = vals[:0]
	noNulls := col.NullN() == 0
	for i, g := range gids {
		if !noNulls && col.IsNull(i) {
			continue
		}
		v := vals[i]
		if signs[i] > 0 {
			var carry uint64
			s.lo[g], carry = bits.Add64(s.lo[g], uint64(v), 0)
			s.hi[g] += int64(carry) + (v >> 63)
			s.n[g]++
		} else {
			var borrow uint64
			s.lo[g], borrow = bits.Sub64(s.lo[g], uint64(v), 0)
			s.hi[g] -= int64(borrow) + (v >> 63)
			s.n[g]--
		}
	}
	return nil
}

// value returns the sum as a float64 and whether it fits an int64.
func (s *sumIntAgg) value(g int32) (float64, int64, bool) {
	lo, hi := s.lo[g], s.hi[g]
	fits := (hi == 0 && lo < 1<<63) || (hi == -1 && lo >= 1<<63)
	f := float64(hi)*18446744073709551616.0 + float64(lo)
	return f, int64(lo), fits
}

func (s *sumIntAgg) result(b array.Builder, g int32) error {
	if s.n[g] == 0 {
		b.AppendNull()
		return nil
	}
	f, i, fits := s.value(g)
	if s.avg {
		if fits {
			f = float64(i)
		}
		b.(*array.Float64Builder).Append(f / float64(s.n[g]))
		return nil
	}
	switch s.ret {
	case types.Int8:
		if !fits {
			b.AppendNull()
			return pgerror.New(pgerror.NumericValueOutOfRange, "bigint out of range")
		}
		b.(*array.Int64Builder).Append(i)
	default:
		if fits {
			f = float64(i)
		}
		b.(*array.Float64Builder).Append(f)
	}
	return nil
}

func (s *sumIntAgg) reset(g int32) { s.lo[g], s.hi[g], s.n[g] = 0, 0, 0 }

// sumFloatAgg sums floating-point and numeric values. Deletes subtract, so
// the state must not depend on the order of values: infinities and NaNs are
// counted apart (Inf - Inf would otherwise leave a NaN behind after the
// infinity is deleted), and the finite part is summed with Neumaier's
// compensation so that deleting a large value does not wipe out the small
// ones added after it.
type sumFloatAgg struct {
	avg     bool
	ret     types.T
	sum     []float64
	comp    []float64 // compensation: the low-order bits sum lost
	posInf  []int64
	negInf  []int64
	nan     []int64
	n       []int64
	scratch []float64
}

func (s *sumFloatAgg) grow(n int) {
	s.sum, s.comp, s.n = growTo(s.sum, n), growTo(s.comp, n), growTo(s.n, n)
	s.posInf, s.negInf, s.nan = growTo(s.posInf, n), growTo(s.negInf, n), growTo(s.nan, n)
}

func (s *sumFloatAgg) update(col arrow.Array, gids []int32, signs []int8) error {
	vals := float64s(col, s.scratch)
	s.scratch = vals[:0]
	noNulls := col.NullN() == 0
	for i, g := range gids {
		if !noNulls && col.IsNull(i) {
			continue
		}
		v, sign := vals[i], int64(signs[i])
		s.n[g] += sign
		switch {
		case v != v:
			s.nan[g] += sign
		case math.IsInf(v, 1):
			s.posInf[g] += sign
		case math.IsInf(v, -1):
			s.negInf[g] += sign
		default:
			if sign < 0 {
				v = -v
			}
			t := s.sum[g] + v
			if math.Abs(s.sum[g]) >= math.Abs(v) {
				s.comp[g] += (s.sum[g] - t) + v
			} else {
				s.comp[g] += (v - t) + s.sum[g]
			}
			s.sum[g] = t
		}
	}
	return nil
}

func (s *sumFloatAgg) total(g int32) float64 {
	switch {
	case s.nan[g] > 0 || (s.posInf[g] > 0 && s.negInf[g] > 0):
		return math.NaN()
	case s.posInf[g] > 0:
		return math.Inf(1)
	case s.negInf[g] > 0:
		return math.Inf(-1)
	}
	return s.sum[g] + s.comp[g]
}

func (s *sumFloatAgg) result(b array.Builder, g int32) error {
	if s.n[g] == 0 {
		b.AppendNull()
		return nil
	}
	v := s.total(g)
	if s.avg {
		v /= float64(s.n[g])
	}
	switch b := b.(type) {
	case *array.Float32Builder:
		b.Append(float32(v))
	case *array.Float64Builder:
		b.Append(v)
	}
	return nil
}

func (s *sumFloatAgg) reset(g int32) {
	s.sum[g], s.comp[g], s.n[g] = 0, 0, 0
	s.posInf[g], s.negInf[g], s.nan[g] = 0, 0, 0
}

// countDistinctAgg keeps, per group, how many times each distinct value is
// there, so that deletes can take values away. Integer values (ids, the
// usual argument) are kept by value; others by their row-codec encoding.
type countDistinctAgg struct {
	st   storage
	ints []map[int64]int64  // for integer arguments
	sets []map[string]int64 // for the others
	buf  []byte
	vals []int64
}

func (c *countDistinctAgg) integers() bool {
	return c.st == stInt16 || c.st == stInt32 || c.st == stInt64
}

func (c *countDistinctAgg) grow(n int) {
	if c.integers() {
		c.ints = growTo(c.ints, n)
	} else {
		c.sets = growTo(c.sets, n)
	}
}

func (c *countDistinctAgg) update(col arrow.Array, gids []int32, signs []int8) error {
	noNulls := col.NullN() == 0
	if c.integers() {
		c.vals = int64s(col, c.vals)
		for i, g := range gids {
			if !noNulls && col.IsNull(i) {
				continue
			}
			c.ints[g] = addCount(c.ints[g], c.vals[i], int64(signs[i]))
		}
		return nil
	}
	for i, g := range gids {
		if !noNulls && col.IsNull(i) {
			continue
		}
		c.buf = appendValue(c.buf[:0], col, i, c.st, false)
		set := c.sets[g]
		if set == nil {
			set = make(map[string]int64)
			c.sets[g] = set
		}
		n := set[string(c.buf)] + int64(signs[i])
		if n == 0 {
			delete(set, string(c.buf))
		} else {
			set[string(c.buf)] = n
		}
	}
	return nil
}

// addCount adds n to v's count in set, made when nil, dropping v at zero.
func addCount(set map[int64]int64, v, n int64) map[int64]int64 {
	if set == nil {
		set = make(map[int64]int64)
	}
	if m := set[v] + n; m == 0 {
		delete(set, v)
	} else {
		set[v] = m
	}
	return set
}

func (c *countDistinctAgg) result(b array.Builder, g int32) error {
	n := 0
	if c.integers() {
		n = len(c.ints[g])
	} else {
		n = len(c.sets[g])
	}
	b.(*array.Int64Builder).Append(int64(n))
	return nil
}

func (c *countDistinctAgg) reset(g int32) {
	if c.integers() {
		c.ints[g] = nil
	} else {
		c.sets[g] = nil
	}
}

func growTo[T any](s []T, n int) []T {
	if len(s) >= n {
		return s
	}
	if cap(s) >= n {
		return s[:n]
	}
	ns := make([]T, n, max(n, 2*cap(s)))
	copy(ns, s)
	return ns
}

// boolAgg is bool_and (every) or bool_or, kept as counts of true and false
// values so that deletes can take values out.
type boolAgg struct {
	or          bool
	trues, alls []int64
}

func (b *boolAgg) grow(n int) { b.trues, b.alls = growTo(b.trues, n), growTo(b.alls, n) }
func (b *boolAgg) update(col arrow.Array, gids []int32, signs []int8) error {
	vals := col.(*array.Boolean)
	for i, g := range gids {
		if vals.IsNull(i) {
			continue
		}
		b.alls[g] += int64(signs[i])
		if vals.Value(i) {
			b.trues[g] += int64(signs[i])
		}
	}
	return nil
}
func (b *boolAgg) result(out array.Builder, g int32) error {
	if b.alls[g] == 0 {
		out.AppendNull()
		return nil
	}
	if b.or {
		out.(*array.BooleanBuilder).Append(b.trues[g] > 0)
	} else {
		out.(*array.BooleanBuilder).Append(b.trues[g] == b.alls[g])
	}
	return nil
}
func (b *boolAgg) reset(g int32) { b.trues[g], b.alls[g] = 0, 0 }

type varianceKind struct {
	population bool // divide by n rather than n - 1
	root       bool // stddev rather than variance
}

var varianceKinds = map[string]varianceKind{
	"stddev": {root: true}, "stddev_samp": {root: true}, "stddev_pop": {population: true, root: true},
	"variance": {}, "var_samp": {}, "var_pop": {population: true},
}

// varianceAgg computes variances and standard deviations with Welford's
// method, which also runs backwards: a deleted value is taken out of the
// mean and of the sum of squared deviations.
type varianceAgg struct {
	kind    varianceKind
	n       []int64
	mean    []float64
	m2      []float64
	scratch []float64
	ints    []int64
}

func (v *varianceAgg) grow(n int) {
	v.n, v.mean, v.m2 = growTo(v.n, n), growTo(v.mean, n), growTo(v.m2, n)
}
func (v *varianceAgg) update(col arrow.Array, gids []int32, signs []int8) error {
	var vals []float64
	switch col.(type) {
	case *array.Float64, *array.Float32:
		vals = float64s(col, v.scratch)
	default:
		ints := int64s(col, v.ints)
		v.ints = ints[:0]
		vals = grow(v.scratch, len(ints))
		for i, x := range ints {
			vals[i] = float64(x)
		}
	}
	v.scratch = vals[:0]
	for i, g := range gids {
		if col.IsNull(i) {
			continue
		}
		x := vals[i]
		if signs[i] > 0 {
			v.n[g]++
			d := x - v.mean[g]
			v.mean[g] += d / float64(v.n[g])
			v.m2[g] += d * (x - v.mean[g])
			continue
		}
		v.n[g]--
		if v.n[g] == 0 {
			v.mean[g], v.m2[g] = 0, 0
			continue
		}
		old := v.mean[g]
		v.mean[g] = (old*float64(v.n[g]+1) - x) / float64(v.n[g])
		v.m2[g] -= (x - old) * (x - v.mean[g])
		if v.m2[g] < 0 {
			v.m2[g] = 0 // rounding, never a real negative variance
		}
	}
	return nil
}
func (v *varianceAgg) result(b array.Builder, g int32) error {
	n := v.n[g]
	div := float64(n - 1)
	if v.kind.population {
		div = float64(n)
	}
	if div <= 0 {
		b.AppendNull()
		return nil
	}
	r := v.m2[g] / div
	if v.kind.root {
		r = math.Sqrt(r)
	}
	b.(*array.Float64Builder).Append(r)
	return nil
}
func (v *varianceAgg) reset(g int32) { v.n[g], v.mean[g], v.m2[g] = 0, 0, 0 }

// arrayAgg is array_agg: each group's values in arrival order (PostgreSQL
// leaves the order of an array_agg without ORDER BY unspecified; arrival is
// what it does too). A delete takes out the first equal value. Values are
// kept as their canonical text, which is how arrays are stored.
type arrayAgg struct {
	elem, t types.T
	vals    [][]arrayElem
	buf     []byte
}

type arrayElem struct {
	text string
	null bool
}

func (a *arrayAgg) grow(n int) { a.vals = growTo(a.vals, n) }
func (a *arrayAgg) update(col arrow.Array, gids []int32, signs []int8) error {
	for i, g := range gids {
		var e arrayElem
		if col.IsNull(i) {
			e.null = true
		} else {
			a.buf = types.AppendText(a.buf[:0], col, i, a.elem)
			e.text = string(a.buf)
		}
		if signs[i] > 0 {
			a.vals[g] = append(a.vals[g], e)
			continue
		}
		for j, v := range a.vals[g] {
			if v == e {
				a.vals[g] = append(a.vals[g][:j], a.vals[g][j+1:]...)
				break
			}
		}
	}
	return nil
}
func (a *arrayAgg) result(b array.Builder, g int32) error {
	vals := a.vals[g]
	if len(vals) == 0 {
		b.AppendNull()
		return nil
	}
	arr := types.ArrayValue{Dims: []int{len(vals)}, Lower: []int{1}, Elems: make([]string, len(vals))}
	for i, v := range vals {
		arr.Elems[i] = v.text
		if v.null {
			if arr.Nulls == nil {
				arr.Nulls = make([]bool, len(vals))
			}
			arr.Nulls[i] = true
		}
	}
	a.buf = arr.Append(a.buf[:0], a.t)
	b.(*array.StringBuilder).Append(string(a.buf))
	return nil
}
func (a *arrayAgg) reset(g int32) { a.vals[g] = nil }

// Saving and loading one group's state, for checkpoints (see Stateful).

func (c *countAgg) save(w *StateWriter, g int32)       { w.Int(c.n[g]) }
func (c *countAgg) load(r *StateReader, g int32) error { c.n[g] = r.Int(); return r.Err() }

func (s *sumIntAgg) save(w *StateWriter, g int32) {
	w.Uint(s.lo[g])
	w.Int(s.hi[g])
	w.Int(s.n[g])
}

func (s *sumIntAgg) load(r *StateReader, g int32) error {
	s.lo[g], s.hi[g], s.n[g] = r.Uint(), r.Int(), r.Int()
	return r.Err()
}

func (s *sumFloatAgg) save(w *StateWriter, g int32) {
	w.Float(s.sum[g])
	w.Float(s.comp[g])
	w.Int(s.posInf[g])
	w.Int(s.negInf[g])
	w.Int(s.nan[g])
	w.Int(s.n[g])
}

func (s *sumFloatAgg) load(r *StateReader, g int32) error {
	s.sum[g], s.comp[g] = r.Float(), r.Float()
	s.posInf[g], s.negInf[g], s.nan[g], s.n[g] = r.Int(), r.Int(), r.Int(), r.Int()
	return r.Err()
}

// save writes the values as the row codec encodes them, whichever way they
// are kept, so that a checkpoint reads the same either way.
func (c *countDistinctAgg) save(w *StateWriter, g int32) {
	if !c.integers() {
		w.Counts(c.sets[g])
		return
	}
	set := c.ints[g]
	w.Uint(uint64(len(set)))
	for v, n := range set {
		c.buf = binary.LittleEndian.AppendUint64(append(c.buf[:0], 1), uint64(v))
		w.Blob(c.buf)
		w.Int(n)
	}
}

func (c *countDistinctAgg) load(r *StateReader, g int32) error {
	set := r.Counts()
	if err := r.Err(); err != nil || len(set) == 0 {
		return err
	}
	if !c.integers() {
		c.sets[g] = set
		return nil
	}
	ints := make(map[int64]int64, len(set))
	for k, n := range set {
		if len(k) != 9 || k[0] != 1 {
			return fmt.Errorf("%w: count(DISTINCT) value %q is not an integer", errCorruptState, k)
		}
		ints[int64(binary.LittleEndian.Uint64([]byte(k[1:])))] = n
	}
	c.ints[g] = ints
	return nil
}

func (b *boolAgg) save(w *StateWriter, g int32) {
	w.Int(b.trues[g])
	w.Int(b.alls[g])
}

func (b *boolAgg) load(r *StateReader, g int32) error {
	b.trues[g], b.alls[g] = r.Int(), r.Int()
	return r.Err()
}

func (v *varianceAgg) save(w *StateWriter, g int32) {
	w.Int(v.n[g])
	w.Float(v.mean[g])
	w.Float(v.m2[g])
}

func (v *varianceAgg) load(r *StateReader, g int32) error {
	v.n[g], v.mean[g], v.m2[g] = r.Int(), r.Float(), r.Float()
	return r.Err()
}

func (a *arrayAgg) save(w *StateWriter, g int32) {
	w.Uint(uint64(len(a.vals[g])))
	for _, e := range a.vals[g] {
		w.Bool(e.null)
		w.String(e.text)
	}
}

func (a *arrayAgg) load(r *StateReader, g int32) error {
	n := r.Len()
	vals := make([]arrayElem, 0, n)
	for i := 0; i < n && r.Err() == nil; i++ {
		null := r.Bool()
		vals = append(vals, arrayElem{null: null, text: r.String()})
	}
	a.vals[g] = vals
	return r.Err()
}
