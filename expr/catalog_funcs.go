package expr

import (
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/types"
)

func errLogZero() error { return pgerror.New("2201E", "cannot take logarithm of zero") }

func errLogNegative() error {
	return pgerror.New("2201E", "cannot take logarithm of a negative number")
}

func checkLogArg(x float64) error {
	switch {
	case x == 0:
		return errLogZero()
	case x < 0:
		return errLogNegative()
	}
	return nil
}

func (c *catalog) mathFuncs() {
	fl := []types.T{tFloat8, tNum}
	c.fn("abs", ts(tInt2), tInt2, k(intAbs[int16](tInt2)))
	c.fn("abs", ts(tInt4), tInt4, k(intAbs[int32](tInt4)))
	c.fn("abs", ts(tInt8), tInt8, k(intAbs[int64](tInt8)))
	c.fn("abs", ts(tFloat4), tFloat4, k(fixed1(tFloat4, func(v float32) (float32, error) {
		return float32(math.Abs(float64(v))), nil
	})))
	for _, t := range fl {
		c.fn("abs", ts(t), t, k(floatFunc(t, math.Abs)))
		c.fn("ceil", ts(t), t, k(floatFunc(t, math.Ceil)))
		c.fn("ceiling", ts(t), t, k(floatFunc(t, math.Ceil)))
		c.fn("floor", ts(t), t, k(floatFunc(t, math.Floor)))
		c.fn("trunc", ts(t), t, k(floatFunc(t, math.Trunc)))
		if t == tFloat8 {
			c.fn("sign", ts(t), t, k(floatFunc(t, func(x float64) float64 {
				if x != x {
					return 0 // float8 sign(NaN) is 0; numeric's is NaN
				}
				return sign(x)
			})))
		} else {
			c.fn("sign", ts(t), t, k(floatFunc(t, sign)))
		}
		c.fn("sqrt", ts(t), t, k(checkedFloatFunc(t, func(x float64) (float64, error) {
			if x < 0 {
				return 0, pgerror.New("2201F", "cannot take square root of a negative number")
			}
			return math.Sqrt(x), nil
		})))
		c.fn("power", ts(t, t), t, k(checkedFloatFunc2(t, floatPow(t == tNum))))
		c.fn("pow", ts(t, t), t, k(checkedFloatFunc2(t, floatPow(t == tNum))))
		c.fn("ln", ts(t), t, k(checkedFloatFunc(t, func(x float64) (float64, error) {
			return math.Log(x), checkLogArg(x)
		})))
		log10 := k(checkedFloatFunc(t, func(x float64) (float64, error) {
			return math.Log10(x), checkLogArg(x)
		}))
		c.fn("log", ts(t), t, log10)
		c.fn("log10", ts(t), t, log10)
		c.fn("exp", ts(t), t, k(checkedFloatFunc(t, func(x float64) (float64, error) {
			r := math.Exp(x)
			switch {
			case math.IsInf(r, 0) && !math.IsInf(x, 0):
				if t == tNum {
					return 0, errNumericOverflow()
				}
				return 0, errFloatOverflow()
			case r == 0 && !math.IsInf(x, 0) && t == tFloat8:
				return 0, errFloatUnderflow()
			}
			return r, nil
		})))
	}
	// round(float8) is rint, half to even; round(numeric) rounds half away
	// from zero on the decimal value.
	c.fn("round", ts(tFloat8), tFloat8, k(floatFunc(tFloat8, math.RoundToEven)))
	c.fn("round", ts(tNum), tNum, k(floatFunc(tNum, math.Round)))
	c.fn("round", ts(tNum, tInt4), tNum, k(rowKernel(tNum, func(ra *rowArgs, i int) (float64, bool, error) {
		return roundDecimal(ra.float(0, i), int(ra.int32(1, i)), false), false, nil
	})))
	c.fn("trunc", ts(tNum, tInt4), tNum, k(rowKernel(tNum, func(ra *rowArgs, i int) (float64, bool, error) {
		return roundDecimal(ra.float(0, i), int(ra.int32(1, i)), true), false, nil
	})))
	c.fn("log", ts(tNum, tNum), tNum, k(checkedFloatFunc2(tNum, func(b, x float64) (float64, error) {
		if err := checkLogArg(b); err != nil {
			return 0, err
		}
		if err := checkLogArg(x); err != nil {
			return 0, err
		}
		if b == 1 {
			return 0, errDivByZero()
		}
		return math.Log(x) / math.Log(b), nil
	})))
	c.fn("div", ts(tNum, tNum), tNum, k(checkedFloatFunc2(tNum, func(a, b float64) (float64, error) {
		if b == 0 {
			return 0, errDivByZero()
		}
		return math.Trunc(a / b), nil
	})))
	c.fn("mod", ts(tInt2, tInt2), tInt2, k(intArith[int16](tInt2, opMod)))
	c.fn("mod", ts(tInt4, tInt4), tInt4, k(intArith[int32](tInt4, opMod)))
	c.fn("mod", ts(tInt8, tInt8), tInt8, k(intArith[int64](tInt8, opMod)))
	c.fn("mod", ts(tNum, tNum), tNum, k(numericArith(opMod)))
	c.fn("cbrt", ts(tFloat8), tFloat8, k(floatFunc(tFloat8, math.Cbrt)))
	c.fn("degrees", ts(tFloat8), tFloat8, k(floatFunc(tFloat8, func(x float64) float64 { return x * 180 / math.Pi })))
	c.fn("radians", ts(tFloat8), tFloat8, k(floatFunc(tFloat8, func(x float64) float64 { return x * math.Pi / 180 })))
	c.fn("pi", nil, tFloat8, k(func(st *evalState, _ []vec) (vec, error) {
		return constVec(st, math.Pi, tFloat8)
	}))
}

