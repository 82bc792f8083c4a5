package types

// JSONB is stored as text in PostgreSQL's jsonb output form, so that output
// is a copy and equal documents are equal strings: one space after ':' and
// ',', object keys sorted by length and then bytewise, the last of duplicate
// keys kept, strings re-escaped (only '"', '\\' and control characters are
// escaped; \uXXXX escapes of other characters are decoded), and numbers
// printed as PostgreSQL's numeric prints them (1.50 stays 1.50, 1e2 becomes
// 100). Numbers keep all their digits: they are not converted to float64.

import (
	"bytes"
	"sort"
	"unicode/utf8"

	"github.com/sluicedb/sluice/pgerror"
)

// maxJSONDepth bounds nesting so that hostile input cannot exhaust the stack.
const maxJSONDepth = 6400

// Limits of PostgreSQL's numeric, which jsonb numbers are.
const (
	maxNumericIntDigits = 131072
	maxNumericScale     = 16383
)

type jsonParser struct {
	s     string
	pos   int
	depth int
}

func parseJSONB(s string) (Datum, error) {
	if !utf8.ValidString(s) {
		return nil, errInvalidUTF8(s)
	}
	p := jsonParser{s: s}
	out, err := p.value(make([]byte, 0, len(s)+len(s)/4))
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.pos < len(s) {
		c := s[p.pos]
		tok := p.token(p.pos)
		if bytes.IndexByte([]byte("{}[],:\"-0123456789"), c) >= 0 || tok == "true" || tok == "false" || tok == "null" {
			return nil, p.fail("Expected end of input, but found \"%s\".", tok)
		}
		return nil, p.fail("Token \"%s\" is invalid.", tok)
	}
	return string(out), nil
}

func (p *jsonParser) fail(detail string, args ...any) *pgerror.Error {
	return pgerror.New(pgerror.InvalidTextRepresentation, "invalid input syntax for type json").WithDetail(detail, args...)
}

func (p *jsonParser) failEnd() *pgerror.Error {
	return p.fail("The input string ended unexpectedly.")
}

