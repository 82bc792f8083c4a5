package types

// This file holds the text format of every type (what PostgreSQL's typoutput
// and typinput functions do) and the row-at-a-time bridge between Arrow
// arrays and Datums. Dates, times and timestamps live in text_datetime.go,
// intervals in text_interval.go and jsonb in text_jsonb.go.
//
// Output must be byte-for-byte what PostgreSQL 15 prints with its default
// settings (DateStyle ISO, IntervalStyle postgres, extra_float_digits 1,
// bytea_output hex, TimeZone UTC), because clients and tests compare it with
// PostgreSQL's. Formatting appends to a caller's buffer and never allocates
// on its own: AppendText runs for every value sent to a client.
//
// Numeric is stored as a float64 (see types.go). Its text output prints the
// value without an exponent, like PostgreSQL's numeric, using the digits
// PostgreSQL itself keeps when it converts a float8 to numeric: integers up to
// 2^53 exactly, anything else rounded to 15 significant digits with trailing
// fractional zeros removed. So 1/3 prints as 0.333333333333333 and 0.1+0.2 as
// 0.3. The display scale of the literal (12.50) is not kept.

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/sluicedb/sluice/pgerror"
)

// SQLSTATE codes this package reports that pgerror does not name yet.
const (
	codeInvalidTimeZoneDisplacement = "22009"
	codeUntranslatableCharacter     = "22P05"
	codeCharacterNotInRepertoire    = "22021"
	codeInvalidBinaryRepresentation = "22P03"
	codeStatementTooComplex         = "54001"
)

// AppendText appends the PostgreSQL text output of row i of arr (a column of
// SQL type t, stored as t.Arrow()) to buf. The caller has checked that the
// row is not null.
func AppendText(buf []byte, arr arrow.Array, i int, t T) []byte {
	if t.IsCatalog() {
		return appendCatalogText(buf, arr, i, t)
	}
	switch t {
	case Bool:
		return appendBool(buf, arr.(*array.Boolean).Value(i))
	case Int2:
		return strconv.AppendInt(buf, int64(arr.(*array.Int16).Value(i)), 10)
	case Int4:
		return strconv.AppendInt(buf, int64(arr.(*array.Int32).Value(i)), 10)
	case Int8:
		return strconv.AppendInt(buf, arr.(*array.Int64).Value(i), 10)
	case Float4:
		return appendFloat(buf, float64(arr.(*array.Float32).Value(i)), 32)
	case Float8:
		return appendFloat(buf, arr.(*array.Float64).Value(i), 64)
	case Numeric:
		return appendNumeric(buf, arr.(*array.Float64).Value(i))
	case Text, Varchar, JSONB, Unknown:
		return append(buf, arr.(*array.String).Value(i)...)
	case Bytea:
		return appendByteaHex(buf, arr.(*array.Binary).Value(i))
	case Date:
		return appendDate(buf, int32(arr.(*array.Date32).Value(i)))
	case Time:
		return appendTime(buf, int64(arr.(*array.Time64).Value(i)))
	case Timestamp:
		return AppendTimestamp(buf, int64(arr.(*array.Timestamp).Value(i)), false)
	case TimestampTZ:
		return AppendTimestamp(buf, int64(arr.(*array.Timestamp).Value(i)), true)
	case Interval:
		return AppendInterval(buf, intervalFromArrow(arr.(*array.MonthDayNanoInterval).Value(i)))
	}
	panic("types: no text output for type " + t.String())
}

// AppendDatum appends the PostgreSQL text output of d, a non-nil Datum of
// type t, to buf. NULL is the caller's business: it has no text form.
func AppendDatum(buf []byte, d Datum, t T) []byte {
	if t.IsCatalog() {
		return appendCatalogDatum(buf, d, t)
	}
	switch t {
	case Bool:
		return appendBool(buf, d.(bool))
	case Int2:
		return strconv.AppendInt(buf, int64(d.(int16)), 10)
	case Int4:
		return strconv.AppendInt(buf, int64(d.(int32)), 10)
	case Int8:
		return strconv.AppendInt(buf, d.(int64), 10)
	case Float4:
		return appendFloat(buf, float64(d.(float32)), 32)
	case Float8:
		return appendFloat(buf, d.(float64), 64)
	case Numeric:
		return appendNumeric(buf, d.(float64))
	case Text, Varchar, JSONB, Unknown:
		return append(buf, d.(string)...)
	case Bytea:
		return appendByteaHex(buf, d.([]byte))
	case Date:
		return appendDate(buf, d.(int32))
	case Time:
		return appendTime(buf, d.(int64))
	case Timestamp:
		return AppendTimestamp(buf, d.(int64), false)
	case TimestampTZ:
		return AppendTimestamp(buf, d.(int64), true)
	case Interval:
		return AppendInterval(buf, d.(IntervalValue))
	}
	panic("types: no text output for type " + t.String())
}

