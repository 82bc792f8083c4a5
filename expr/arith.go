package expr

import (
	"math"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/types"
)

// Arithmetic kernels. The loops over two arrays or an array and a constant
// are written out (no per-row calls) and detect overflow without a branch
// per row: they accumulate a witness and only a batch that has one is
// scanned again row by row to report the failing rows.

type integer interface{ ~int16 | ~int32 | ~int64 }

type float interface{ ~float32 | ~float64 }

// errOutOfRange is PostgreSQL's error for an integer result that does not fit
// its type ("integer out of range").
func errOutOfRange(t types.T) error {
	return pgerror.New(pgerror.NumericValueOutOfRange, "%s out of range", t)
}

func errDivByZero() error { return pgerror.New(pgerror.DivisionByZero, "division by zero") }

func errFloatOverflow() error {
	return pgerror.New(pgerror.NumericValueOutOfRange, "value out of range: overflow")
}

func errFloatUnderflow() error {
	return pgerror.New(pgerror.NumericValueOutOfRange, "value out of range: underflow")
}

func errNumericOverflow() error {
	return pgerror.New(pgerror.NumericValueOutOfRange, "value overflows numeric format")
}

type arithOp uint8

const (
	opAdd arithOp = iota
	opSub
	opMul
	opDiv
	opMod
)

// binaryFixed runs a binary kernel on fixed-width arguments of type A and B
// with a result of type R: it prepares the validity and value slices and
// hands them to loop, which fills r and reports failures through fail.
func binaryFixed[A, B, R arrow.FixedWidthType](st *evalState, args []vec, rt types.T,
	loop func(x []A, y []B, xs, ys bool, r []R, out *validityOut) error) (vec, error) {
	a, b := args[0], args[1]
	n := st.resultLen(args)
	out := st.newValidity(n, a, b)
	buf, r := allocFixed[R](st, n)
	if err := loop(fixedValues[A](a), fixedValues[B](b), a.scalar && n > 1, b.scalar && n > 1, r, &out); err != nil {
		buf.Release()
		out.release()
		return vec{}, err
	}
	return st.finishFixed(rt, buf, &out), nil
}

// unaryFixed is binaryFixed for one argument.
func unaryFixed[A, R arrow.FixedWidthType](st *evalState, arg vec, rt types.T,
	loop func(x []A, r []R, out *validityOut) error) (vec, error) {
	n := st.resultLen([]vec{arg})
	out := st.newValidity(n, arg)
	buf, r := allocFixed[R](st, n)
	if err := loop(fixedValues[A](arg), r, &out); err != nil {
		buf.Release()
		out.release()
		return vec{}, err
	}
	return st.finishFixed(rt, buf, &out), nil
}

// intArith returns the kernel of an integer operator on type t (stored as T).
func intArith[T integer](t types.T, op arithOp) evalFn {
	return func(st *evalState, args []vec) (vec, error) {
		return binaryFixed(st, args, t, func(x, y []T, xs, ys bool, r []T, out *validityOut) error {
			switch op {
			case opAdd:
				return intAdd(st, t, x, y, xs, ys, r, out)
			case opSub:
				return intSub(st, t, x, y, xs, ys, r, out)
			case opMul:
				return intMul(st, t, x, y, xs, ys, r, out)
			case opDiv:
				return intDiv(st, t, x, y, xs, ys, r, out)
			default:
				return intMod(st, x, y, xs, ys, r, out)
			}
		})
	}
}

func intAdd[T integer](st *evalState, t types.T, x, y []T, xs, ys bool, r []T, out *validityOut) error {
	if xs {
		x, y, xs, ys = y, x, ys, xs
	}
	var ovf T
	if ys {
		x, c := x[:len(r)], y[0]
		for i := range r {
			s := x[i] + c
			r[i] = s
			ovf |= (s ^ x[i]) & (s ^ c)
		}
	} else {
		x, y := x[:len(r)], y[:len(r)]
		for i := range r {
			s := x[i] + y[i]
			r[i] = s
			ovf |= (s ^ x[i]) & (s ^ y[i])
		}
	}
	if ovf >= 0 {
		return nil
	}
	mx, my := maskFor(xs), maskFor(ys)
	for i := range r {
		a, b := x[i&mx], y[i&my]
		if s := a + b; (s^a)&(s^b) < 0 {
			if err := st.rowError(out, i, errOutOfRange(t)); err != nil {
				return err
			}
		}
	}
	return nil
}

