package expr

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"math"
	"regexp"
	"strconv"
	"unicode"
	"unicode/utf8"

	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/types"
)

// Text functions. Strings are UTF-8 and functions count characters, not
// bytes, like PostgreSQL in a UTF8 database. Case mapping is Unicode's,
// which is what PostgreSQL does under the C.UTF-8 locale.

// maxTextLen is PostgreSQL's limit on the size of one value (1 GB).
const maxTextLen = 1<<30 - 1

func errTooLong() error {
	return pgerror.New(pgerror.ProgramLimitExceeded, "requested length too large")
}

// appendLower appends s in lower case, without allocating for ASCII.
func appendLower(dst, s []byte) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			dst = append(dst, c)
			i++
			continue
		}
		r, n := utf8.DecodeRune(s[i:])
		dst = utf8.AppendRune(dst, unicode.ToLower(r))
		i += n
	}
	return dst
}

func appendUpper(dst, s []byte) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			dst = append(dst, c)
			i++
			continue
		}
		r, n := utf8.DecodeRune(s[i:])
		dst = utf8.AppendRune(dst, unicode.ToUpper(r))
		i += n
	}
	return dst
}

// appendInitcap upper-cases the first letter of each word and lower-cases
// the rest; words are runs of letters and digits.
func appendInitcap(dst, s []byte) []byte {
	inWord := false
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRune(s[i:])
		if inWord {
			r = unicode.ToLower(r)
		} else {
			r = unicode.ToUpper(r)
		}
		inWord = unicode.IsLetter(r) || unicode.IsDigit(r)
		dst = utf8.AppendRune(dst, r)
		i += n
	}
	return dst
}

func textMap(f func(dst, s []byte) []byte) evalFn {
	return textKernel(types.Text, func(ra *rowArgs, i int, dst []byte) ([]byte, bool, error) {
		return f(dst, ra.bytes(0, i)), false, nil
	})
}

// byteOffsetOfChar returns the byte offset of the k-th character (0-based)
// of s, or len(s) when s is shorter.
func byteOffsetOfChar(s []byte, k int64) int {
	if k <= 0 {
		return 0
	}
	off := 0
	for ; k > 0 && off < len(s); k-- {
		if s[off] < utf8.RuneSelf {
			off++
			continue
		}
		_, n := utf8.DecodeRune(s[off:])
		off += n
	}
	return off
}

// substring is substr(s, from[, for]) with 1-based from, which may be zero
// or negative (the characters before the string count but do not exist).
func substring(s []byte, from int64, count int64, hasCount bool) ([]byte, error) {
	if hasCount && count < 0 {
		return nil, pgerror.New("22011", "negative substring length not allowed")
	}
	start := from
	var end int64 = math.MaxInt64
	if hasCount {
		end = from + count
		if count > 0 && end < from { // overflow
			end = math.MaxInt64
		}
	}
	if start < 1 {
		start = 1
	}
	if end <= start {
		return nil, nil
	}
	b := byteOffsetOfChar(s, start-1)
	if end == math.MaxInt64 {
		return s[b:], nil
	}
	e := b + byteOffsetOfChar(s[b:], end-start)
	return s[b:e], nil
}

func substrKernel(bytea bool) evalFn {
	rt := types.Text
	if bytea {
		rt = types.Bytea
	}
	return textKernel(rt, func(ra *rowArgs, i int, dst []byte) ([]byte, bool, error) {
		s := ra.bytes(0, i)
		from := int64(ra.int32(1, i))
		count, has := int64(0), len(ra.vecs) > 2
		if has {
			count = int64(ra.int32(2, i))
		}
		if bytea {
			// Bytes, not characters.
			if has && count < 0 {
				return dst, false, pgerror.New("22011", "negative substring length not allowed")
			}
			start, end := from, int64(math.MaxInt64)
			if has {
				end = from + count
			}
			start = max(start, 1)
			if end <= start || start > int64(len(s)) {
				return dst, false, nil
			}
			end = min(end, int64(len(s))+1)
			return append(dst, s[start-1:end-1]...), false, nil
		}
		sub, err := substring(s, from, count, has)
		return append(dst, sub...), false, err
	})
}

