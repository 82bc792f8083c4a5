package expr

import (
	"bytes"
	"encoding/binary"
	mbits "math/bits"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/bitutil"

	"github.com/sluicedb/sluice/types"
)

// Comparison kernels. Text compares byte by byte, which is the order of
// PostgreSQL's "C" collation (and of "C.UTF-8"); Sluice has no other
// collation. Floats order NaN above every other value and equal to itself,
// as PostgreSQL does; intervals compare by their length with a month of 30
// days and a day of 24 hours, in 128 bits so that no interval overflows.

type cmpOp uint8

const (
	cmpEq cmpOp = iota
	cmpNe
	cmpLt
	cmpLe
	cmpGt
	cmpGe
)

var cmpOps = map[string]cmpOp{"=": cmpEq, "<>": cmpNe, "<": cmpLt, "<=": cmpLe, ">": cmpGt, ">=": cmpGe}

// flip is the operator that gives the same answer with the operands swapped.
func (op cmpOp) flip() cmpOp {
	switch op {
	case cmpLt:
		return cmpGt
	case cmpLe:
		return cmpGe
	case cmpGt:
		return cmpLt
	case cmpGe:
		return cmpLe
	}
	return op
}

// holds reports whether a three-way comparison result c satisfies op.
func (op cmpOp) holds(c int) bool {
	switch op {
	case cmpEq:
		return c == 0
	case cmpNe:
		return c != 0
	case cmpLt:
		return c < 0
	case cmpLe:
		return c <= 0
	case cmpGt:
		return c > 0
	}
	return c >= 0
}

// compareKernel returns the kernel of op on two values of type t.
func compareKernel(t types.T, op cmpOp) evalFn {
	switch t {
	case types.Int2:
		return orderedCompare[int16](op)
	case types.Int4, types.Date:
		return orderedCompare[int32](op)
	case types.Int8, types.Time, types.Timestamp, types.TimestampTZ:
		return orderedCompare[int64](op)
	case types.Float4:
		return floatCompare[float32](op)
	case types.Float8, types.Numeric:
		return floatCompare[float64](op)
	case types.Bool:
		return boolCompare(op)
	case types.Interval:
		return intervalCompare(op)
	}
	return bytesCompare(op)
}

// compareResult prepares a boolean result for two arguments and calls fill
// to set the bits of the rows where the comparison holds.
func compareResult(st *evalState, args []vec, fill func(out []byte, n int, xs, ys bool)) (vec, error) {
	a, b := args[0], args[1]
	n := st.resultLen(args)
	out := st.newValidity(n, a, b)
	values := st.allocBitmap(n)
	fill(values.Bytes(), n, a.scalar && n > 1, b.scalar && n > 1)
	return st.finishBool(values, &out), nil
}

type ordered interface {
	~int16 | ~int32 | ~int64 | ~float32 | ~float64
}

func orderedCompare[T ordered](op cmpOp) evalFn {
	return func(st *evalState, args []vec) (vec, error) {
		x, y := fixedValues[T](args[0]), fixedValues[T](args[1])
		return compareResult(st, args, func(out []byte, n int, xs, ys bool) {
			switch {
			case xs:
				compareScalar(st, op.flip(), y[:n], x[0], out)
			case ys:
				compareScalar(st, op, x[:n], y[0], out)
			default:
				compareArrays(st, op, x[:n], y[:n], out)
			}
		})
	}
}

// compareArrays sets bit i of out where x[i] op y[i]. The comparisons go
// to one byte per row first (no dependency between rows), then are packed
// eight at a time.
func compareArrays[T ordered](st *evalState, op cmpOp, x, y []T, out []byte) {
	tmp := st.byteScratch(len(x))
	y = y[:len(x)]
	switch op {
	case cmpEq:
		for i := range tmp {
			tmp[i] = b2u(x[i] == y[i])
		}
	case cmpNe:
		for i := range tmp {
			tmp[i] = b2u(x[i] != y[i])
		}
	case cmpLt:
		for i := range tmp {
			tmp[i] = b2u(x[i] < y[i])
		}
	case cmpLe:
		for i := range tmp {
			tmp[i] = b2u(x[i] <= y[i])
		}
	case cmpGt:
		for i := range tmp {
			tmp[i] = b2u(x[i] > y[i])
		}
	case cmpGe:
		for i := range tmp {
			tmp[i] = b2u(x[i] >= y[i])
		}
	}
	packBits(out, tmp)
}

// compareScalar sets bit i of out where x[i] op c.
func compareScalar[T ordered](st *evalState, op cmpOp, x []T, c T, out []byte) {
	tmp := st.byteScratch(len(x))
	x = x[:len(tmp)]
	switch op {
	case cmpEq:
		for i := range tmp {
			tmp[i] = b2u(x[i] == c)
		}
	case cmpNe:
		for i := range tmp {
			tmp[i] = b2u(x[i] != c)
		}
	case cmpLt:
		for i := range tmp {
			tmp[i] = b2u(x[i] < c)
		}
	case cmpLe:
		for i := range tmp {
			tmp[i] = b2u(x[i] <= c)
		}
	case cmpGt:
		for i := range tmp {
			tmp[i] = b2u(x[i] > c)
		}
	case cmpGe:
		for i := range tmp {
			tmp[i] = b2u(x[i] >= c)
		}
	}
	packBits(out, tmp)
}