// ParseText parses PostgreSQL's text input syntax for type t into a Datum.
// Errors are *pgerror.Error carrying the code and message PostgreSQL gives
// for the same input.
func ParseText(s string, t T) (Datum, error) {
	if t.IsCatalog() {
		return parseCatalog(s, t)
	}
	switch t {
	case Bool:
		return parseBool(s)
	case Int2:
		v, err := parseInt(s, 16, t)
		return datumOrError(int16(v), err)
	case Int4:
		v, err := parseInt(s, 32, t)
		return datumOrError(int32(v), err)
	case Int8:
		v, err := parseInt(s, 64, t)
		return datumOrError(v, err)
	case Float4:
		v, err := parseFloat(s, 32, t)
		return datumOrError(float32(v), err)
	case Float8:
		v, err := parseFloat(s, 64, t)
		return datumOrError(v, err)
	case Numeric:
		return parseNumeric(s)
	case Text, Varchar, Unknown:
		if !utf8.ValidString(s) {
			return nil, errInvalidUTF8(s)
		}
		return s, nil
	case JSONB:
		return parseJSONB(s)
	case Bytea:
		return parseBytea(s)
	case Date:
		return parseDate(s)
	case Time:
		return parseTime(s)
	case Timestamp:
		return parseTimestamp(s, Timestamp)
	case TimestampTZ:
		return parseTimestamp(s, TimestampTZ)
	case Interval:
		return ParseInterval(s)
	case Null:
		return nil, nil
	}
	return nil, pgerror.New(pgerror.FeatureNotSupported, "no input function for type %s", t)
}

// datumOrError returns a nil Datum with an error, so that a failed parse
// never yields a usable zero value.
func datumOrError[V any](v V, err error) (Datum, error) {
	if err != nil {
		return nil, err
	}
	return v, nil
}

// Put appends d to builder b, a builder of t.Arrow(); nil appends NULL. It is
// for row-at-a-time edges (constants, parameters, state keys), not hot paths.
func Put(b array.Builder, d Datum, t T) {
	if d == nil {
		b.AppendNull()
		return
	}
	switch t.Physical() {
	case Bool:
		b.(*array.BooleanBuilder).Append(d.(bool))
	case Int2:
		b.(*array.Int16Builder).Append(d.(int16))
	case Int4:
		b.(*array.Int32Builder).Append(d.(int32))
	case Int8:
		b.(*array.Int64Builder).Append(d.(int64))
	case Float4:
		b.(*array.Float32Builder).Append(d.(float32))
	case Float8, Numeric:
		b.(*array.Float64Builder).Append(d.(float64))
	case Text, Varchar, JSONB, Unknown:
		b.(*array.StringBuilder).Append(d.(string))
	case Bytea:
		b.(*array.BinaryBuilder).Append(d.([]byte))
	case Date:
		b.(*array.Date32Builder).Append(arrow.Date32(d.(int32)))
	case Time:
		b.(*array.Time64Builder).Append(arrow.Time64(d.(int64)))
	case Timestamp, TimestampTZ:
		b.(*array.TimestampBuilder).Append(arrow.Timestamp(d.(int64)))
	case Interval:
		b.(*array.MonthDayNanoIntervalBuilder).Append(intervalToArrow(d.(IntervalValue)))
	case Null:
		b.AppendNull()
	default:
		panic("types: Put of unsupported type " + t.String())
	}
}