func sign(x float64) float64 {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return -1
	}
	return x // zero or NaN
}

// roundDecimal rounds (or truncates) x to scale decimal places, negative
// scales rounding to tens, hundreds and so on. NUMERIC rounds its decimal
// digits, so the rounding is done on x's shortest decimal representation:
// round(2.345, 2) is 2.35 although the float64 nearest 2.345 is below it.
func roundDecimal(x float64, scale int, truncate bool) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) || x == 0 {
		return x
	}
	scale = max(min(scale, 400), -400)
	neg := x < 0
	digits := strconv.AppendFloat(nil, math.Abs(x), 'e', -1, 64)
	// digits is d[.ddd]e±XX: split mantissa digits and exponent.
	var mant []byte
	e := 0
	for i := 0; i < len(digits); i++ {
		switch c := digits[i]; {
		case c >= '0' && c <= '9':
			mant = append(mant, c)
		case c == 'e':
			e, _ = strconv.Atoi(string(digits[i+1:]))
			i = len(digits)
		}
	}
	// The value is 0.mant × 10^(e+1); keep the digits before position
	// e+1+scale.
	keep := e + 1 + scale
	if keep >= len(mant) {
		return x
	}
	up := false
	if keep < 0 {
		mant, keep = nil, 0
	} else {
		up = !truncate && mant[keep] >= '5'
		mant = mant[:keep]
	}
	v, _ := strconv.ParseFloat("0"+string(mant)+"e0", 64)
	if len(mant) == 0 {
		v = 0
	}
	if up {
		v++
	}
	r := v * math.Pow(10, float64(e+1-keep))
	// Reparse through the decimal form to land on the nearest float64.
	r, _ = strconv.ParseFloat(strconv.FormatFloat(r, 'g', 15, 64), 64)
	if neg {
		return -r
	}
	return r
}

// constVec is the scalar vec of one value (used by argument-less functions).
func constVec(st *evalState, d types.Datum, t types.T) (vec, error) {
	arr, err := constArray(d, t)
	return vec{arr: arr, scalar: true}, err
}

