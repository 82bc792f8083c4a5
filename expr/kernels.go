package expr

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"

	"github.com/sluicedb/sluice/types"
)

// Generic kernel shapes for functions that are not on the hottest paths
// (date arithmetic, math functions, text functions). The per-row work is a
// call of a plain Go function, with no boxing and no allocation; errors are
// only allocated for rows that fail.

// fixed1 is a kernel of one fixed-width argument.
func fixed1[A, R arrow.FixedWidthType](rt types.T, f func(a A) (R, error)) evalFn {
	return func(st *evalState, args []vec) (vec, error) {
		return unaryFixed(st, args[0], rt, func(x []A, r []R, out *validityOut) error {
			for i := range r {
				v, err := f(x[i])
				if err != nil {
					if err := st.rowError(out, i, err); err != nil {
						return err
					}
					continue
				}
				r[i] = v
			}
			return nil
		})
	}
}

// fixed2 is a kernel of two fixed-width arguments.
func fixed2[A, B, R arrow.FixedWidthType](rt types.T, f func(a A, b B) (R, error)) evalFn {
	return func(st *evalState, args []vec) (vec, error) {
		return binaryFixed(st, args, rt, func(x []A, y []B, xs, ys bool, r []R, out *validityOut) error {
			mx, my := maskFor(xs), maskFor(ys)
			for i := range r {
				v, err := f(x[i&mx], y[i&my])
				if err != nil {
					if err := st.rowError(out, i, err); err != nil {
						return err
					}
					continue
				}
				r[i] = v
			}
			return nil
		})
	}
}

// rowArgs gives row-wise access to any number of arguments of any type for
// the kernels that take several (lpad, split_part, regexp_replace): one
// accessor per argument, chosen once per batch.
type rowArgs struct {
	vecs  []vec
	valid []bits
	bins  []binaryValues
	i64   [][]int64
	i32   [][]int32
	f64   [][]float64
	ivs   [][]arrow.MonthDayNanoInterval
	masks []int
	n     int
}

func newRowArgs(st *evalState, args []vec) *rowArgs {
	ra := &rowArgs{vecs: args, n: st.resultLen(args)}
	k := len(args)
	ra.valid = make([]bits, k)
	ra.bins = make([]binaryValues, k)
	ra.i64 = make([][]int64, k)
	ra.i32 = make([][]int32, k)
	ra.f64 = make([][]float64, k)
	ra.ivs = make([][]arrow.MonthDayNanoInterval, k)
	ra.masks = make([]int, k)
	for j, a := range args {
		ra.valid[j] = validityOf(a)
		ra.masks[j] = a.idxMask()
		if ra.n == 1 {
			ra.valid[j].mask, ra.masks[j] = 0, 0
		}
		switch a.arr.DataType().ID() {
		case arrow.STRING, arrow.BINARY:
			ra.bins[j] = binaryOf(a)
			ra.bins[j].mask = ra.masks[j]
		case arrow.INT64, arrow.TIMESTAMP, arrow.TIME64:
			ra.i64[j] = fixedValues[int64](a)
		case arrow.INT32, arrow.DATE32:
			ra.i32[j] = fixedValues[int32](a)
		case arrow.FLOAT64:
			ra.f64[j] = fixedValues[float64](a)
		case arrow.INTERVAL_MONTH_DAY_NANO:
			ra.ivs[j] = fixedValues[arrow.MonthDayNanoInterval](a)
		}
	}
	return ra
}

func (ra *rowArgs) null(i int) bool {
	for _, v := range ra.valid {
		if !v.valid(i) {
			return true
		}
	}
	return false
}

func (ra *rowArgs) bytes(j, i int) []byte { return ra.bins[j].at(i) }
func (ra *rowArgs) int32(j, i int) int32  { return ra.i32[j][i&ra.masks[j]] }
func (ra *rowArgs) int64(j, i int) int64  { return ra.i64[j][i&ra.masks[j]] }
func (ra *rowArgs) float(j, i int) float64 {
	return ra.f64[j][i&ra.masks[j]]
}

func (ra *rowArgs) interval(j, i int) types.IntervalValue {
	return ivFromArrow(ra.ivs[j][i&ra.masks[j]])
}

// textKernel builds a text (or bytea) result row by row: f appends row i's
// value to dst, or reports null or a failure. Rows where an argument is NULL
// are NULL without calling f (the function is strict).
func textKernel(rt types.T, f func(ra *rowArgs, i int, dst []byte) ([]byte, bool, error)) evalFn {
	return func(st *evalState, args []vec) (vec, error) {
		ra := newRowArgs(st, args)
		b := st.stringBuilder(rt, ra.n, 0)
		out := validityOut{n: ra.n, mask: maskFor(ra.n == 1 && allScalar(args))}
		for i := 0; i < ra.n; i++ {
			if ra.null(i) {
				b.AppendNull()
				continue
			}
			var null bool
			var err error
			st.scratch, null, err = f(ra, i, st.scratch[:0])
			if err != nil {
				if err := st.rowError(&out, i, err); err != nil {
					b.Release()
					out.release()
					return vec{}, err
				}
				b.AppendNull()
				continue
			}
			if null {
				b.AppendNull()
				continue
			}
			b.Append(st.scratch)
		}
		out.release()
		return finishString(b, out.mask == 0), nil
	}
}

// rowKernel builds a fixed-width result row by row from arguments of any
// types; f returns row i's value, or reports null or a failure.
func rowKernel[R arrow.FixedWidthType](rt types.T, f func(ra *rowArgs, i int) (R, bool, error)) evalFn {
	return func(st *evalState, args []vec) (vec, error) {
		ra := newRowArgs(st, args)
		out := st.newValidity(ra.n, args...)
		buf, r := allocFixed[R](st, ra.n)
		for i := range r {
			if !out.valid(i) {
				continue
			}
			v, null, err := f(ra, i)
			switch {
			case err != nil:
				if err := st.rowError(&out, i, err); err != nil {
					buf.Release()
					out.release()
					return vec{}, err
				}
			case null:
				out.setNull(st, i)
			default:
				r[i] = v
			}
		}
		return st.finishFixed(rt, buf, &out), nil
	}
}

// boolKernel is rowKernel for a boolean result.
func boolKernel(f func(ra *rowArgs, i int) (bool, error)) evalFn {
	return func(st *evalState, args []vec) (vec, error) {
		ra := newRowArgs(st, args)
		out := st.newValidity(ra.n, args...)
		values := st.allocBitmap(ra.n)
		vb := values.Bytes()
		for i := 0; i < ra.n; i++ {
			if !out.valid(i) {
				continue
			}
			v, err := f(ra, i)
			if err != nil {
				if err := st.rowError(&out, i, err); err != nil {
					values.Release()
					out.release()
					return vec{}, err
				}
				continue
			}
			if v {
				bitutil.SetBit(vb, i)
			}
		}
		return st.finishBool(values, &out), nil
	}
}

// boolValue reads row i of a boolean vec.
func boolValue(v vec, i int) bool {
	return v.arr.(*array.Boolean).Value(i & v.idxMask())
}