func intSub[T integer](st *evalState, t types.T, x, y []T, xs, ys bool, r []T, out *validityOut) error {
	var ovf T
	switch {
	case ys:
		x, c := x[:len(r)], y[0]
		for i := range r {
			s := x[i] - c
			r[i] = s
			ovf |= (x[i] ^ c) & (x[i] ^ s)
		}
	case xs:
		c, y := x[0], y[:len(r)]
		for i := range r {
			s := c - y[i]
			r[i] = s
			ovf |= (c ^ y[i]) & (c ^ s)
		}
	default:
		x, y := x[:len(r)], y[:len(r)]
		for i := range r {
			s := x[i] - y[i]
			r[i] = s
			ovf |= (x[i] ^ y[i]) & (x[i] ^ s)
		}
	}
	if ovf >= 0 {
		return nil
	}
	mx, my := maskFor(xs), maskFor(ys)
	for i := range r {
		a, b := x[i&mx], y[i&my]
		if s := a - b; (a^b)&(a^s) < 0 {
			if err := st.rowError(out, i, errOutOfRange(t)); err != nil {
				return err
			}
		}
	}
	return nil
}

// intMul multiplies in the type itself and remembers how large the operands
// were: products of operands below 2^(w/2-1) in magnitude cannot overflow, so
// only batches with larger operands are checked exactly.
func intMul[T integer](st *evalState, t types.T, x, y []T, xs, ys bool, r []T, out *validityOut) error {
	if xs {
		x, y, xs, ys = y, x, ys, xs
	}
	// wide is the OR of the operands' magnitudes (v ^ v>>63 is |v| for
	// v >= 0 and |v|-1 below).
	var wide int64
	if ys {
		x, c := x[:len(r)], y[0]
		cv := int64(c)
		wide = cv ^ (cv >> 63)
		for i := range r {
			r[i] = x[i] * c
			v := int64(x[i])
			wide |= v ^ (v >> 63)
		}
	} else {
		x, y := x[:len(r)], y[:len(r)]
		for i := range r {
			r[i] = x[i] * y[i]
			v, w := int64(x[i]), int64(y[i])
			wide |= v ^ (v >> 63) | w ^ (w >> 63)
		}
	}
	if uint64(wide) < halfWidthLimit(t) {
		return nil
	}
	mx, my := maskFor(xs), maskFor(ys)
	for i := range r {
		if mulOverflows(x[i&mx], y[i&my], t) {
			if err := st.rowError(out, i, errOutOfRange(t)); err != nil {
				return err
			}
		}
	}
	return nil
}

// halfWidthLimit is the operand magnitude below which a product of type t
// cannot overflow.
func halfWidthLimit(t types.T) uint64 {
	switch t {
	case types.Int2:
		return 1 << 7
	case types.Int4:
		return 1 << 15
	}
	return 1 << 31
}

func mulOverflows[T integer](a, b T, t types.T) bool {
	switch t {
	case types.Int2:
		p := int64(a) * int64(b)
		return p != int64(int16(p))
	case types.Int4:
		p := int64(a) * int64(b)
		return p != int64(int32(p))
	}
	x, y := int64(a), int64(b)
	if x == 0 || y == 0 {
		return false
	}
	p := x * y
	return p/y != x || (x == -1 && y == math.MinInt64) || (y == -1 && x == math.MinInt64)
}

func intDiv[T integer](st *evalState, t types.T, x, y []T, xs, ys bool, r []T, out *validityOut) error {
	mx, my := maskFor(xs), maskFor(ys)
	minT := minOf[T](t)
	for i := range r {
		a, b := x[i&mx], y[i&my]
		switch {
		case b == 0:
			if err := st.rowError(out, i, errDivByZero()); err != nil {
				return err
			}
		case b == -1:
			if a == minT {
				if err := st.rowError(out, i, errOutOfRange(t)); err != nil {
					return err
				}
				continue
			}
			r[i] = -a
		default:
			r[i] = a / b
		}
	}
	return nil
}

func intMod[T integer](st *evalState, x, y []T, xs, ys bool, r []T, out *validityOut) error {
	mx, my := maskFor(xs), maskFor(ys)
	for i := range r {
		a, b := x[i&mx], y[i&my]
		switch b {
		case 0:
			if err := st.rowError(out, i, errDivByZero()); err != nil {
				return err
			}
		case -1:
			// MIN % -1 would trap; the answer is 0 for every dividend.
			r[i] = 0
		default:
			r[i] = a % b
		}
	}
	return nil
}

func minOf[T integer](t types.T) T {
	switch t {
	case types.Int2:
		v := int64(math.MinInt16)
		return T(v)
	case types.Int4:
		v := int64(math.MinInt32)
		return T(v)
	}
	v := int64(math.MinInt64)
	return T(v)
}

