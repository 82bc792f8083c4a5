package expr

import (
	"math"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/types"
)

// Casts. Conversions between numbers, dates and times are typed loops with
// PostgreSQL's rounding and range checks; conversions to and from text go
// through the types package's text output and input functions, which define
// the one text form of every type.

func errCannotCast(from, to types.T) error {
	return pgerror.New(pgerror.CannotCoerce, "cannot cast type %s to %s", typeName(from), typeName(to))
}

type pair [2]types.T

// castKernel returns the kernel converting from one type to another, or
// 42846 when PostgreSQL has no such cast.
func castKernel(from, to types.T) (evalFn, error) {
	if from == types.Unknown || from == types.Varchar {
		from = types.Text
	}
	if from == to || (from == types.Text && to == types.Varchar) || (from == types.JSONB && to.IsString()) {
		return relabel(to), nil
	}
	if from == types.Null {
		return func(st *evalState, _ []vec) (vec, error) { return st.nullVec(to), nil }, nil
	}
	if fn, ok := catalogCast(from, to); ok {
		return fn, nil
	}
	if fn := numericCast(from, to); fn != nil {
		return fn, nil
	}
	switch (pair{from, to}) {
	case pair{types.Int4, types.Bool}:
		return boolKernel(func(ra *rowArgs, i int) (bool, error) { return ra.int32(0, i) != 0, nil }), nil
	case pair{types.Bool, types.Int4}:
		return boolToInt, nil
	case pair{types.Date, types.Timestamp}, pair{types.Date, types.TimestampTZ}:
		return fixed1(to, dateToTS), nil
	case pair{types.Timestamp, types.TimestampTZ}, pair{types.TimestampTZ, types.Timestamp}:
		return relabel(to), nil
	case pair{types.Timestamp, types.Date}, pair{types.TimestampTZ, types.Date}:
		return fixed1(types.Date, tsToDate), nil
	case pair{types.Timestamp, types.Time}, pair{types.TimestampTZ, types.Time}:
		return fixed1(types.Time, tsToTime), nil
	case pair{types.Time, types.Interval}:
		return fixed1(types.Interval, func(t int64) (arrow.MonthDayNanoInterval, error) {
			return arrow.MonthDayNanoInterval{Nanoseconds: t * 1000}, nil
		}), nil
	case pair{types.Interval, types.Time}:
		return fixed1(types.Time, func(iv arrow.MonthDayNanoInterval) (int64, error) {
			return floorMod(iv.Nanoseconds/1000, microsPerDay), nil
		}), nil
	case pair{types.Bool, types.Text}, pair{types.Bool, types.Varchar}:
		return boolToText(to), nil
	}
	if from == types.JSONB && (to.IsNumeric() || to == types.Bool) {
		return jsonbToScalar(to), nil
	}
	if castLevel(from, to) == coerceNone {
		return nil, errCannotCast(from, to)
	}
	if to == types.Text || to == types.Varchar {
		return textOut(from, to), nil
	}
	if from == types.Text {
		return textIn(to), nil
	}
	return nil, errCannotCast(from, to)
}

// relabel changes only the SQL type: the Arrow representation is the same.
func relabel(to types.T) evalFn {
	return func(st *evalState, args []vec) (vec, error) {
		a := args[0]
		if arrow.TypeEqual(a.arr.DataType(), to.Arrow()) {
			a.arr.Retain()
			return a, nil
		}
		d := a.arr.Data()
		nd := array.NewData(to.Arrow(), d.Len(), d.Buffers(), d.Children(), d.NullN(), d.Offset())
		arr := array.MakeFromData(nd)
		nd.Release()
		return vec{arr: arr, scalar: a.scalar}, nil
	}
}

func boolToInt(st *evalState, args []vec) (vec, error) {
	n := st.resultLen(args)
	out := st.newValidity(n, args[0])
	buf, r := allocFixed[int32](st, n)
	for i := range r {
		if boolValue(args[0], i) {
			r[i] = 1
		}
	}
	return st.finishFixed(types.Int4, buf, &out), nil
}

