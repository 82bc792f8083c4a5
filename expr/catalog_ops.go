package expr

import (
	"math"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/types"
)

// The operator and function catalog: the overloads PostgreSQL 15 has among
// Sluice's types, with PostgreSQL's argument and result types (including its
// cross-type operators such as int2 + int8, which matter for resolution even
// though they compute in the wider type).

type catalog struct {
	binary map[string][]*overload // infix operators
	prefix map[string][]*overload // prefix operators
	funcs  map[string][]*overload
}

// builtins is built once at init and never modified.
var builtins = buildCatalog()

const (
	tBool   = types.Bool
	tInt2   = types.Int2
	tInt4   = types.Int4
	tInt8   = types.Int8
	tFloat4 = types.Float4
	tFloat8 = types.Float8
	tNum    = types.Numeric
	tText   = types.Text
	tBytea  = types.Bytea
	tDate   = types.Date
	tTime   = types.Time
	tTS     = types.Timestamp
	tTSTZ   = types.TimestampTZ
	tIv     = types.Interval
)

// k wraps a kernel that needs nothing from the call's arguments.
func k(fn evalFn) kernelBuilder {
	return func([]Expr) (evalFn, error) { return fn, nil }
}

func (c *catalog) add(m map[string][]*overload, name string, ov *overload) {
	m[name] = append(m[name], ov)
}

func (c *catalog) bin(name string, l, r, ret types.T, kb kernelBuilder) *overload {
	ov := &overload{args: []types.T{l, r}, ret: ret, kernel: kb}
	c.add(c.binary, name, ov)
	return ov
}

func (c *catalog) fn(name string, args []types.T, ret types.T, kb kernelBuilder) *overload {
	ov := &overload{args: args, ret: ret, kernel: kb}
	c.add(c.funcs, name, ov)
	return ov
}

func ts(t ...types.T) []types.T { return t }

func buildCatalog() *catalog {
	c := &catalog{binary: map[string][]*overload{}, prefix: map[string][]*overload{}, funcs: map[string][]*overload{}}
	c.arithmetic()
	c.comparisons()
	c.datetimeOps()
	c.textOps()
	c.mathFuncs()
	c.textFuncs()
	c.datetimeFuncs()
	c.catalogOps()
	c.systemFuncs()
	c.arrayFuncs()
	return c
}

func (c *catalog) arithmetic() {
	ops := []struct {
		name string
		op   arithOp
	}{{"+", opAdd}, {"-", opSub}, {"*", opMul}, {"/", opDiv}}
	for _, o := range ops {
		c.bin(o.name, tInt2, tInt2, tInt2, k(intArith[int16](tInt2, o.op)))
		c.bin(o.name, tInt4, tInt4, tInt4, k(intArith[int32](tInt4, o.op)))
		c.bin(o.name, tInt8, tInt8, tInt8, k(intArith[int64](tInt8, o.op)))
		c.bin(o.name, tFloat4, tFloat4, tFloat4, k(floatArith[float32](tFloat4, o.op)))
		c.bin(o.name, tFloat8, tFloat8, tFloat8, k(floatArith[float64](tFloat8, o.op)))
		c.bin(o.name, tNum, tNum, tNum, k(numericArith(o.op)))
		// Cross-type integer and float operators compute in the wider type.
		for _, p := range [][3]types.T{
			{tInt2, tInt4, tInt4}, {tInt4, tInt2, tInt4},
			{tInt2, tInt8, tInt8}, {tInt8, tInt2, tInt8},
			{tInt4, tInt8, tInt8}, {tInt8, tInt4, tInt8},
			{tFloat4, tFloat8, tFloat8}, {tFloat8, tFloat4, tFloat8},
		} {
			wide := c.binary[o.name]
			var same *overload
			for _, ov := range wide {
				if ov.args[0] == p[2] && ov.args[1] == p[2] {
					same = ov
				}
			}
			ov := c.bin(o.name, p[0], p[1], p[2], same.kernel)
			ov.calc = ts(p[2], p[2])
		}
	}
	c.bin("%", tInt2, tInt2, tInt2, k(intArith[int16](tInt2, opMod)))
	c.bin("%", tInt4, tInt4, tInt4, k(intArith[int32](tInt4, opMod)))
	c.bin("%", tInt8, tInt8, tInt8, k(intArith[int64](tInt8, opMod)))
	c.bin("%", tNum, tNum, tNum, k(numericArith(opMod)))
	c.bin("^", tFloat8, tFloat8, tFloat8, k(checkedFloatFunc2(tFloat8, floatPow(false))))
	c.bin("^", tNum, tNum, tNum, k(checkedFloatFunc2(tNum, floatPow(true))))

	prefix := func(name string, t, ret types.T, fn evalFn) {
		c.add(c.prefix, name, &overload{args: ts(t), ret: ret, kernel: k(fn)})
	}
	prefix("-", tInt2, tInt2, intNeg[int16](tInt2))
	prefix("-", tInt4, tInt4, intNeg[int32](tInt4))
	prefix("-", tInt8, tInt8, intNeg[int64](tInt8))
	prefix("-", tFloat4, tFloat4, floatNeg[float32](tFloat4))
	prefix("-", tFloat8, tFloat8, floatNeg[float64](tFloat8))
	prefix("-", tNum, tNum, floatNeg[float64](tNum))
	prefix("-", tIv, tIv, fixed1(tIv, ivNeg))
	for _, t := range []types.T{tInt2, tInt4, tInt8, tFloat4, tFloat8, tNum} {
		prefix("+", t, t, identity)
	}
}