func (p *jsonParser) skipSpace() {
	for p.pos < len(p.s) {
		switch p.s[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func isJSONAlnum(c byte) bool {
	return isLetter(c) || isDigit(c) || c == '_' || c >= 0x80
}

// token returns the text of the token at i, for error messages.
func (p *jsonParser) token(i int) string {
	c := p.s[i]
	switch {
	case bytes.IndexByte([]byte("{}[],:"), c) >= 0:
		return p.s[i : i+1]
	case c == '"':
		j := i + 1
		for j < len(p.s) && p.s[j] != '"' {
			if p.s[j] == '\\' {
				j++
			}
			j++
		}
		if j >= len(p.s) {
			return p.s[i:]
		}
		return p.s[i : j+1]
	}
	j := i
	for j < len(p.s) && isJSONAlnum(p.s[j]) {
		j++
	}
	if j == i {
		_, size := utf8.DecodeRuneInString(p.s[i:])
		j = i + size
	}
	return p.s[i:j]
}

// value parses one JSON value at p.pos and appends its normalised form.
func (p *jsonParser) value(out []byte) ([]byte, error) {
	p.skipSpace()
	if p.pos >= len(p.s) {
		return nil, p.failEnd()
	}
	switch c := p.s[p.pos]; {
	case c == '{':
		return p.object(out)
	case c == '[':
		return p.array(out)
	case c == '"':
		var scratch [64]byte
		str, err := p.str(scratch[:0])
		if err != nil {
			return nil, err
		}
		return AppendJSONString(out, str), nil
	case c == '-' || isDigit(c):
		return p.number(out)
	case c == '}' || c == ']' || c == ',' || c == ':':
		return nil, p.fail("Expected JSON value, but found \"%s\".", p.token(p.pos))
	default:
		tok := p.token(p.pos)
		if tok == "true" || tok == "false" || tok == "null" {
			p.pos += len(tok)
			return append(out, tok...), nil
		}
		return nil, p.fail("Token \"%s\" is invalid.", tok)
	}
}

func (p *jsonParser) enter() error {
	p.depth++
	if p.depth > maxJSONDepth {
		return pgerror.New(codeStatementTooComplex, "stack depth limit exceeded").
			WithDetail("JSON nesting is deeper than %d levels.", maxJSONDepth)
	}
	return nil
}

type jsonMember struct {
	key        []byte // decoded
	start, end int    // the normalised value in the object's scratch buffer
}

func (p *jsonParser) object(out []byte) ([]byte, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	p.pos++ // '{'
	var members []jsonMember
	var vals []byte
	for first := true; ; first = false {
		p.skipSpace()
		if p.pos >= len(p.s) {
			return nil, p.failEnd()
		}
		if first && p.s[p.pos] == '}' {
			p.pos++
			break
		}
		if p.s[p.pos] != '"' {
			if first {
				return nil, p.fail("Expected string or \"}\", but found \"%s\".", p.token(p.pos))
			}
			return nil, p.fail("Expected string, but found \"%s\".", p.token(p.pos))
		}
		key, err := p.str(nil)
		if err != nil {
			return nil, err
		}
		p.skipSpace()
		if p.pos >= len(p.s) {
			return nil, p.failEnd()
		}
		if p.s[p.pos] != ':' {
			return nil, p.fail("Expected \":\", but found \"%s\".", p.token(p.pos))
		}
		p.pos++
		start := len(vals)
		if vals, err = p.value(vals); err != nil {
			return nil, err
		}
		members = append(members, jsonMember{key: key, start: start, end: len(vals)})
		p.skipSpace()
		if p.pos >= len(p.s) {
			return nil, p.failEnd()
		}
		if p.s[p.pos] == '}' {
			p.pos++
			break
		}
		if p.s[p.pos] != ',' {
			return nil, p.fail("Expected \",\" or \"}\", but found \"%s\".", p.token(p.pos))
		}
		p.pos++
	}
	p.depth--
	// jsonb's key order: shorter keys first, then bytewise; of duplicates
	// the last one wins, so sort stably and keep the last of each run.
	sort.SliceStable(members, func(i, j int) bool {
		a, b := members[i].key, members[j].key
		if len(a) != len(b) {
			return len(a) < len(b)
		}
		return bytes.Compare(a, b) < 0
	})
	out = append(out, '{')
	written := 0
	for i, m := range members {
		if i+1 < len(members) && bytes.Equal(m.key, members[i+1].key) {
			continue
		}
		if written > 0 {
			out = append(out, ',', ' ')
		}
		out = AppendJSONString(out, m.key)
		out = append(out, ':', ' ')
		out = append(out, vals[m.start:m.end]...)
		written++
	}
	return append(out, '}'), nil
}

func (p *jsonParser) array(out []byte) ([]byte, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	p.pos++ // '['
	out = append(out, '[')
	for first := true; ; first = false {
		p.skipSpace()
		if p.pos >= len(p.s) {
			return nil, p.failEnd()
		}
		c := p.s[p.pos]
		if first && c == ']' {
			p.pos++
			break
		}
		if first && (c == '}' || c == ',' || c == ':') {
			return nil, p.fail("Expected array element or \"]\", but found \"%s\".", p.token(p.pos))
		}
		if !first {
			out = append(out, ',', ' ')
		}
		var err error
		if out, err = p.value(out); err != nil {
			return nil, err
		}
		p.skipSpace()
		if p.pos >= len(p.s) {
			return nil, p.failEnd()
		}
		if p.s[p.pos] == ']' {
			p.pos++
			break
		}
		if p.s[p.pos] != ',' {
			return nil, p.fail("Expected \",\" or \"]\", but found \"%s\".", p.token(p.pos))
		}
		p.pos++
	}
	p.depth--
	return append(out, ']'), nil
}

// str parses a string literal at p.pos and appends its decoded bytes.
func (p *jsonParser) str(dst []byte) ([]byte, error) {
	start := p.pos
	p.pos++ // '"'
	for {
		if p.pos >= len(p.s) {
			return nil, p.fail("Token \"%s\" is invalid.", p.s[start:])
		}
		c := p.s[p.pos]
		switch {
		case c == '"':
			p.pos++
			return dst, nil
		case c < 0x20:
			return nil, p.fail("Character with value 0x%02x must be escaped.", c)
		case c != '\\':
			dst = append(dst, c)
			p.pos++
			continue
		}
		if p.pos+1 >= len(p.s) {
			return nil, p.fail("Token \"%s\" is invalid.", p.s[start:])
		}
		e := p.s[p.pos+1]
		p.pos += 2
		switch e {
		case '"', '\\', '/':
			dst = append(dst, e)
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r, ok := p.hex4()
			if !ok {
				return nil, p.fail("\"\\u\" must be followed by four hexadecimal digits.")
			}
			switch {
			case r == 0:
				return nil, pgerror.New(codeUntranslatableCharacter, "unsupported Unicode escape sequence").
					WithDetail("\\u0000 cannot be converted to text.")
			case r >= 0xD800 && r <= 0xDBFF:
				if p.pos+1 >= len(p.s) || p.s[p.pos] != '\\' || p.s[p.pos+1] != 'u' {
					return nil, p.fail("Unicode low surrogate must follow a high surrogate.")
				}
				p.pos += 2
				lo, ok := p.hex4()
				if !ok {
					return nil, p.fail("\"\\u\" must be followed by four hexadecimal digits.")
				}
				if lo >= 0xD800 && lo <= 0xDBFF {
					return nil, p.fail("Unicode high surrogate must not follow a high surrogate.")
				}
				if lo < 0xDC00 || lo > 0xDFFF {
					return nil, p.fail("Unicode low surrogate must follow a high surrogate.")
				}
				r = 0x10000 + (r-0xD800)<<10 + (lo - 0xDC00)
			case r >= 0xDC00 && r <= 0xDFFF:
				return nil, p.fail("Unicode low surrogate must follow a high surrogate.")
			}
			dst = utf8.AppendRune(dst, r)
		default:
			_, size := utf8.DecodeRuneInString(p.s[p.pos-1:])
			return nil, p.fail("Escape sequence \"\\%s\" is invalid.", p.s[p.pos-1:p.pos-1+size])
		}
	}
}

func (p *jsonParser) hex4() (rune, bool) {
	if p.pos+4 > len(p.s) {
		return 0, false
	}
	var r rune
	for i := 0; i < 4; i++ {
		v, ok := hexValue(p.s[p.pos+i])
		if !ok {
			return 0, false
		}
		r = r<<4 | rune(v)
	}
	p.pos += 4
	return r, true
}

// AppendJSONString appends s as a JSON string literal the way jsonb prints
// it (PostgreSQL's escape_json).
func AppendJSONString(out, s []byte) []byte {
	out = append(out, '"')
	for _, c := range s {
		switch c {
		case '"':
			out = append(out, '\\', '"')
		case '\\':
			out = append(out, '\\', '\\')
		case '\b':
			out = append(out, '\\', 'b')
		case '\f':
			out = append(out, '\\', 'f')
		case '\n':
			out = append(out, '\\', 'n')
		case '\r':
			out = append(out, '\\', 'r')
		case '\t':
			out = append(out, '\\', 't')
		default:
			if c < 0x20 {
				out = append(out, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			} else {
				out = append(out, c)
			}
		}
	}
	return append(out, '"')
}

// number parses a JSON number and appends it as numeric prints it: without
// an exponent, with as many fraction digits as the literal's scale.
func (p *jsonParser) number(out []byte) ([]byte, error) {
	s := p.s
	start := p.pos
	i := start
	invalid := func() error {
		j := i
		for j < len(s) && (isJSONAlnum(s[j]) || s[j] == '.' || s[j] == '+' || s[j] == '-') {
			j++
		}
		return p.fail("Token \"%s\" is invalid.", s[start:j])
	}
	neg := s[i] == '-'
	if neg {
		i++
	}
	intStart := i
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && isDigit(s[i]):
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	default:
		return nil, invalid()
	}
	intPart := s[intStart:i]
	fracPart := ""
	if i < len(s) && s[i] == '.' {
		i++
		fs := i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		if i == fs {
			return nil, invalid()
		}
		fracPart = s[fs:i]
	}
	exp := int64(0)
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		expNeg := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			expNeg = s[i] == '-'
			i++
		}
		es := i
		for i < len(s) && isDigit(s[i]) {
			if exp < 1<<40 {
				exp = exp*10 + int64(s[i]-'0')
			}
			i++
		}
		if i == es {
			return nil, invalid()
		}
		if expNeg {
			exp = -exp
		}
	}
	if i < len(s) && isJSONAlnum(s[i]) {
		return nil, invalid()
	}
	p.pos = i
	return appendDecimal(out, neg, intPart, fracPart, exp)
}

// appendDecimal prints intPart.fracPart × 10^exp as numeric_out would:
// positional, leading zeros removed, scale max(0, len(fracPart)-exp).
func appendDecimal(out []byte, neg bool, intPart, fracPart string, exp int64) ([]byte, error) {
	overflow := pgerror.New(pgerror.NumericValueOutOfRange, "value overflows numeric format")
	// Drop leading zeros of the integer part: they change nothing.
	for len(intPart) > 0 && intPart[0] == '0' {
		intPart = intPart[1:]
	}
	nDigits := int64(len(intPart) + len(fracPart))
	point := int64(len(intPart)) + exp // digits before the decimal point
	scale := int64(len(fracPart)) - exp
	if scale < 0 {
		scale = 0
	}
	digit := func(k int64) byte { // k-th digit of intPart+fracPart, 0 outside
		if k < 0 || k >= nDigits {
			return '0'
		}
		if k < int64(len(intPart)) {
			return intPart[k]
		}
		return fracPart[k-int64(len(intPart))]
	}
	// Find the first non-zero digit to know the integer digit count and zero.
	first := int64(-1)
	for k := int64(0); k < nDigits; k++ {
		if digit(k) != '0' {
			first = k
			break
		}
	}
	if scale > maxNumericScale || (first >= 0 && point-first > maxNumericIntDigits) {
		return nil, overflow
	}
	if neg && first >= 0 {
		out = append(out, '-')
	}
	if first < 0 || point-first <= 0 {
		out = append(out, '0')
	} else {
		for k := first; k < point; k++ {
			out = append(out, digit(k))
		}
	}
	if scale > 0 {
		out = append(out, '.')
		for k := point; k < point+scale; k++ {
			out = append(out, digit(k))
		}
	}
	return out, nil
}