// strpos is the 1-based character position of needle in s, 0 when absent.
func strpos(s, needle []byte) int32 {
	k := bytes.Index(s, needle)
	if k < 0 {
		return 0
	}
	return int32(utf8.RuneCount(s[:k])) + 1
}

// trimSet trims the characters of set from the ends of s.
func trimSet(s, set []byte, left, right bool) []byte {
	in := func(r rune) bool {
		if r < utf8.RuneSelf {
			return bytes.IndexByte(set, byte(r)) >= 0
		}
		return bytes.ContainsRune(set, r)
	}
	if left {
		for len(s) > 0 {
			r, n := utf8.DecodeRune(s)
			if !in(r) {
				break
			}
			s = s[n:]
		}
	}
	if right {
		for len(s) > 0 {
			r, n := utf8.DecodeLastRune(s)
			if !in(r) {
				break
			}
			s = s[:len(s)-n]
		}
	}
	return s
}

func trimKernel(left, right bool) evalFn {
	space := []byte(" ")
	return textKernel(types.Text, func(ra *rowArgs, i int, dst []byte) ([]byte, bool, error) {
		set := space
		if len(ra.vecs) > 1 {
			set = ra.bytes(1, i)
		}
		return append(dst, trimSet(ra.bytes(0, i), set, left, right)...), false, nil
	})
}

func replaceText(dst, s, from, to []byte) []byte {
	if len(from) == 0 {
		return append(dst, s...)
	}
	for {
		k := bytes.Index(s, from)
		if k < 0 {
			return append(dst, s...)
		}
		dst = append(dst, s[:k]...)
		dst = append(dst, to...)
		s = s[k+len(from):]
	}
}

// leftRight is left(s, n) and right(s, n); a negative n drops |n|
// characters from the other end.
func leftRight(dst, s []byte, n int64, left bool) []byte {
	chars := int64(utf8.RuneCount(s))
	keep := n
	if n < 0 {
		keep = max(chars+n, 0)
	}
	keep = min(keep, chars)
	if left {
		return append(dst, s[:byteOffsetOfChar(s, keep)]...)
	}
	return append(dst, s[byteOffsetOfChar(s, chars-keep):]...)
}

// pad is lpad/rpad: s cut or filled to n characters with fill repeated.
func pad(dst, s []byte, n int64, fill []byte, left bool) ([]byte, error) {
	if n <= 0 {
		return dst, nil
	}
	if n > maxTextLen {
		return dst, errTooLong()
	}
	chars := int64(utf8.RuneCount(s))
	if chars >= n || len(fill) == 0 {
		return append(dst, s[:byteOffsetOfChar(s, n)]...), nil
	}
	appendFill := func(dst []byte, count int64) []byte {
		for count > 0 {
			for k := 0; k < len(fill) && count > 0; {
				_, w := utf8.DecodeRune(fill[k:])
				dst = append(dst, fill[k:k+w]...)
				k += w
				count--
			}
		}
		return dst
	}
	if left {
		dst = appendFill(dst, n-chars)
		return append(dst, s...), nil
	}
	dst = append(dst, s...)
	return appendFill(dst, n-chars), nil
}

// splitPart is split_part(s, delim, n); negative n counts from the end.
func splitPart(s, delim []byte, n int32) ([]byte, error) {
	if n == 0 {
		return nil, pgerror.New(pgerror.InvalidParameterValue, "field position must not be zero")
	}
	if len(delim) == 0 {
		if n == 1 || n == -1 {
			return s, nil
		}
		return nil, nil
	}
	if n > 0 {
		for k := int32(1); ; k++ {
			idx := bytes.Index(s, delim)
			if k == n {
				if idx < 0 {
					return s, nil
				}
				return s[:idx], nil
			}
			if idx < 0 {
				return nil, nil
			}
			s = s[idx+len(delim):]
		}
	}
	for k := int32(-1); ; k-- {
		idx := bytes.LastIndex(s, delim)
		if k == n {
			if idx < 0 {
				return s, nil
			}
			return s[idx+len(delim):], nil
		}
		if idx < 0 {
			return nil, nil
		}
		s = s[:idx]
	}
}

func reverseText(dst, s []byte) []byte {
	for len(s) > 0 {
		_, n := utf8.DecodeLastRune(s)
		dst = append(dst, s[len(s)-n:]...)
		s = s[:len(s)-n]
	}
	return dst
}