func (c *catalog) textFuncs() {
	c.fn("lower", ts(tText), tText, k(textMap(appendLower)))
	c.fn("upper", ts(tText), tText, k(textMap(appendUpper)))
	c.fn("initcap", ts(tText), tText, k(textMap(appendInitcap)))
	c.fn("reverse", ts(tText), tText, k(textMap(reverseText)))
	c.fn("md5", ts(tText), tText, k(textMap(md5Hex)))
	c.fn("md5", ts(tBytea), tText, k(textMap(md5Hex)))
	charLen := k(rowKernel(tInt4, func(ra *rowArgs, i int) (int32, bool, error) {
		return int32(utf8.RuneCount(ra.bytes(0, i))), false, nil
	}))
	byteLen := k(rowKernel(tInt4, func(ra *rowArgs, i int) (int32, bool, error) {
		return int32(len(ra.bytes(0, i))), false, nil
	}))
	for _, name := range []string{"length", "char_length", "character_length"} {
		c.fn(name, ts(tText), tInt4, charLen)
	}
	c.fn("length", ts(tBytea), tInt4, byteLen)
	c.fn("octet_length", ts(tText), tInt4, byteLen)
	c.fn("octet_length", ts(tBytea), tInt4, byteLen)
	c.fn("bit_length", ts(tText), tInt4, k(rowKernel(tInt4, func(ra *rowArgs, i int) (int32, bool, error) {
		return int32(len(ra.bytes(0, i)) * 8), false, nil
	})))
	for _, name := range []string{"substr", "substring"} {
		c.fn(name, ts(tText, tInt4), tText, k(substrKernel(false)))
		c.fn(name, ts(tText, tInt4, tInt4), tText, k(substrKernel(false)))
		c.fn(name, ts(tBytea, tInt4), tBytea, k(substrKernel(true)))
		c.fn(name, ts(tBytea, tInt4, tInt4), tBytea, k(substrKernel(true)))
	}
	pos := k(rowKernel(tInt4, func(ra *rowArgs, i int) (int32, bool, error) {
		return strpos(ra.bytes(0, i), ra.bytes(1, i)), false, nil
	}))
	c.fn("strpos", ts(tText, tText), tInt4, pos)
	c.fn("position", ts(tText, tText), tInt4, pos)
	for _, f := range []struct {
		name        string
		left, right bool
	}{{"btrim", true, true}, {"ltrim", true, false}, {"rtrim", false, true}} {
		c.fn(f.name, ts(tText), tText, k(trimKernel(f.left, f.right)))
		c.fn(f.name, ts(tText, tText), tText, k(trimKernel(f.left, f.right)))
	}
	c.fn("replace", ts(tText, tText, tText), tText, k(textKernel(tText, func(ra *rowArgs, i int, dst []byte) ([]byte, bool, error) {
		return replaceText(dst, ra.bytes(0, i), ra.bytes(1, i), ra.bytes(2, i)), false, nil
	})))
	for _, left := range []bool{true, false} {
		name, padName := "right", "rpad"
		if left {
			name, padName = "left", "lpad"
		}
		c.fn(name, ts(tText, tInt4), tText, k(textKernel(tText, func(ra *rowArgs, i int, dst []byte) ([]byte, bool, error) {
			return leftRight(dst, ra.bytes(0, i), int64(ra.int32(1, i)), left), false, nil
		})))
		padKernel := k(textKernel(tText, func(ra *rowArgs, i int, dst []byte) ([]byte, bool, error) {
			fill := []byte(" ")
			if len(ra.vecs) > 2 {
				fill = ra.bytes(2, i)
			}
			out, err := pad(dst, ra.bytes(0, i), int64(ra.int32(1, i)), fill, left)
			return out, false, err
		}))
		c.fn(padName, ts(tText, tInt4), tText, padKernel)
		c.fn(padName, ts(tText, tInt4, tText), tText, padKernel)
	}
	c.fn("split_part", ts(tText, tText, tInt4), tText, k(textKernel(tText, func(ra *rowArgs, i int, dst []byte) ([]byte, bool, error) {
		part, err := splitPart(ra.bytes(0, i), ra.bytes(1, i), ra.int32(2, i))
		return append(dst, part...), false, err
	})))
	c.fn("starts_with", ts(tText, tText), tBool, k(boolKernel(func(ra *rowArgs, i int) (bool, error) {
		s, p := ra.bytes(0, i), ra.bytes(1, i)
		return len(s) >= len(p) && string(s[:len(p)]) == string(p), nil
	})))
	c.fn("repeat", ts(tText, tInt4), tText, k(textKernel(tText, func(ra *rowArgs, i int, dst []byte) ([]byte, bool, error) {
		s, n := ra.bytes(0, i), int64(ra.int32(1, i))
		if n <= 0 || len(s) == 0 {
			return dst, false, nil
		}
		if int64(len(s))*n > maxTextLen {
			return dst, false, errTooLong()
		}
		for ; n > 0; n-- {
			dst = append(dst, s...)
		}
		return dst, false, nil
	})))
	c.fn("to_hex", ts(tInt4), tText, k(textKernel(tText, func(ra *rowArgs, i int, dst []byte) ([]byte, bool, error) {
		return toHex(dst, uint64(uint32(ra.int32(0, i)))), false, nil
	})))
	c.fn("to_hex", ts(tInt8), tText, k(textKernel(tText, func(ra *rowArgs, i int, dst []byte) ([]byte, bool, error) {
		return toHex(dst, uint64(ra.int64(0, i))), false, nil
	})))
	c.fn("chr", ts(tInt4), tText, k(textKernel(tText, func(ra *rowArgs, i int, dst []byte) ([]byte, bool, error) {
		out, err := chr(dst, ra.int32(0, i))
		return out, false, err
	})))
	c.fn("ascii", ts(tText), tInt4, k(rowKernel(tInt4, func(ra *rowArgs, i int) (int32, bool, error) {
		return ascii(ra.bytes(0, i)), false, nil
	})))
	// substring(text FROM pattern): the part of the text the first
	// parenthesized subexpression matched, or the whole match without one.
	c.fn("substring", ts(tText, tText), tText, regexpSubstringKernel)
	c.fn("regexp_replace", ts(tText, tText, tText), tText, regexpReplaceKernel)
	c.fn("regexp_replace", ts(tText, tText, tText, tText), tText, regexpReplaceKernel)
	c.fn("like_escape", ts(tText, tText), tText, k(textKernel(tText, func(ra *rowArgs, i int, dst []byte) ([]byte, bool, error) {
		out, err := likeEscape(dst, ra.bytes(0, i), ra.bytes(1, i))
		return out, false, err
	})))
}