func maskFor(scalar bool) int {
	if scalar {
		return 0
	}
	return -1
}

// intNeg is unary minus on integers.
func intNeg[T integer](t types.T) evalFn {
	return func(st *evalState, args []vec) (vec, error) {
		return unaryFixed(st, args[0], t, func(x, r []T, out *validityOut) error {
			minT := minOf[T](t)
			for i := range r {
				if x[i] == minT {
					if err := st.rowError(out, i, errOutOfRange(t)); err != nil {
						return err
					}
					continue
				}
				r[i] = -x[i]
			}
			return nil
		})
	}
}

// intAbs is abs() on integers.
func intAbs[T integer](t types.T) evalFn {
	return func(st *evalState, args []vec) (vec, error) {
		return unaryFixed(st, args[0], t, func(x, r []T, out *validityOut) error {
			minT := minOf[T](t)
			for i := range r {
				v := x[i]
				if v == minT {
					if err := st.rowError(out, i, errOutOfRange(t)); err != nil {
						return err
					}
					continue
				}
				if v < 0 {
					v = -v
				}
				r[i] = v
			}
			return nil
		})
	}
}

// floatArith returns the kernel of a float4/float8 operator with
// PostgreSQL's overflow, underflow and division-by-zero checks.
func floatArith[T float](t types.T, op arithOp) evalFn {
	return func(st *evalState, args []vec) (vec, error) {
		return binaryFixed(st, args, t, func(x, y []T, xs, ys bool, r []T, out *validityOut) error {
			if op == opDiv {
				return floatDiv(st, x, y, xs, ys, r, out, false)
			}
			floatLoop(op, x, y, xs, ys, r)
			return floatCheck(st, op, x, y, xs, ys, r, out, false)
		})
	}
}

// numericArith is arithmetic on NUMERIC, which Sluice stores as float64:
// overflow to infinity is PostgreSQL's "value overflows numeric format",
// and results too small for a float64 are not an error (they would be exact
// in PostgreSQL).
func numericArith(op arithOp) evalFn {
	return func(st *evalState, args []vec) (vec, error) {
		return binaryFixed(st, args, types.Numeric, func(x, y []float64, xs, ys bool, r []float64, out *validityOut) error {
			switch op {
			case opDiv:
				return floatDiv(st, x, y, xs, ys, r, out, true)
			case opMod:
				return numericMod(st, x, y, xs, ys, r, out)
			}
			floatLoop(op, x, y, xs, ys, r)
			return floatCheck(st, op, x, y, xs, ys, r, out, true)
		})
	}
}

func floatLoop[T float](op arithOp, x, y []T, xs, ys bool, r []T) {
	n := len(r)
	switch {
	case !xs && !ys:
		x, y := x[:n], y[:n]
		switch op {
		case opAdd:
			for i := range r {
				r[i] = x[i] + y[i]
			}
		case opSub:
			for i := range r {
				r[i] = x[i] - y[i]
			}
		case opMul:
			for i := range r {
				r[i] = x[i] * y[i]
			}
		}
	case ys:
		x, c := x[:n], y[0]
		switch op {
		case opAdd:
			for i := range r {
				r[i] = x[i] + c
			}
		case opSub:
			for i := range r {
				r[i] = x[i] - c
			}
		case opMul:
			for i := range r {
				r[i] = x[i] * c
			}
		}
	default:
		c, y := x[0], y[:n]
		switch op {
		case opAdd:
			for i := range r {
				r[i] = c + y[i]
			}
		case opSub:
			for i := range r {
				r[i] = c - y[i]
			}
		case opMul:
			for i := range r {
				r[i] = c * y[i]
			}
		}
	}
}

// floatCheck finds the rows of an addition, subtraction or multiplication
// whose result overflowed to infinity from finite operands, or (for
// multiplication of floats) underflowed to zero from non-zero operands.
func floatCheck[T float](st *evalState, op arithOp, x, y []T, xs, ys bool, r []T, out *validityOut, numeric bool) error {
	// A batch without infinities, NaNs and (for products) zeros needs no
	// second look; r*0 is NaN exactly for infinite or NaN r.
	var witness T
	zero := false
	for _, v := range r {
		witness += v * 0
		zero = zero || v == 0
	}
	if witness == 0 && (op != opMul || numeric || !zero) {
		return nil
	}
	mx, my := maskFor(xs), maskFor(ys)
	for i, v := range r {
		a, b := x[i&mx], y[i&my]
		var err error
		switch {
		case isInf(v) && !isInf(a) && !isInf(b):
			if numeric {
				err = errNumericOverflow()
			} else {
				err = errFloatOverflow()
			}
		case op == opMul && !numeric && v == 0 && a != 0 && b != 0:
			err = errFloatUnderflow()
		default:
			continue
		}
		if err := st.rowError(out, i, err); err != nil {
			return err
		}
	}
	return nil
}