func (c *catalog) comparisons() {
	same := []types.T{tBool, tInt2, tInt4, tInt8, tFloat4, tFloat8, tNum, tText, tBytea,
		tDate, tTime, tTS, tTSTZ, tIv}
	cross := [][3]types.T{ // left, right, computed as
		{tInt2, tInt4, tInt4}, {tInt4, tInt2, tInt4},
		{tInt2, tInt8, tInt8}, {tInt8, tInt2, tInt8},
		{tInt4, tInt8, tInt8}, {tInt8, tInt4, tInt8},
		{tFloat4, tFloat8, tFloat8}, {tFloat8, tFloat4, tFloat8},
		{tDate, tTS, tTS}, {tTS, tDate, tTS},
		{tDate, tTSTZ, tTSTZ}, {tTSTZ, tDate, tTSTZ},
		{tTS, tTSTZ, tTSTZ}, {tTSTZ, tTS, tTSTZ},
	}
	for name, op := range cmpOps {
		for _, t := range same {
			c.bin(name, t, t, tBool, k(compareKernel(t, op)))
		}
		if op == cmpEq || op == cmpNe {
			// jsonb is stored in its canonical text form, so equal
			// documents are equal strings (but for numbers that differ
			// only in trailing zeros, 1.5 and 1.50, which PostgreSQL
			// finds equal). Its ordering is not implemented.
			c.bin(name, types.JSONB, types.JSONB, tBool, k(bytesCompare(op)))
		}
		for _, p := range cross {
			ov := c.bin(name, p[0], p[1], tBool, k(compareKernel(p[2], op)))
			ov.calc = ts(p[2], p[2])
		}
	}
}

func (c *catalog) datetimeOps() {
	c.bin("+", tDate, tInt4, tDate, k(fixed2(tDate, dateAddDays)))
	c.bin("+", tInt4, tDate, tDate, k(fixed2(tDate, func(n, d int32) (int32, error) { return dateAddDays(d, n) })))
	c.bin("-", tDate, tInt4, tDate, k(fixed2(tDate, dateSubDays)))
	c.bin("-", tDate, tDate, tInt4, k(fixed2(tInt4, dateDiff)))
	c.bin("+", tDate, tIv, tTS, k(fixed2(tTS, datePlusInterval)))
	c.bin("+", tIv, tDate, tTS, k(fixed2(tTS, func(iv arrow.MonthDayNanoInterval, d int32) (int64, error) {
		return datePlusInterval(d, iv)
	})))
	c.bin("-", tDate, tIv, tTS, k(fixed2(tTS, dateMinusInterval)))
	c.bin("+", tDate, tTime, tTS, k(fixed2(tTS, datePlusTime)))
	c.bin("+", tTime, tDate, tTS, k(fixed2(tTS, func(t int64, d int32) (int64, error) { return datePlusTime(d, t) })))
	for _, t := range []types.T{tTS, tTSTZ} {
		c.bin("+", t, tIv, t, k(fixed2(t, tsPlusInterval)))
		c.bin("+", tIv, t, t, k(fixed2(t, func(iv arrow.MonthDayNanoInterval, ts int64) (int64, error) {
			return tsPlusInterval(ts, iv)
		})))
		c.bin("-", t, tIv, t, k(fixed2(t, tsMinusInterval)))
		c.bin("-", t, t, tIv, k(fixed2(tIv, tsMinusTS)))
	}
	c.bin("+", tTime, tIv, tTime, k(fixed2(tTime, timePlusInterval)))
	c.bin("+", tIv, tTime, tTime, k(fixed2(tTime, func(iv arrow.MonthDayNanoInterval, t int64) (int64, error) {
		return timePlusInterval(t, iv)
	})))
	c.bin("-", tTime, tIv, tTime, k(fixed2(tTime, timeMinusInterval)))
	c.bin("-", tTime, tTime, tIv, k(fixed2(tIv, timeMinusTime)))
	c.bin("+", tIv, tIv, tIv, k(fixed2(tIv, ivPlusIv)))
	c.bin("-", tIv, tIv, tIv, k(fixed2(tIv, ivMinusIv)))
	c.bin("*", tIv, tFloat8, tIv, k(fixed2(tIv, ivMulFloat)))
	c.bin("*", tFloat8, tIv, tIv, k(fixed2(tIv, floatMulIv)))
	c.bin("/", tIv, tFloat8, tIv, k(fixed2(tIv, ivDivFloat)))
}

