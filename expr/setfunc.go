package expr

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/types"
)

// Set-returning functions in FROM: generate_series and unnest.
//
// They are not functions of the catalog (a call in a SELECT list, which
// returns one value a row, would be wrong for them): the planner resolves
// one with ResolveSetFunc into a SetFunc and a plan node of its own, and the
// executor asks it for the values of each call with Start and SetRows.Next,
// which append to a typed Arrow builder a piece at a time, so that a long
// series is never held whole and a LIMIT above it stops it early.

// SetFunc is a set-returning function resolved for its argument types.
type SetFunc struct {
	Name string
	// Args are the types the arguments are coerced to.
	Args []types.T
	// Ret is the type of the values it returns.
	Ret types.T
}

func (f *SetFunc) String() string {
	return fmt.Sprintf("%s(%s)", f.Name, typeList(f.Args))
}

// ResolveSetFunc resolves the set-returning function name (lower case) for
// args and returns it with the arguments coerced to its parameter types.
// The signatures are PostgreSQL's: generate_series(start, stop [, step])
// over integer, bigint and numeric, and over timestamp and timestamptz with
// an interval step; unnest(array), whose values are the elements.
func ResolveSetFunc(name string, args []Expr) (*SetFunc, []Expr, error) {
	ts := argTypes(args)
	notExist := func() error {
		return pgerror.New(pgerror.UndefinedFunction, "function %s(%s) does not exist", name, typeList(ts)).
			WithHint("No function matches the given name and argument types. You might need to add explicit type casts.")
	}
	var f *SetFunc
	switch name {
	case "unnest":
		if len(args) != 1 {
			return nil, nil, notExist()
		}
		if isUntyped(ts[0]) {
			return nil, nil, pgerror.New(pgerror.AmbiguousFunction, "function unnest(%s) is not unique", typeList(ts)).
				WithHint("Could not choose a best candidate function. You might need to add explicit type casts.")
		}
		elem := ts[0].Elem()
		if elem == types.Unknown {
			return nil, nil, notExist()
		}
		f = &SetFunc{Name: name, Args: []types.T{ts[0]}, Ret: elem}
	case "generate_series":
		if len(args) != 2 && len(args) != 3 {
			return nil, nil, notExist()
		}
		t, ok := seriesType(ts)
		if !ok {
			return nil, nil, notExist()
		}
		f = &SetFunc{Name: name, Args: []types.T{t, t}, Ret: t}
		if len(args) == 3 {
			step := t
			if t == types.Timestamp || t == types.TimestampTZ {
				step = types.Interval
			}
			f.Args = append(f.Args, step)
		}
	default:
		return nil, nil, pgerror.New(pgerror.FeatureNotSupported, "function %s in FROM is not supported; FROM takes generate_series, unnest, TUMBLE, HOP and SESSION", name)
	}
	out := make([]Expr, len(args))
	for i, a := range args {
		c, err := coerce(a, f.Args[i], coerceImplicit)
		if err != nil {
			return nil, nil, notExist()
		}
		out[i] = c
	}
	return f, out, nil
}

// seriesType is the type generate_series takes for arguments of types ts:
// timestamp or timestamptz when the step is an interval (timestamptz, the
// preferred type, unless start and stop are timestamps), else the smallest
// of integer, bigint and numeric that every argument converts to.
func seriesType(ts []types.T) (types.T, bool) {
	if len(ts) == 3 && (ts[2] == types.Interval || isUntyped(ts[2])) && isDatetime(ts[0]) && isDatetime(ts[1]) &&
		(ts[2] == types.Interval || !isUntyped(ts[0]) || !isUntyped(ts[1])) {
		t := types.TimestampTZ
		if (ts[0] == types.Timestamp || isUntyped(ts[0])) && (ts[1] == types.Timestamp || isUntyped(ts[1])) &&
			(ts[0] == types.Timestamp || ts[1] == types.Timestamp) {
			t = types.Timestamp
		}
		return t, true
	}
	t := types.Int4
	for _, a := range ts {
		switch a {
		case types.Int2, types.Int4, types.Unknown, types.Null:
		case types.Int8:
			if t == types.Int4 {
				t = types.Int8
			}
		case types.Numeric:
			t = types.Numeric
		default:
			return 0, false
		}
	}
	return t, true
}

func isDatetime(t types.T) bool {
	return t == types.Date || t == types.Timestamp || t == types.TimestampTZ || isUntyped(t)
}

// SetRows are the values of one call of a SetFunc, handed out in pieces.
type SetRows struct {
	f    *SetFunc
	done bool
	// integers and timestamps: the next value, the last and the step.
	cur, stop, step int64
	// numeric: value i is (base + i*inc) / scale, for i < count; or, when
	// the scaled values would not be exact, start + i*fstep.
	i, count          int64
	base, inc, scale  float64
	fstart, fstep     float64
	scaled, ascending bool
	// timestamps: the interval step.
	ivStep types.IntervalValue
	// unnest: the elements.
	arr types.ArrayValue
}

// Start begins the values of one call with the arguments args, Datums of
// f.Args. A NULL argument gives no values (the functions are strict).
func (f *SetFunc) Start(args []types.Datum) (*SetRows, error) {
	r := &SetRows{f: f}
	for _, a := range args {
		if a == nil {
			r.done = true
			return r, nil
		}
	}
	switch {
	case f.Name == "unnest":
		s, ok := args[0].(string)
		if !ok {
			return nil, pgerror.New(pgerror.InternalError, "unnest of a %T", args[0])
		}
		a, err := types.ParseArray(s, f.Args[0])
		if err != nil {
			return nil, err
		}
		r.arr, r.count = a, int64(len(a.Elems))
	case f.Ret == types.Numeric:
		return r, r.startNumeric(args[0].(float64), args[1].(float64), args, 1)
	case f.Ret == types.Timestamp || f.Ret == types.TimestampTZ:
		r.cur, r.stop = args[0].(int64), args[1].(int64)
		if len(args) > 2 {
			r.ivStep = args[2].(types.IntervalValue)
		}
		if r.ivStep.Duration() == 0 {
			return nil, errZeroStep()
		}
	default:
		r.cur, r.stop, r.step = intDatum(args[0]), intDatum(args[1]), 1
		if len(args) > 2 {
			r.step = intDatum(args[2])
		}
		if r.step == 0 {
			return nil, errZeroStep()
		}
	}
	return r, nil
}