func boolToText(to types.T) evalFn {
	return textKernel(to, func(ra *rowArgs, i int, dst []byte) ([]byte, bool, error) {
		if boolValue(ra.vecs[0], i) {
			return append(dst, "true"...), false, nil
		}
		return append(dst, "false"...), false, nil
	})
}

// numericCast converts between the numeric types, or returns nil when from
// or to is not numeric.
func numericCast(from, to types.T) evalFn {
	if !from.IsNumeric() || !to.IsNumeric() {
		return nil
	}
	switch from {
	case types.Int2:
		return castFromInt[int16](to)
	case types.Int4:
		return castFromInt[int32](to)
	case types.Int8:
		return castFromInt[int64](to)
	case types.Float4:
		return castFromFloat[float32](from, to)
	}
	return castFromFloat[float64](from, to)
}

func castFromInt[F integer](to types.T) evalFn {
	switch to {
	case types.Int2:
		return intToInt[F, int16](to, math.MinInt16, math.MaxInt16)
	case types.Int4:
		return intToInt[F, int32](to, math.MinInt32, math.MaxInt32)
	case types.Int8:
		return intToInt[F, int64](to, math.MinInt64, math.MaxInt64)
	case types.Float4:
		return fixed1(to, func(v F) (float32, error) { return float32(v), nil })
	}
	return fixed1(to, func(v F) (float64, error) { return float64(v), nil })
}

func intToInt[F, T integer](to types.T, lo, hi int64) evalFn {
	return func(st *evalState, args []vec) (vec, error) {
		return unaryFixed(st, args[0], to, func(x []F, r []T, out *validityOut) error {
			for i, v := range x[:len(r)] {
				if int64(v) < lo || int64(v) > hi {
					if err := st.rowError(out, i, errOutOfRange(to)); err != nil {
						return err
					}
					continue
				}
				r[i] = T(v)
			}
			return nil
		})
	}
}

// castFromFloat converts from float4, float8 or numeric. Floats round to
// integers half to even (rint), numerics half away from zero, as in
// PostgreSQL.
func castFromFloat[F float](from, to types.T) evalFn {
	round := math.RoundToEven
	if from == types.Numeric {
		round = math.Round
	}
	toInt := func(lo, hi float64) func(v F) (float64, error) {
		return func(v F) (float64, error) {
			f := float64(v)
			if from == types.Numeric {
				switch {
				case math.IsNaN(f):
					return 0, pgerror.New(pgerror.FeatureNotSupported, "cannot convert NaN to %s", to)
				case math.IsInf(f, 0):
					return 0, pgerror.New(pgerror.FeatureNotSupported, "cannot convert infinity to %s", to)
				}
			}
			f = round(f)
			if math.IsNaN(f) || f < lo || f >= hi {
				return 0, errOutOfRange(to)
			}
			return f, nil
		}
	}
	switch to {
	case types.Int2:
		conv := toInt(math.MinInt16, -math.MinInt16)
		return fixed1(to, func(v F) (int16, error) { f, err := conv(v); return int16(f), err })
	case types.Int4:
		conv := toInt(math.MinInt32, -math.MinInt32)
		return fixed1(to, func(v F) (int32, error) { f, err := conv(v); return int32(f), err })
	case types.Int8:
		conv := toInt(math.MinInt64, -math.MinInt64)
		return fixed1(to, func(v F) (int64, error) { f, err := conv(v); return int64(f), err })
	case types.Float4:
		return fixed1(to, func(v F) (float32, error) {
			r := float32(v)
			switch {
			case isInf(r) && !isInf(v):
				return 0, errFloatOverflow()
			case r == 0 && v != 0:
				return 0, errFloatUnderflow()
			}
			return r, nil
		})
	}
	if to == types.Numeric && from != types.Numeric {
		// PostgreSQL converts a float to NUMERIC through its decimal
		// form with 6 (real) or 15 (double) significant digits.
		digits := 15
		if from == types.Float4 {
			digits = 6
		}
		return fixed1(to, func(v F) (float64, error) {
			f := float64(v)
			if math.IsNaN(f) || math.IsInf(f, 0) {
				return f, nil
			}
			var buf [32]byte
			return strconv.ParseFloat(string(strconv.AppendFloat(buf[:0], f, 'g', digits, 64)), 64)
		})
	}
	return fixed1(to, func(v F) (float64, error) { return float64(v), nil })
}