func (c *catalog) textOps() {
	cat := textKernel(tText, func(ra *rowArgs, i int, dst []byte) ([]byte, bool, error) {
		return append(append(dst, ra.bytes(0, i)...), ra.bytes(1, i)...), false, nil
	})
	c.bin("||", tText, tText, tText, k(cat))
	c.bin("||", tText, tAnyNonArray, tText, anyCat)
	c.bin("||", tAnyNonArray, tText, tText, anyCat)
	c.bin("||", tBytea, tBytea, tBytea, k(textKernel(tBytea, func(ra *rowArgs, i int, dst []byte) ([]byte, bool, error) {
		return append(append(dst, ra.bytes(0, i)...), ra.bytes(1, i)...), false, nil
	})))
	c.bin("~~", tText, tText, tBool, likeKernel(false, false))
	c.bin("!~~", tText, tText, tBool, likeKernel(false, true))
	c.bin("~~*", tText, tText, tBool, likeKernel(true, false))
	c.bin("!~~*", tText, tText, tBool, likeKernel(true, true))
	c.bin("~~", tBytea, tBytea, tBool, likeKernel(false, false))
	c.bin("!~~", tBytea, tBytea, tBool, likeKernel(false, true))
	c.bin("~", tText, tText, tBool, regexMatchKernel(false, false))
	c.bin("!~", tText, tText, tBool, regexMatchKernel(false, true))
	c.bin("~*", tText, tText, tBool, regexMatchKernel(true, false))
	c.bin("!~*", tText, tText, tBool, regexMatchKernel(true, true))
}

// anyCat is text || anynonarray and anynonarray || text. PostgreSQL
// defines them as $1::text || $2, so the non-text operand is cast to text:
// a boolean is 'true', not its output 't'.
func anyCat(args []Expr) (evalFn, error) {
	lt, rt := args[0].Type(), args[1].Type()
	return textKernel(tText, func(ra *rowArgs, i int, dst []byte) ([]byte, bool, error) {
		dst = appendCastText(dst, ra, 0, i, lt)
		return appendCastText(dst, ra, 1, i, rt), false, nil
	}), nil
}

// appendCastText appends argument j of row i as its cast to text.
func appendCastText(dst []byte, ra *rowArgs, j, i int, t types.T) []byte {
	if t == types.Bool {
		if boolValue(ra.vecs[j], i) {
			return append(dst, "true"...)
		}
		return append(dst, "false"...)
	}
	return appendAsText(dst, ra, j, i, t)
}

// appendAsText appends argument j of row i in its text form.
func appendAsText(dst []byte, ra *rowArgs, j, i int, t types.T) []byte {
	if t.IsString() {
		return append(dst, ra.bytes(j, i)...)
	}
	return types.AppendText(dst, ra.vecs[j].arr, i&ra.masks[j], t)
}

func floatPow(numeric bool) func(a, b float64) (float64, error) {
	return func(a, b float64) (float64, error) {
		if a == 0 && b < 0 {
			return 0, pgerror.New("2201F", "zero raised to a negative power is undefined")
		}
		if a < 0 && math.Floor(b) != b && !math.IsInf(b, 0) && !math.IsNaN(b) {
			return 0, pgerror.New("2201F", "a negative number raised to a non-integer power yields a complex result")
		}
		r := math.Pow(a, b)
		switch {
		case math.IsInf(r, 0) && !math.IsInf(a, 0) && !math.IsInf(b, 0):
			if numeric {
				return 0, errNumericOverflow()
			}
			return 0, errFloatOverflow()
		case r == 0 && a != 0 && !numeric && !math.IsInf(b, 0):
			return 0, errFloatUnderflow()
		}
		return r, nil
	}
}