func floatDiv[T float](st *evalState, x, y []T, xs, ys bool, r []T, out *validityOut, numeric bool) error {
	mx, my := maskFor(xs), maskFor(ys)
	for i := range r {
		a, b := x[i&mx], y[i&my]
		if b == 0 && a == a {
			if err := st.rowError(out, i, errDivByZero()); err != nil {
				return err
			}
			continue
		}
		v := a / b
		r[i] = v
		var err error
		switch {
		case isInf(v) && !isInf(a):
			if numeric {
				err = errNumericOverflow()
			} else {
				err = errFloatOverflow()
			}
		case !numeric && v == 0 && a != 0 && !isInf(b):
			err = errFloatUnderflow()
		default:
			continue
		}
		if err := st.rowError(out, i, err); err != nil {
			return err
		}
	}
	return nil
}

func numericMod(st *evalState, x, y []float64, xs, ys bool, r []float64, out *validityOut) error {
	mx, my := maskFor(xs), maskFor(ys)
	for i := range r {
		a, b := x[i&mx], y[i&my]
		if b == 0 && a == a {
			if err := st.rowError(out, i, errDivByZero()); err != nil {
				return err
			}
			continue
		}
		r[i] = decimalMod(a, b)
	}
	return nil
}

func isInf[T float](v T) bool { return math.IsInf(float64(v), 0) }

// floatNeg is unary minus on float4, float8 and numeric.
func floatNeg[T float](t types.T) evalFn {
	return func(st *evalState, args []vec) (vec, error) {
		return unaryFixed(st, args[0], t, func(x, r []T, _ *validityOut) error {
			for i := range r {
				r[i] = -x[i]
			}
			return nil
		})
	}
}

// identity is unary plus.
func identity(_ *evalState, args []vec) (vec, error) {
	args[0].arr.Retain()
	return args[0], nil
}

// floatFunc applies a float64 function that cannot fail; the result has the
// argument's type (float8 or numeric).
func floatFunc(t types.T, f func(float64) float64) evalFn {
	return func(st *evalState, args []vec) (vec, error) {
		return unaryFixed(st, args[0], t, func(x, r []float64, _ *validityOut) error {
			for i := range r {
				r[i] = f(x[i])
			}
			return nil
		})
	}
}

// checkedFloatFunc applies a float64 function that may reject its argument:
// f returns the error for row values it cannot take.
func checkedFloatFunc(t types.T, f func(float64) (float64, error)) evalFn {
	return func(st *evalState, args []vec) (vec, error) {
		return unaryFixed(st, args[0], t, func(x, r []float64, out *validityOut) error {
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

// checkedFloatFunc2 is checkedFloatFunc for two float64 arguments.
func checkedFloatFunc2(t types.T, f func(a, b float64) (float64, error)) evalFn {
	return func(st *evalState, args []vec) (vec, error) {
		return binaryFixed(st, args, t, func(x, y []float64, xs, ys bool, r []float64, out *validityOut) error {
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

// decimalMod is NUMERIC's remainder (with the sign of the dividend) computed
// on the operands' decimal values: 12345.678 % 2 is 1.678, where math.Mod of
// the nearest float64s would expose their binary error.
func decimalMod(a, b float64) float64 {
	scale := max(decimalScale(a), decimalScale(b))
	p := math.Pow10(scale)
	sa, sb := math.Round(a*p), math.Round(b*p)
	if scale > 15 || math.Abs(sa) >= 1<<53 || math.Abs(sb) >= 1<<53 {
		return math.Mod(a, b)
	}
	return math.Mod(sa, sb) / p
}

// decimalScale is the number of decimal places of x's shortest decimal
// representation.
func decimalScale(x float64) int {
	if x == 0 || math.IsNaN(x) || math.IsInf(x, 0) {
		return 0
	}
	var buf [32]byte
	s := strconv.AppendFloat(buf[:0], x, 'e', -1, 64)
	e := 0
	digits := 0
	for i, c := range s {
		if c == 'e' {
			e, _ = strconv.Atoi(string(s[i+1:]))
			break
		}
		if c >= '0' && c <= '9' {
			digits++
		}
	}
	return max(digits-1-e, 0)
}