// textOut formats any value as text with its type's output function.
func textOut(from, to types.T) evalFn {
	return textKernel(to, func(ra *rowArgs, i int, dst []byte) ([]byte, bool, error) {
		return types.AppendText(dst, ra.vecs[0].arr, i&ra.masks[0], from), false, nil
	})
}

// textIn parses text with the target type's input function. This is the
// one cast that goes through a Datum per row; casting text columns is rare
// next to casting constants, which happens once at bind time.
func textIn(to types.T) evalFn {
	return func(st *evalState, args []vec) (vec, error) {
		a := args[0]
		n := st.resultLen(args)
		src := binaryOf(a)
		valid := validityOf(a)
		if n == 1 {
			src.mask, valid.mask = 0, 0
		}
		b := array.NewBuilder(st.mem, to.Arrow())
		defer b.Release()
		b.Reserve(n)
		out := validityOut{n: n, mask: maskFor(n == 1 && a.scalar)}
		for i := 0; i < n; i++ {
			if !valid.valid(i) {
				b.AppendNull()
				continue
			}
			d, err := types.ParseText(string(src.at(i)), to)
			if err != nil {
				if err := st.rowError(&out, i, err); err != nil {
					out.release()
					return vec{}, err
				}
				b.AppendNull()
				continue
			}
			types.Put(b, d, to)
		}
		out.release()
		return vec{arr: b.NewArray(), scalar: out.mask == 0}, nil
	}
}

// jsonbToScalar is jsonb::numeric type and jsonb::boolean: the document must
// be a JSON number (or boolean).
func jsonbToScalar(to types.T) evalFn {
	want := "number"
	if to == types.Bool {
		want = "boolean"
	}
	kind := func(s string) string {
		switch {
		case s == "null":
			return "null"
		case s == "true" || s == "false":
			return "boolean"
		case strings.HasPrefix(s, `"`):
			return "string"
		case strings.HasPrefix(s, "["):
			return "array"
		case strings.HasPrefix(s, "{"):
			return "object"
		}
		return "number"
	}
	mismatch := func(s string) error {
		return pgerror.New(pgerror.InvalidParameterValue, "cannot cast jsonb %s to type %s", kind(s), to)
	}
	num := func(s string) (float64, error) {
		s = strings.TrimSpace(s)
		if kind(s) != want {
			return 0, mismatch(s)
		}
		return strconv.ParseFloat(s, 64)
	}
	if to == types.Bool {
		return boolKernel(func(ra *rowArgs, i int) (bool, error) {
			s := strings.TrimSpace(string(ra.bytes(0, i)))
			if kind(s) != want {
				return false, mismatch(s)
			}
			return s == "true", nil
		})
	}
	// Parse to float8, then apply the numeric cast's rounding and range
	// checks as PostgreSQL does (jsonb -> numeric -> target).
	toNumeric := rowKernel(types.Numeric, func(ra *rowArgs, i int) (float64, bool, error) {
		f, err := num(string(ra.bytes(0, i)))
		return f, false, err
	})
	if to == types.Numeric || to == types.Float8 {
		return func(st *evalState, args []vec) (vec, error) {
			v, err := toNumeric(st, args)
			if err != nil || to == types.Numeric {
				return v, err
			}
			defer v.release()
			return relabel(to)(st, []vec{v})
		}
	}
	next := numericCast(types.Numeric, to)
	return func(st *evalState, args []vec) (vec, error) {
		v, err := toNumeric(st, args)
		if err != nil {
			return v, err
		}
		defer v.release()
		return next(st, []vec{v})
	}
}