// packBits packs bytes that are 0 or 1 into the bits of out (LSB first).
func packBits(out, src []byte) {
	n := len(src)
	full := n / 8
	out = out[:(n+7)/8]
	for j := 0; j < full; j++ {
		v := binary.LittleEndian.Uint64(src[j*8:])
		// Byte k of v lands on bit 56+k: the terms of the product never
		// collide, so there are no carries.
		out[j] = byte((v * 0x0102040810204080) >> 56)
	}
	if rest := src[full*8:]; len(rest) > 0 {
		var b byte
		for k, v := range rest {
			b |= v << k
		}
		out[full] = b
	}
}

func b2u(b bool) byte {
	if b {
		return 1
	}
	return 0
}

// floatCompare compares floats with NaN as the largest value, equal to
// itself. Batches without NaN take the plain loops.
func floatCompare[T float](op cmpOp) evalFn {
	plain := orderedCompare[T](op)
	return func(st *evalState, args []vec) (vec, error) {
		x, y := fixedValues[T](args[0]), fixedValues[T](args[1])
		if !hasNaN(x) && !hasNaN(y) {
			return plain(st, args)
		}
		return compareResult(st, args, func(out []byte, n int, xs, ys bool) {
			mx, my := maskFor(xs), maskFor(ys)
			for i := 0; i < n; i++ {
				if op.holds(floatCmp(x[i&mx], y[i&my])) {
					bitutil.SetBit(out, i)
				}
			}
		})
	}
}

func hasNaN[T float](x []T) bool {
	for _, v := range x {
		if v != v {
			return true
		}
	}
	return false
}

func floatCmp[T float](a, b T) int {
	switch {
	case a != a:
		if b != b {
			return 0
		}
		return 1
	case b != b:
		return -1
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func boolCompare(op cmpOp) evalFn {
	return func(st *evalState, args []vec) (vec, error) {
		xd, yd := args[0].arr.Data(), args[1].arr.Data()
		xb, yb := xd.Buffers()[1].Bytes(), yd.Buffers()[1].Bytes()
		return compareResult(st, args, func(out []byte, n int, xs, ys bool) {
			mx, my := maskFor(xs), maskFor(ys)
			for i := 0; i < n; i++ {
				a := int(b2u(bitutil.BitIsSet(xb, xd.Offset()+(i&mx))))
				b := int(b2u(bitutil.BitIsSet(yb, yd.Offset()+(i&my))))
				if op.holds(a - b) {
					bitutil.SetBit(out, i)
				}
			}
		})
	}
}

func bytesCompare(op cmpOp) evalFn {
	return func(st *evalState, args []vec) (vec, error) {
		x, y := binaryOf(args[0]), binaryOf(args[1])
		return compareResult(st, args, func(out []byte, n int, xs, ys bool) {
			x.mask, y.mask = maskFor(xs), maskFor(ys)
			for i := 0; i < n; i++ {
				if op.holds(bytes.Compare(x.at(i), y.at(i))) {
					bitutil.SetBit(out, i)
				}
			}
		})
	}
}

func intervalCompare(op cmpOp) evalFn {
	return func(st *evalState, args []vec) (vec, error) {
		x := fixedValues[arrow.MonthDayNanoInterval](args[0])
		y := fixedValues[arrow.MonthDayNanoInterval](args[1])
		return compareResult(st, args, func(out []byte, n int, xs, ys bool) {
			mx, my := maskFor(xs), maskFor(ys)
			for i := 0; i < n; i++ {
				if op.holds(intervalCmp(x[i&mx], y[i&my])) {
					bitutil.SetBit(out, i)
				}
			}
		})
	}
}

// intervalKey is an interval's length in nanoseconds as a 128-bit number
// (hi, lo), a month counting 30 days.
func intervalKey(iv arrow.MonthDayNanoInterval) (hi int64, lo uint64) {
	days := int64(iv.Months)*30 + int64(iv.Days)
	const nanosPerDay = uint64(types.MicrosPerDay) * 1000
	// days * nanosPerDay as a signed 128-bit product.
	neg := days < 0
	ud := uint64(days)
	if neg {
		ud = uint64(-days)
	}
	h, l := mbits.Mul64(ud, nanosPerDay)
	if neg {
		l = ^l + 1
		h = ^h
		if l == 0 {
			h++
		}
	}
	// Add the nanoseconds, sign-extended.
	ns := iv.Nanoseconds
	var carry uint64
	l, carry = mbits.Add64(l, uint64(ns), 0)
	ext := uint64(0)
	if ns < 0 {
		ext = ^uint64(0)
	}
	h, _ = mbits.Add64(h, ext, carry)
	return int64(h), l
}

func intervalCmp(a, b arrow.MonthDayNanoInterval) int {
	ah, al := intervalKey(a)
	bh, bl := intervalKey(b)
	switch {
	case ah < bh:
		return -1
	case ah > bh:
		return 1
	case al < bl:
		return -1
	case al > bl:
		return 1
	}
	return 0
}