func errZeroStep() error {
	return pgerror.New(pgerror.InvalidParameterValue, "step size cannot equal zero")
}

func intDatum(d types.Datum) int64 {
	switch v := d.(type) {
	case int16:
		return int64(v)
	case int32:
		return int64(v)
	}
	return d.(int64)
}

// startNumeric sets up a numeric series. NUMERIC is a float64 (see package
// types), so adding the step again and again would drift (0.1 three times
// is not 0.3) and lose the last value; instead the values are computed as
// integers scaled by the largest number of decimals of the arguments, which
// is exact for the usual series.
func (r *SetRows) startNumeric(start, stop float64, args []types.Datum, def float64) error {
	step := def
	if len(args) > 2 {
		step = args[2].(float64)
	}
	if math.IsNaN(start) || math.IsNaN(stop) || math.IsNaN(step) {
		return pgerror.New(pgerror.InvalidParameterValue, "start, stop and step cannot be NaN")
	}
	if step == 0 {
		return errZeroStep()
	}
	r.ascending = step > 0
	if (r.ascending && start > stop) || (!r.ascending && start < stop) {
		r.done = true
		return nil
	}
	decimals := max(decimalsOf(start), decimalsOf(stop), decimalsOf(step))
	scale := math.Pow10(decimals)
	s, e, st := math.Round(start*scale), math.Round(stop*scale), math.Round(step*scale)
	const exact = 1 << 53
	if decimals <= 15 && math.Abs(s) < exact && math.Abs(e) < exact && math.Abs(st) < exact && st != 0 {
		r.scaled, r.base, r.inc, r.scale = true, s, st, scale
		r.count = int64(math.Floor((e-s)/st)) + 1
		return nil
	}
	r.fstart, r.fstep = start, step
	r.count = int64(math.Floor((stop-start)/step)) + 1
	return nil
}

// decimalsOf is the number of decimals of v's shortest exact text.
func decimalsOf(v float64) int {
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if i := strings.IndexByte(s, '.'); i >= 0 {
		return len(s) - i - 1
	}
	return 0
}

// Next appends up to max values to b, a builder of f.Ret's Arrow type, and
// returns how many it appended; 0 when the call has no more.
func (r *SetRows) Next(b array.Builder, max int) (int, error) {
	if r.done || max <= 0 {
		return 0, nil
	}
	switch {
	case r.f.Name == "unnest":
		return r.nextElems(b, max)
	case r.f.Ret == types.Numeric:
		fb := b.(*array.Float64Builder)
		n := 0
		for ; n < max && r.i < r.count; n, r.i = n+1, r.i+1 {
			if r.scaled {
				fb.Append((r.base + float64(r.i)*r.inc) / r.scale)
			} else {
				fb.Append(r.fstart + float64(r.i)*r.fstep)
			}
		}
		r.done = r.i >= r.count
		return n, nil
	case r.f.Ret == types.Timestamp || r.f.Ret == types.TimestampTZ:
		return r.nextTimestamps(b.(*array.TimestampBuilder), max)
	case r.f.Ret == types.Int4:
		return r.nextInts(max, math.MinInt32, math.MaxInt32, func(v int64) { b.(*array.Int32Builder).Append(int32(v)) })
	}
	ib := b.(*array.Int64Builder)
	return r.nextInts(max, math.MinInt64, math.MaxInt64, ib.Append)
}

// nextInts appends the integers of the series; like PostgreSQL it ends at
// the last value before the type would overflow.
func (r *SetRows) nextInts(max int, lo, hi int64, add func(int64)) (int, error) {
	n := 0
	for n < max {
		if (r.step > 0 && r.cur > r.stop) || (r.step < 0 && r.cur < r.stop) {
			r.done = true
			break
		}
		add(r.cur)
		n++
		if (r.step > 0 && r.cur > hi-r.step) || (r.step < 0 && r.cur < lo-r.step) {
			r.done = true
			break
		}
		r.cur += r.step
	}
	return n, nil
}

func (r *SetRows) nextTimestamps(b *array.TimestampBuilder, max int) (int, error) {
	ascending := r.ivStep.Duration() > 0
	n := 0
	for n < max {
		if (ascending && r.cur > r.stop) || (!ascending && r.cur < r.stop) {
			r.done = true
			break
		}
		b.Append(arrow.Timestamp(r.cur))
		n++
		next, err := tsAddInterval(r.cur, r.ivStep)
		if err != nil {
			return n, err
		}
		r.cur = next
	}
	return n, nil
}

func (r *SetRows) nextElems(b array.Builder, max int) (int, error) {
	n := 0
	for ; n < max && r.i < r.count; n, r.i = n+1, r.i+1 {
		if r.arr.IsNull(int(r.i)) {
			b.AppendNull()
			continue
		}
		d, err := types.ParseText(r.arr.Elems[r.i], r.f.Ret)
		if err != nil {
			return n, err
		}
		types.Put(b, d, r.f.Ret)
	}
	r.done = r.i >= r.count
	return n, nil
}