func (c *catalog) datetimeFuncs() {
	now := func(t types.T) kernelBuilder {
		return k(func(st *evalState, _ []vec) (vec, error) {
			switch t {
			case tDate:
				d, _ := tsToDate(st.ctx.Now)
				return constVec(st, d, t)
			case tTime:
				tod, _ := tsToTime(st.ctx.Now)
				return constVec(st, tod, t)
			}
			return constVec(st, st.ctx.Now, t)
		})
	}
	for name, t := range map[string]types.T{
		"now": tTSTZ, "current_timestamp": tTSTZ, "statement_timestamp": tTSTZ,
		"transaction_timestamp": tTSTZ, "localtimestamp": tTS, "current_date": tDate,
		"localtime": tTime,
	} {
		ov := c.fn(name, nil, t, now(t))
		ov.stable = true
	}
	for _, t := range []types.T{tTS, tTSTZ, tIv} {
		ov := c.fn("date_trunc", ts(tText, t), t, truncKernel(t))
		ov.stable = t == tTSTZ
	}
	for _, t := range []types.T{tTS, tTSTZ, tDate, tTime, tIv} {
		c.fn("extract", ts(tText, t), tNum, extractKernel(t, tNum)).stable = t == tTSTZ
		if t == tDate {
			// date_part(text, date) is date_part(text, timestamp) on
			// the date's midnight, so it has the time fields too.
			c.fn("date_part", ts(tText, t), tFloat8, extractKernel(tTS, tFloat8)).calc = ts(tText, tTS)
			continue
		}
		c.fn("date_part", ts(tText, t), tFloat8, extractKernel(t, tFloat8)).stable = t == tTSTZ
	}
	c.fn("to_timestamp", ts(tFloat8), tTSTZ, k(fixed1(tTSTZ, toTimestamp)))
	c.fn("make_date", ts(tInt4, tInt4, tInt4), tDate, k(rowKernel(tDate, func(ra *rowArgs, i int) (int32, bool, error) {
		d, err := makeDate(ra.int32(0, i), ra.int32(1, i), ra.int32(2, i))
		return d, false, err
	})))
	c.fn("justify_hours", ts(tIv), tIv, k(fixed1(tIv, justifyHoursArrow)))
	c.fn("justify_days", ts(tIv), tIv, k(fixed1(tIv, justifyDaysArrow)))
	c.fn("isfinite", ts(tDate), tBool, k(boolKernel(func(ra *rowArgs, i int) (bool, error) {
		return finiteDate(ra.int32(0, i)), nil
	})))
	for _, t := range []types.T{tTS, tTSTZ} {
		c.fn("isfinite", ts(t), tBool, k(boolKernel(func(ra *rowArgs, i int) (bool, error) {
			return finiteTS(ra.int64(0, i)), nil
		})))
	}
	c.fn("isfinite", ts(tIv), tBool, k(boolKernel(func(*rowArgs, int) (bool, error) { return true, nil })))
}