// Value returns row i of arr, a column of type t, as a Datum (nil when the
// row is null). Like Put it is for row-at-a-time edges only.
func Value(arr arrow.Array, i int, t T) Datum {
	if arr.IsNull(i) {
		return nil
	}
	switch t.Physical() {
	case Bool:
		return arr.(*array.Boolean).Value(i)
	case Int2:
		return arr.(*array.Int16).Value(i)
	case Int4:
		return arr.(*array.Int32).Value(i)
	case Int8:
		return arr.(*array.Int64).Value(i)
	case Float4:
		return arr.(*array.Float32).Value(i)
	case Float8, Numeric:
		return arr.(*array.Float64).Value(i)
	case Text, Varchar, JSONB, Unknown:
		// Copy strings and bytes: Arrow's values alias the array's buffers,
		// which may be released and reused while the Datum lives on.
		return strings.Clone(arr.(*array.String).Value(i))
	case Bytea:
		return append([]byte{}, arr.(*array.Binary).Value(i)...)
	case Date:
		return int32(arr.(*array.Date32).Value(i))
	case Time:
		return int64(arr.(*array.Time64).Value(i))
	case Timestamp, TimestampTZ:
		return int64(arr.(*array.Timestamp).Value(i))
	case Interval:
		return intervalFromArrow(arr.(*array.MonthDayNanoInterval).Value(i))
	case Null:
		return nil
	}
	panic("types: Value of unsupported type " + t.String())
}

// inputTypeName is the type name PostgreSQL's input functions put in their
// error messages, which is not always format_type's name.
func inputTypeName(t T) string {
	switch t {
	case Time:
		return "time"
	case Timestamp:
		return "timestamp"
	case JSONB:
		return "json"
	}
	return t.String()
}

// errInvalidSyntax is PostgreSQL's "invalid input syntax" error.
func errInvalidSyntax(t T, s string) *pgerror.Error {
	return pgerror.New(pgerror.InvalidTextRepresentation, "invalid input syntax for type %s: \"%s\"", inputTypeName(t), s)
}

// errInvalidUTF8 is PostgreSQL's error for text that is not valid in the
// database encoding, which is always UTF8 in Sluice.
func errInvalidUTF8(s string) *pgerror.Error {
	i := 0
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size <= 1 {
			break
		}
		i += size
	}
	return pgerror.New(codeCharacterNotInRepertoire, "invalid byte sequence for encoding \"UTF8\": 0x%02x", s[i])
}

// isSpace is C's isspace, which PostgreSQL's input functions use to trim.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