func chr(dst []byte, code int32) ([]byte, error) {
	switch {
	case code == 0:
		return dst, pgerror.New(pgerror.ProgramLimitExceeded, "null character not permitted")
	case code < 0:
		return dst, pgerror.New(pgerror.InvalidParameterValue, "character number must be positive")
	case code > unicode.MaxRune:
		return dst, pgerror.New(pgerror.ProgramLimitExceeded, "requested character too large for encoding: %d", code)
	case code >= 0xD800 && code <= 0xDFFF:
		return dst, pgerror.New(pgerror.ProgramLimitExceeded, "requested character not valid for encoding: %d", code)
	}
	return utf8.AppendRune(dst, rune(code)), nil
}

func ascii(s []byte) int32 {
	if len(s) == 0 {
		return 0
	}
	r, _ := utf8.DecodeRune(s)
	return int32(r)
}

func md5Hex(dst, s []byte) []byte {
	sum := md5.Sum(s)
	return hex.AppendEncode(dst, sum[:])
}

// LIKE

// likeMatch reports whether s matches the LIKE pattern p: % is any run of
// characters, _ one character, and a backslash makes the next character
// literal. Like PostgreSQL it complains about a trailing backslash only when
// the match gets there.
func likeMatch(s, p []byte) (bool, error) {
	si, pi := 0, 0
	starP, starS := -1, 0
	for si < len(s) {
		if pi < len(p) {
			switch c := p[pi]; c {
			case '%':
				for pi < len(p) && p[pi] == '%' {
					pi++
				}
				if pi == len(p) {
					return true, nil
				}
				starP, starS = pi, si
				continue
			case '_':
				si += runeLen(s, si)
				pi++
				continue
			case '\\':
				if pi+1 == len(p) {
					return false, pgerror.New(pgerror.InvalidEscapeSequence, "LIKE pattern must not end with escape character")
				}
				if s[si] == p[pi+1] {
					si++
					pi += 2
					continue
				}
			default:
				if s[si] == c {
					si++
					pi++
					continue
				}
			}
		}
		if starP < 0 {
			return false, nil
		}
		starS += runeLen(s, starS)
		si, pi = starS, starP
	}
	for pi < len(p) && p[pi] == '%' {
		pi++
	}
	return pi == len(p), nil
}

func runeLen(s []byte, i int) int {
	if s[i] < utf8.RuneSelf {
		return 1
	}
	_, n := utf8.DecodeRune(s[i:])
	return n
}

// likeShape classifies a constant pattern so that the common forms match
// without the general algorithm: 'abc', 'abc%', '%abc', '%abc%'.
type likeShape uint8

const (
	likeGeneral likeShape = iota
	likeExact
	likePrefix
	likeSuffix
	likeContains
)