func trimSpace(s string) string {
	for len(s) > 0 && isSpace(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

// equalFold reports whether s equals the lower-case ASCII word w, ignoring
// the case of s, without allocating.
func equalFold(s, w string) bool {
	if len(s) != len(w) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != w[i] {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// --- boolean ---

func appendBool(buf []byte, v bool) []byte {
	if v {
		return append(buf, 't')
	}
	return append(buf, 'f')
}

// parseBool accepts what PostgreSQL's parse_bool does: any unambiguous prefix
// of true, false, yes, no, and on, off, 1 and 0, in any case.
func parseBool(s string) (Datum, error) {
	w := trimSpace(s)
	if len(w) > 0 && len(w) <= 5 {
		var lw [5]byte
		for i := 0; i < len(w); i++ {
			c := w[i]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			lw[i] = c
		}
		word := string(lw[:len(w)])
		prefixOf := func(full string, min int) bool {
			return len(word) >= min && len(word) <= len(full) && full[:len(word)] == word
		}
		switch {
		case prefixOf("true", 1), prefixOf("yes", 1), prefixOf("on", 2), word == "1":
			return true, nil
		case prefixOf("false", 1), prefixOf("no", 1), prefixOf("off", 2), word == "0":
			return false, nil
		}
	}
	return nil, errInvalidSyntax(Bool, s)
}

// --- integers ---

// parseInt parses a PostgreSQL 15 integer literal: optional surrounding white
// space, an optional sign and decimal digits (no underscores, no base
// prefixes; those arrived in PostgreSQL 16).
func parseInt(s string, bits int, t T) (int64, error) {
	// The order of the checks is PostgreSQL's (pg_strtoint32): digits that
	// overflow are out of range even when garbage follows them.
	w := trimSpace(s)
	neg := false
	if len(w) > 0 && (w[0] == '+' || w[0] == '-') {
		neg = w[0] == '-'
		w = w[1:]
	}
	if len(w) == 0 || !isDigit(w[0]) {
		return 0, errInvalidSyntax(t, s)
	}
	outOfRange := func() error {
		return pgerror.New(pgerror.NumericValueOutOfRange, "value \"%s\" is out of range for type %s", s, t)
	}
	// Accumulate negatively so that the minimum value parses.
	limit := int64(-1) << (bits - 1)
	var v int64
	i := 0
	for ; i < len(w) && isDigit(w[i]); i++ {
		d := int64(w[i] - '0')
		if v < (limit+d)/10 {
			return 0, outOfRange()
		}
		v = v*10 - d
	}
	if i < len(w) {
		return 0, errInvalidSyntax(t, s)
	}
	if !neg {
		if v == limit {
			return 0, outOfRange()
		}
		v = -v
	}
	return v, nil
}

// --- floating point ---

// appendFloat prints f the way PostgreSQL 12+ does with extra_float_digits
// at its default: the shortest digits that read back exactly, in fixed
// notation when the decimal exponent is in [-4, P) and in C's %e notation
// otherwise, where P is 15 for float8 and 6 for float4.
func appendFloat(buf []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(buf, "NaN"...)
	case math.IsInf(f, 1):
		return append(buf, "Infinity"...)
	case math.IsInf(f, -1):
		return append(buf, "-Infinity"...)
	}
	start := len(buf)
	buf = strconv.AppendFloat(buf, f, 'e', -1, bits)
	if onRoundingBoundary(buf[start:], f, bits) {
		// Go's shortest digits may lie exactly halfway to the neighbouring
		// float (when the mantissa is even, reading them back rounds to f);
		// PostgreSQL's Ryu never picks those. Take the shortest correctly
		// rounded digits strictly closer to f instead. This is rare.
		maxPrec := 16
		if bits == 32 {
			maxPrec = 8
		}
		nd := 0
		for _, c := range buf[start:] {
			if c == 'e' {
				break
			}
			if isDigit(c) {
				nd++
			}
		}
		for prec := nd; prec <= maxPrec; prec++ { // nd+1 significant digits and up
			buf = strconv.AppendFloat(buf[:start], f, 'e', prec, bits)
			back, _ := strconv.ParseFloat(string(buf[start:]), bits)
			if back == f && !onRoundingBoundary(buf[start:], f, bits) {
				break
			}
		}
	}
	// buf[start:] is [-]d[.ddd]e±XX. Find the exponent.
	e := len(buf) - 1
	for buf[e] != 'e' {
		e--
	}
	exp := 0
	for _, c := range buf[e+2:] {
		exp = exp*10 + int(c-'0')
	}
	if buf[e+1] == '-' {
		exp = -exp
	}
	fixedLimit := 15
	if bits == 32 {
		fixedLimit = 6
	}
	if exp < -4 || exp >= fixedLimit {
		return buf // %e notation is already PostgreSQL's.
	}
	var digitsBuf [24]byte
	digits := digitsBuf[:0]
	neg := buf[start] == '-'
	for _, c := range buf[start:e] {
		if isDigit(c) {
			digits = append(digits, c)
		}
	}
	buf = buf[:start]
	if neg {
		buf = append(buf, '-')
	}
	return appendPositional(buf, digits, exp)
}

// onRoundingBoundary reports whether repr, f in %e notation, is exactly the
// midpoint between f and one of its neighbouring floats.
func onRoundingBoundary(repr []byte, f float64, bits int) bool {
	var digits uint64
	nd, exp, k := 0, 0, 0
	for ; k < len(repr) && repr[k] != 'e'; k++ {
		if isDigit(repr[k]) {
			digits = digits*10 + uint64(repr[k]-'0')
			nd++
		}
	}
	if nd > 19 || k+2 > len(repr) {
		return false
	}
	for _, c := range repr[k+2:] {
		exp = exp*10 + int(c-'0')
	}
	if repr[k+1] == '-' {
		exp = -exp
	}
	// f is m × 2^e with m an integer.
	var m uint64
	var e int
	var pow2Boundary bool // f is a power of two: the gap below is half the gap above
	if bits == 32 {
		b := math.Float32bits(float32(math.Abs(f)))
		expField, mant := int(b>>23&0xff), uint64(b&(1<<23-1))
		m, e = mant, -149
		if expField != 0 {
			m, e = mant|1<<23, expField-150
		}
		pow2Boundary = mant == 0 && expField > 1
	} else {
		b := math.Float64bits(math.Abs(f))
		expField, mant := int(b>>52&0x7ff), b&(1<<52-1)
		m, e = mant, -1074
		if expField != 0 {
			m, e = mant|1<<52, expField-1075
		}
		pow2Boundary = mant == 0 && expField > 1
	}
	if m == 0 {
		return false
	}
	decExp := exp - (nd - 1) // repr is digits × 10^decExp
	if decimalEqualsDyadic(digits, decExp, 2*m+1, e-1) {
		return true
	}
	if pow2Boundary {
		return decimalEqualsDyadic(digits, decExp, 4*m-1, e-2)
	}
	return decimalEqualsDyadic(digits, decExp, 2*m-1, e-1)
}

// decimalEqualsDyadic reports whether d × 10^k equals n × 2^p for odd n.
func decimalEqualsDyadic(d uint64, k int, n uint64, p int) bool {
	if d == 0 {
		return false
	}
	a := 0
	for d%2 == 0 {
		d /= 2
		a++
	}
	// d × 10^k = d × 5^k × 2^(a+k), with d now odd.
	if a+k != p {
		return false
	}
	for ; k > 0; k-- {
		if d > n/5 {
			return false
		}
		d *= 5
	}
	for ; k < 0; k++ {
		if d%5 != 0 {
			return false
		}
		d /= 5
	}
	return d == n
}

// appendPositional writes the decimal digits d1d2d3... of a value
// d1.d2d3... × 10^exp in positional notation without an exponent.
func appendPositional(buf, digits []byte, exp int) []byte {
	if exp < 0 {
		buf = append(buf, '0', '.')
		for i := -1; i > exp; i-- {
			buf = append(buf, '0')
		}
		return append(buf, digits...)
	}
	intDigits := exp + 1
	if len(digits) <= intDigits {
		buf = append(buf, digits...)
		for i := len(digits); i < intDigits; i++ {
			buf = append(buf, '0')
		}
		return buf
	}
	buf = append(buf, digits[:intDigits]...)
	buf = append(buf, '.')
	return append(buf, digits[intDigits:]...)
}

// parseFloat parses float4 or float8 input as PostgreSQL's float4in and
// float8in do: the longest prefix that C's strtod reads (decimal, hex,
// inf, infinity, nan, any case), then only white space. A prefix that
// overflows, or underflows to zero, is out of range even when garbage
// follows it; denormals are accepted.
func parseFloat(s string, bits int, t T) (float64, error) {
	w := s
	for len(w) > 0 && isSpace(w[0]) {
		w = w[1:]
	}
	n, hex, special := strtodPrefix(w)
	if n == 0 {
		return 0, errInvalidSyntax(t, s)
	}
	num := w[:n]
	var f float64
	switch {
	case special == 'n':
		f = canonicalNaN
	case special == 'i':
		f = math.Inf(1)
		if num[0] == '-' {
			f = math.Inf(-1)
		}
	default:
		text := num
		if hex && !hasHexExponent(num) {
			text = num + "p0" // strtod reads hex without a binary exponent; Go does not
		}
		var err error
		f, err = strconv.ParseFloat(text, bits)
		if err != nil && !isRangeErr(err) {
			return 0, errInvalidSyntax(t, s)
		}
		if math.IsInf(f, 0) || (f == 0 && mantissaNonZero(num, hex)) {
			return 0, pgerror.New(pgerror.NumericValueOutOfRange, "\"%s\" is out of range for type %s", num, t)
		}
	}
	for _, c := range []byte(w[n:]) {
		if !isSpace(c) {
			return 0, errInvalidSyntax(t, s)
		}
	}
	return f, nil
}

// strtodPrefix returns the length of the longest prefix of w that C's
// strtod reads as a number, whether it is hexadecimal, and 'i' or 'n' for
// the infinities and NaN.
func strtodPrefix(w string) (n int, hex bool, special byte) {
	i := 0
	if i < len(w) && (w[i] == '+' || w[i] == '-') {
		i++
	}
	rest := w[i:]
	hasPrefixFold := func(p string) bool { return len(rest) >= len(p) && equalFold(rest[:len(p)], p) }
	switch {
	case hasPrefixFold("infinity"):
		return i + 8, false, 'i'
	case hasPrefixFold("inf"):
		return i + 3, false, 'i'
	case hasPrefixFold("nan"):
		n = i + 3
		if n < len(w) && w[n] == '(' { // nan(n-char-sequence)
			j := n + 1
			for j < len(w) && (isLetter(w[j]) || isDigit(w[j]) || w[j] == '_') {
				j++
			}
			if j < len(w) && w[j] == ')' {
				n = j + 1
			}
		}
		return n, false, 'n'
	}
	digit := isDigit
	if len(rest) > 2 && rest[0] == '0' && (rest[1] == 'x' || rest[1] == 'X') {
		isHexDigit := func(c byte) bool { _, ok := hexValue(c); return ok }
		j := i + 2
		if j < len(w) && (isHexDigit(w[j]) || (w[j] == '.' && j+1 < len(w) && isHexDigit(w[j+1]))) {
			hex, digit = true, isHexDigit
			i = j
		}
	}
	mant := 0
	for i < len(w) && digit(w[i]) {
		i, mant = i+1, mant+1
	}
	if i < len(w) && w[i] == '.' {
		j := i + 1
		for j < len(w) && digit(w[j]) {
			j, mant = j+1, mant+1
		}
		if mant > 0 {
			i = j
		}
	}
	if mant == 0 {
		return 0, false, 0
	}
	expMark := byte('e')
	if hex {
		expMark = 'p'
	}
	if i < len(w) && (w[i]|0x20) == expMark {
		j := i + 1
		if j < len(w) && (w[j] == '+' || w[j] == '-') {
			j++
		}
		if j < len(w) && isDigit(w[j]) {
			for j < len(w) && isDigit(w[j]) {
				j++
			}
			i = j
		}
	}
	return i, hex, 0
}

func hasHexExponent(w string) bool {
	for i := 0; i < len(w); i++ {
		if w[i] == 'p' || w[i] == 'P' {
			return true
		}
	}
	return false
}

// mantissaNonZero reports whether the mantissa of a numeric literal has a
// non-zero digit, so that a zero result means underflow.
func mantissaNonZero(w string, hex bool) bool {
	if hex {
		w = w[strings.IndexAny(w, "xX")+1:]
	}
	for i := 0; i < len(w); i++ {
		c := w[i]
		switch {
		case c >= '1' && c <= '9':
			return true
		case hex && ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')):
			return true
		case !hex && (c == 'e' || c == 'E'), hex && (c == 'p' || c == 'P'):
			return false
		}
	}
	return false
}

// canonicalNaN is the NaN PostgreSQL produces (and sends in binary), with
// only the quiet bit set; Go's math.NaN has another payload.
var canonicalNaN = math.Float64frombits(0x7ff8000000000000)

// --- numeric ---

// maxExactNumericInt is the largest magnitude below which every integer is a
// float64 and numeric prints it exactly.
const maxExactNumericInt = 1 << 53

// appendNumeric prints a numeric stored as float64: positional notation,
// integers below 2^53 exactly, other values to 15 significant digits (what
// PostgreSQL's float8-to-numeric cast keeps), trailing fraction zeros
// dropped.
func appendNumeric(buf []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(buf, "NaN"...)
	case math.IsInf(f, 1):
		return append(buf, "Infinity"...)
	case math.IsInf(f, -1):
		return append(buf, "-Infinity"...)
	case f == 0:
		return append(buf, '0')
	case f == math.Trunc(f) && math.Abs(f) <= maxExactNumericInt:
		return strconv.AppendInt(buf, int64(f), 10)
	}
	var digitsBuf [24]byte
	neg, digits, exp := numericDigits(digitsBuf[:0], f)
	if neg {
		buf = append(buf, '-')
	}
	return appendPositional(buf, digits, exp)
}

// numericDigits returns the significant decimal digits of a non-zero, finite
// f as numeric shows it (15 significant digits, trailing zeros removed) and
// the decimal exponent of the first digit.
func numericDigits(scratch []byte, f float64) (neg bool, digits []byte, exp int) {
	if f == math.Trunc(f) && math.Abs(f) <= maxExactNumericInt {
		s := strconv.AppendInt(scratch, int64(f), 10)
		if s[0] == '-' {
			neg = true
			s = s[1:]
		}
		exp = len(s) - 1
		for len(s) > 1 && s[len(s)-1] == '0' {
			s = s[:len(s)-1]
		}
		return neg, s, exp
	}
	e := strconv.AppendFloat(scratch, f, 'e', 14, 64)
	if e[0] == '-' {
		neg = true
		e = e[1:]
	}
	// e is d.dddddddddddddde±XX
	k := len(e) - 1
	for e[k] != 'e' {
		k--
	}
	for _, c := range e[k+2:] {
		exp = exp*10 + int(c-'0')
	}
	if e[k+1] == '-' {
		exp = -exp
	}
	// Squeeze out the point in place: digits are e[0] and e[2:k].
	digits = e[1:k]
	digits[0] = e[0]
	for len(digits) > 1 && digits[len(digits)-1] == '0' {
		digits = digits[:len(digits)-1]
	}
	return neg, digits, exp
}

// parseNumeric accepts PostgreSQL's numeric_in syntax (sign, digits with an
// optional point, optional exponent, NaN, Infinity, inf) and converts it to
// the float64 storage. Values beyond float64's range are rejected.
func parseNumeric(s string) (Datum, error) {
	w := trimSpace(s)
	body := w
	if len(body) > 0 && (body[0] == '+' || body[0] == '-') {
		body = body[1:]
	}
	switch {
	case equalFold(w, "nan"):
		return canonicalNaN, nil
	case equalFold(body, "infinity"), equalFold(body, "inf"):
		if w[0] == '-' {
			return math.Inf(-1), nil
		}
		return math.Inf(1), nil
	}
	if !numericSyntaxOK(body) {
		return nil, errInvalidSyntax(Numeric, s)
	}
	f, err := strconv.ParseFloat(w, 64)
	if err != nil || math.IsInf(f, 0) {
		return nil, pgerror.New(pgerror.NumericValueOutOfRange, "value overflows numeric format").
			WithDetail("Sluice stores numeric as double precision.")
	}
	if f == 0 {
		f = 0 // numeric has no negative zero
	}
	return f, nil
}

// numericSyntaxOK checks digits[.digits][e[+-]digits] with at least one digit
// in the mantissa.
func numericSyntaxOK(b string) bool {
	i, mant := 0, 0
	for i < len(b) && isDigit(b[i]) {
		i, mant = i+1, mant+1
	}
	if i < len(b) && b[i] == '.' {
		i++
		for i < len(b) && isDigit(b[i]) {
			i, mant = i+1, mant+1
		}
	}
	if mant == 0 {
		return false
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		n := 0
		for i < len(b) && isDigit(b[i]) {
			i, n = i+1, n+1
		}
		if n == 0 {
			return false
		}
	}
	return i == len(b)
}

// --- bytea ---

const hexDigits = "0123456789abcdef"

func appendByteaHex(buf, b []byte) []byte {
	buf = append(buf, '\\', 'x')
	for _, c := range b {
		buf = append(buf, hexDigits[c>>4], hexDigits[c&0xf])
	}
	return buf
}

// parseBytea accepts both of PostgreSQL's bytea input formats: hex (\x
// followed by pairs of hex digits, white space allowed between pairs) and
// escape (\\ for a backslash, \ooo for an octal byte, anything else as is).
func parseBytea(s string) (Datum, error) {
	if len(s) >= 2 && s[0] == '\\' && s[1] == 'x' {
		out := make([]byte, 0, (len(s)-2)/2)
		for i := 2; i < len(s); {
			c := s[i]
			if c == ' ' || c == '\n' || c == '\t' || c == '\r' {
				i++
				continue
			}
			hi, ok := hexValue(c)
			if !ok {
				return nil, pgerror.New(pgerror.InvalidParameterValue, "invalid hexadecimal digit: \"%c\"", rune(c))
			}
			if i+1 >= len(s) {
				return nil, pgerror.New(pgerror.InvalidParameterValue, "invalid hexadecimal data: odd number of digits")
			}
			lo, ok := hexValue(s[i+1])
			if !ok {
				return nil, pgerror.New(pgerror.InvalidParameterValue, "invalid hexadecimal digit: \"%c\"", rune(s[i+1]))
			}
			out = append(out, hi<<4|lo)
			i += 2
		}
		return out, nil
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' {
			out = append(out, c)
			i++
			continue
		}
		switch {
		case i+1 < len(s) && s[i+1] == '\\':
			out = append(out, '\\')
			i += 2
		case i+3 < len(s) && s[i+1] >= '0' && s[i+1] <= '3' && isOctal(s[i+2]) && isOctal(s[i+3]):
			out = append(out, (s[i+1]-'0')<<6|(s[i+2]-'0')<<3|(s[i+3]-'0'))
			i += 4
		default:
			return nil, errInvalidSyntax(Bytea, s)
		}
	}
	return out, nil
}

func isOctal(c byte) bool { return '0' <= c && c <= '7' }

func hexValue(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