func classifyLike(p []byte) (likeShape, []byte) {
	if bytes.ContainsAny(p, `_\`) {
		return likeGeneral, nil
	}
	lead := len(p) > 0 && p[0] == '%'
	inner := p
	if lead {
		inner = inner[1:]
	}
	trail := len(inner) > 0 && inner[len(inner)-1] == '%'
	if trail {
		inner = inner[:len(inner)-1]
	}
	if bytes.IndexByte(inner, '%') >= 0 {
		return likeGeneral, nil
	}
	switch {
	case lead && trail:
		return likeContains, inner
	case lead:
		return likeSuffix, inner
	case trail:
		return likePrefix, inner
	}
	return likeExact, inner
}

// likeKernel is LIKE (~~), NOT LIKE, ILIKE (~~*) and NOT ILIKE. A constant
// pattern is examined (and case-folded for ILIKE) once at compile time.
func likeKernel(fold, negate bool) kernelBuilder {
	return func(args []Expr) (evalFn, error) {
		pat, constant := constString(args[1])
		shape, lit := likeGeneral, []byte(nil)
		var cpat []byte
		if constant {
			cpat = []byte(pat)
			if fold {
				cpat = appendLower(nil, cpat)
			}
			shape, lit = classifyLike(cpat)
		}
		return func(st *evalState, args []vec) (vec, error) {
			var lower []byte
			return boolKernel(func(ra *rowArgs, i int) (bool, error) {
				s := ra.bytes(0, i)
				p := cpat
				if !constant {
					p = ra.bytes(1, i)
					if fold {
						p = appendLower(nil, p)
					}
				}
				if fold {
					lower = appendLower(lower[:0], s)
					s = lower
				}
				var ok bool
				switch shape {
				case likeExact:
					ok = bytes.Equal(s, lit)
				case likePrefix:
					ok = bytes.HasPrefix(s, lit)
				case likeSuffix:
					ok = bytes.HasSuffix(s, lit)
				case likeContains:
					ok = bytes.Contains(s, lit)
				default:
					var err error
					if ok, err = likeMatch(s, p); err != nil {
						return false, err
					}
				}
				return ok != negate, nil
			})(st, args)
		}, nil
	}
}

// likeEscape is like_escape(pattern, escape): the pattern rewritten to use
// backslash as its escape character, which is what LIKE ... ESCAPE becomes.
func likeEscape(dst, p, esc []byte) ([]byte, error) {
	if len(esc) == 0 {
		// No escape character: backslashes become literal.
		for _, c := range p {
			if c == '\\' {
				dst = append(dst, '\\')
			}
			dst = append(dst, c)
		}
		return dst, nil
	}
	e, n := utf8.DecodeRune(esc)
	if n != len(esc) {
		return dst, pgerror.New(pgerror.InvalidEscapeSequence, "invalid escape string").
			WithHint("Escape string must be empty or one character.")
	}
	for i := 0; i < len(p); {
		r, w := utf8.DecodeRune(p[i:])
		switch {
		case r == e:
			if i+w == len(p) {
				return dst, pgerror.New(pgerror.InvalidEscapeSequence, "LIKE pattern must not end with escape character")
			}
			dst = append(dst, '\\')
			i += w
			r2, w2 := utf8.DecodeRune(p[i:])
			dst = utf8.AppendRune(dst, r2)
			i += w2
			continue
		case r == '\\':
			dst = append(dst, '\\', '\\')
		default:
			dst = append(dst, p[i:i+w]...)
		}
		i += w
	}
	return dst, nil
}

// Regular expressions use Go's RE2 syntax, which agrees with PostgreSQL's
// advanced regular expressions on the common constructs (classes,
// quantifiers, groups, anchors, alternation) but has no back-references and
// no lookaround.

func compileRegexp(pattern string, fold bool) (*regexp.Regexp, error) {
	if fold {
		pattern = "(?i)" + pattern
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, pgerror.New(pgerror.InvalidRegularExpression, "invalid regular expression: %v", err)
	}
	return re, nil
}

// regexCache keeps the last pattern compiled for a non-constant pattern
// argument, which is usually the same from row to row.
type regexCache struct {
	pattern string
	fold    bool
	re      *regexp.Regexp
}

func (c *regexCache) get(pattern []byte, fold bool) (*regexp.Regexp, error) {
	if c.re != nil && c.fold == fold && c.pattern == string(pattern) {
		return c.re, nil
	}
	re, err := compileRegexp(string(pattern), fold)
	if err != nil {
		return nil, err
	}
	c.pattern, c.fold, c.re = string(pattern), fold, re
	return re, nil
}

// regexMatchKernel is ~, !~, ~* and !~*.
func regexMatchKernel(fold, negate bool) kernelBuilder {
	return func(args []Expr) (evalFn, error) {
		var fixed *regexp.Regexp
		if pat, ok := constString(args[1]); ok {
			var err error
			if fixed, err = compileRegexp(pat, fold); err != nil {
				return nil, err
			}
		}
		return func(st *evalState, args []vec) (vec, error) {
			var cache regexCache
			return boolKernel(func(ra *rowArgs, i int) (bool, error) {
				re := fixed
				if re == nil {
					var err error
					if re, err = cache.get(ra.bytes(1, i), fold); err != nil {
						return false, err
					}
				}
				return re.Match(ra.bytes(0, i)) != negate, nil
			})(st, args)
		}, nil
	}
}

// regexpReplaceKernel is regexp_replace(source, pattern, replacement
// [, flags]). Flag g replaces every match instead of the first, i ignores
// case; the replacement may use \1 to \9 and \& for the matched text.
func regexpReplaceKernel(args []Expr) (evalFn, error) {
	pat, constPat := constString(args[1])
	flags, constFlags := "", true
	if len(args) > 3 {
		flags, constFlags = constString(args[3])
	}
	var fixed *regexp.Regexp
	var global bool
	if constPat && constFlags {
		fold, g, err := regexFlags([]byte(flags))
		if err != nil {
			return nil, err
		}
		if fixed, err = compileRegexp(pat, fold); err != nil {
			return nil, err
		}
		global = g
	}
	return func(st *evalState, vs []vec) (vec, error) {
		var cache regexCache
		return textKernel(types.Text, func(ra *rowArgs, i int, dst []byte) ([]byte, bool, error) {
			re, g := fixed, global
			if re == nil {
				var f []byte
				if len(ra.vecs) > 3 {
					f = ra.bytes(3, i)
				}
				fold, gl, err := regexFlags(f)
				if err != nil {
					return dst, false, err
				}
				if re, err = cache.get(ra.bytes(1, i), fold); err != nil {
					return dst, false, err
				}
				g = gl
			}
			return regexReplace(dst, re, ra.bytes(0, i), ra.bytes(2, i), g), false, nil
		})(st, vs)
	}, nil
}

// regexpSubstringKernel is substring(source FROM pattern): NULL when the
// pattern does not match.
func regexpSubstringKernel(args []Expr) (evalFn, error) {
	pat, constPat := constString(args[1])
	var fixed *regexp.Regexp
	if constPat {
		var err error
		if fixed, err = compileRegexp(pat, false); err != nil {
			return nil, err
		}
	}
	return func(st *evalState, vs []vec) (vec, error) {
		var cache regexCache
		return textKernel(types.Text, func(ra *rowArgs, i int, dst []byte) ([]byte, bool, error) {
			re := fixed
			if re == nil {
				var err error
				if re, err = cache.get(ra.bytes(1, i), false); err != nil {
					return dst, false, err
				}
			}
			src := ra.bytes(0, i)
			m := re.FindSubmatchIndex(src)
			switch {
			case m == nil:
				return dst, true, nil
			case len(m) >= 4:
				if m[2] < 0 {
					return dst, true, nil // the subexpression took no part in the match
				}
				return append(dst, src[m[2]:m[3]]...), false, nil
			}
			return append(dst, src[m[0]:m[1]]...), false, nil
		})(st, vs)
	}, nil
}

func regexFlags(flags []byte) (fold, global bool, err error) {
	for _, f := range flags {
		switch f {
		case 'g':
			global = true
		case 'i':
			fold = true
		case 'c':
			fold = false
		case 'n', 'p', 'w', 's', 't', 'q', 'x', 'e', 'b':
			// Options of PostgreSQL's regex flavours that have no RE2
			// equivalent here; accepted and ignored.
		default:
			return false, false, pgerror.New(pgerror.InvalidParameterValue, "invalid regular expression option: \"%c\"", f)
		}
	}
	return fold, global, nil
}

func regexReplace(dst []byte, re *regexp.Regexp, s, repl []byte, global bool) []byte {
	last := 0
	limit := 1
	if global {
		limit = -1
	}
	for _, m := range re.FindAllSubmatchIndex(s, limit) {
		dst = append(dst, s[last:m[0]]...)
		for k := 0; k < len(repl); k++ {
			c := repl[k]
			if c != '\\' || k+1 == len(repl) {
				dst = append(dst, c)
				continue
			}
			k++
			switch d := repl[k]; {
			case d >= '1' && d <= '9':
				g := int(d - '0')
				if 2*g+1 < len(m) && m[2*g] >= 0 {
					dst = append(dst, s[m[2*g]:m[2*g+1]]...)
				}
			case d == '&':
				dst = append(dst, s[m[0]:m[1]]...)
			case d == '\\':
				dst = append(dst, '\\')
			default:
				dst = append(dst, '\\', d)
			}
		}
		last = m[1]
	}
	return append(dst, s[last:]...)
}

// toHex is to_hex of the two's complement bits of an integer.
func toHex(dst []byte, v uint64) []byte {
	return strconv.AppendUint(dst, v, 16)
}
