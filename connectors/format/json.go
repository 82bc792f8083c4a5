package format

import (
	"bytes"
	"errors"
	"fmt"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sluicedb/sluice/types"
)

// JSONDecoder decodes JSON objects, one per record, into rows: keys are
// matched to column names (exactly first, then ignoring case), missing keys
// are NULL and unknown keys are skipped (but must still be valid JSON).
type JSONDecoder struct {
	row *rowBuilder
	// names are the column names, for key matching without conversions.
	names [][]byte
	// hint is the column expected for the next key: records of one stream
	// usually list their keys in the same order, so the match is tried
	// there first.
	hint int
	key  []byte // scratch for keys that contain escapes
}

// NewJSONDecoder returns a decoder of JSON objects into rows of schema.
func NewJSONDecoder(schema types.Schema, alloc memory.Allocator) (*JSONDecoder, error) {
	row, err := newRowBuilder(schema, alloc)
	if err != nil {
		return nil, err
	}
	d := &JSONDecoder{row: row, names: make([][]byte, len(schema))}
	for i, c := range schema {
		d.names[i] = []byte(c.Name)
	}
	return d, nil
}

// Frame returns the length of the first line of data, newline included.
func (d *JSONDecoder) Frame(data []byte) int { return frameLine(data) }

// Len is the number of rows appended since the last Finish.
func (d *JSONDecoder) Len() int { return d.row.rows }

// Finish returns the rows appended so far and starts a new batch.
func (d *JSONDecoder) Finish() arrow.Record { return d.row.finish() }

// Release frees the builders.
func (d *JSONDecoder) Release() { d.row.release() }

// Append decodes one JSON object and appends it as a row. On error nothing
// is appended.
func (d *JSONDecoder) Append(rec []byte) error {
	r := d.row
	r.begin()
	p := skipWS(rec, 0)
	if p == len(rec) || rec[p] != '{' {
		return errors.New("expected a JSON object")
	}
	p = skipWS(rec, p+1)
	if p < len(rec) && rec[p] == '}' {
		p++
	} else {
		next := 0
		for {
			if p == len(rec) || rec[p] != '"' {
				return syntaxErr(rec, p, "expected a string key")
			}
			key, end, err := d.scanKey(rec, p)
			if err != nil {
				return err
			}
			p = skipWS(rec, end)
			if p == len(rec) || rec[p] != ':' {
				return syntaxErr(rec, p, "expected ':' after key")
			}
			p = skipWS(rec, p+1)
			col := d.lookup(key, next)
			if col >= 0 {
				next = col + 1
				p, err = d.value(col, rec, p)
			} else {
				p, err = skipValue(rec, p, 0)
			}
			if err != nil {
				return err
			}
			p = skipWS(rec, p)
			if p < len(rec) && rec[p] == ',' {
				p = skipWS(rec, p+1)
				continue
			}
			if p < len(rec) && rec[p] == '}' {
				p++
				break
			}
			return syntaxErr(rec, p, "expected ',' or '}'")
		}
	}
	if p = skipWS(rec, p); p != len(rec) {
		return syntaxErr(rec, p, "unexpected data after the JSON object")
	}
	r.commit()
	return nil
}

// lookup returns the column named key: exactly (trying the expected column
// first), else ignoring case; -1 for none.
func (d *JSONDecoder) lookup(key []byte, next int) int {
	if next < len(d.names) && bytes.Equal(d.names[next], key) {
		return next
	}
	for i, n := range d.names {
		if bytes.Equal(n, key) {
			return i
		}
	}
	for i, n := range d.names {
		if bytes.EqualFold(n, key) {
			return i
		}
	}
	return -1
}

// scanKey scans the string at rec[p] and returns its contents, unescaped
// into scratch when needed, and the offset after it.
func (d *JSONDecoder) scanKey(rec []byte, p int) ([]byte, int, error) {
	end, flags, err := scanString(rec, p)
	if err != nil {
		return nil, 0, err
	}
	if flags&strEscaped == 0 {
		return rec[p+1 : end-1], end, nil
	}
	d.key, err = unescape(d.key[:0], rec[p+1:end-1])
	return d.key, end, err
}

// value decodes the JSON value at rec[p] into column col.
func (d *JSONDecoder) value(col int, rec []byte, p int) (int, error) {
	r := d.row
	if p == len(rec) {
		return p, syntaxErr(rec, p, "expected a value")
	}
	switch c := rec[p]; {
	case c == '"':
		end, flags, err := scanString(rec, p)
		if err != nil {
			return 0, err
		}
		if r.cols[col].typ == types.JSONB {
			// A JSON string in a jsonb column is the JSON value itself.
			return end, r.setRawJSON(col, rec[p:end], "string")
		}
		s := rec[p+1 : end-1]
		if flags&strEscaped != 0 {
			start := len(r.buf)
			if r.buf, err = unescape(r.buf, s); err != nil {
				return 0, err
			}
			s = r.buf[start:len(r.buf):len(r.buf)]
		}
		return end, r.setText(col, s)
	case c == '-' || ('0' <= c && c <= '9'):
		end, integral, err := scanNumber(rec, p)
		if err != nil {
			return 0, err
		}
		return end, r.setNumber(col, rec[p:end], integral)
	case c == 't':
		if !bytes.HasPrefix(rec[p:], litTrue) {
			return 0, syntaxErr(rec, p, "invalid literal")
		}
		return p + 4, r.setBool(col, true)
	case c == 'f':
		if !bytes.HasPrefix(rec[p:], litFalse) {
			return 0, syntaxErr(rec, p, "invalid literal")
		}
		return p + 5, r.setBool(col, false)
	case c == 'n':
		if !bytes.HasPrefix(rec[p:], litNull) {
			return 0, syntaxErr(rec, p, "invalid literal")
		}
		r.setNull(col)
		return p + 4, nil
	case c == '{' || c == '[':
		end, err := skipValue(rec, p, 0)
		if err != nil {
			return 0, err
		}
		what := "object"
		if c == '[' {
			what = "array"
		}
		return end, r.setRawJSON(col, rec[p:end], what)
	}
	return 0, syntaxErr(rec, p, "unexpected character")
}

var litNull = []byte("null")

// maxDepth bounds the nesting of skipped JSON values, so that a hostile
// record cannot exhaust the stack.
const maxDepth = 512

func syntaxErr(rec []byte, p int, what string) error {
	if p >= len(rec) {
		return fmt.Errorf("invalid JSON: %s at end of input", what)
	}
	return fmt.Errorf("invalid JSON: %s at offset %d", what, p)
}

func skipWS(b []byte, p int) int {
	for p < len(b) && (b[p] == ' ' || b[p] == '\t' || b[p] == '\n' || b[p] == '\r') {
		p++
	}
	return p
}

const (
	strEscaped = 1 << iota // contains backslash escapes
)

// plainStringByte marks the bytes a JSON string may contain that need no
// attention: printable ASCII other than '"' and '\\'.
var plainStringByte = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// scanString scans the JSON string starting at b[p] (a '"') and returns the
// offset just after its closing quote. Control characters and invalid UTF-8
// are errors, as in any conforming parser.
func scanString(b []byte, p int) (int, int, error) {
	flags := 0
	high := false
	i := p + 1
	for i < len(b) {
		// The common case: a run of plain ASCII characters.
		for i+4 <= len(b) && plainStringByte[b[i]] && plainStringByte[b[i+1]] &&
			plainStringByte[b[i+2]] && plainStringByte[b[i+3]] {
			i += 4
		}
		for i < len(b) && plainStringByte[b[i]] {
			i++
		}
		if i == len(b) {
			break
		}
		switch c := b[i]; {
		case c == '"':
			if high && !utf8.Valid(b[p+1:i]) {
				return 0, 0, errors.New("invalid JSON: string is not valid UTF-8")
			}
			return i + 1, flags, nil
		case c == '\\':
			flags |= strEscaped
			if i+1 == len(b) {
				return 0, 0, syntaxErr(b, i+1, "unterminated escape")
			}
			i += 2
		case c < 0x20:
			return 0, 0, syntaxErr(b, i, "control character in string")
		default:
			high = true
			i++
		}
	}
	return 0, 0, syntaxErr(b, len(b), "unterminated string")
}

// unescape appends the decoded contents of a JSON string (without quotes)
// to dst.
func unescape(dst, s []byte) ([]byte, error) {
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' {
			j := bytes.IndexByte(s[i:], '\\')
			if j < 0 {
				return append(dst, s[i:]...), nil
			}
			dst = append(dst, s[i:i+j]...)
			i += j
			continue
		}
		if i+1 >= len(s) {
			return nil, errors.New("invalid JSON: unterminated escape")
		}
		switch s[i+1] {
		case '"', '\\', '/':
			dst = append(dst, s[i+1])
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
			r, n, err := decodeUnicodeEscape(s[i:])
			if err != nil {
				return nil, err
			}
			dst = utf8.AppendRune(dst, r)
			i += n
			continue
		default:
			return nil, fmt.Errorf("invalid JSON: invalid escape \\%c", s[i+1])
		}
		i += 2
	}
	return dst, nil
}

// decodeUnicodeEscape decodes \uXXXX (and a following low surrogate) at the
// start of s, returning the rune and the bytes consumed. NUL is refused: a
// PostgreSQL text value cannot hold it.
func decodeUnicodeEscape(s []byte) (rune, int, error) {
	r, ok := hex4(s)
	if !ok {
		return 0, 0, errors.New(`invalid JSON: invalid \u escape`)
	}
	if r == 0 {
		return 0, 0, errors.New(`unsupported Unicode escape \u0000`)
	}
	if utf16.IsSurrogate(r) {
		if len(s) >= 12 && s[6] == '\\' && s[7] == 'u' {
			if lo, ok := hex4(s[6:]); ok {
				if dec := utf16.DecodeRune(r, lo); dec != utf8.RuneError {
					return dec, 12, nil
				}
			}
		}
		return utf8.RuneError, 6, nil
	}
	return r, 6, nil
}

func hex4(s []byte) (rune, bool) {
	if len(s) < 6 {
		return 0, false
	}
	var r rune
	for _, c := range s[2:6] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// scanNumber checks the JSON number at b[p] and returns the offset after it
// and whether it is integral (no fraction, no exponent).
func scanNumber(b []byte, p int) (int, bool, error) {
	i := p
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
	default:
		return 0, false, syntaxErr(b, i, "invalid number")
	}
	integral := true
	if i < len(b) && b[i] == '.' {
		integral = false
		i++
		start := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		if i == start {
			return 0, false, syntaxErr(b, i, "invalid number")
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		integral = false
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		start := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		if i == start {
			return 0, false, syntaxErr(b, i, "invalid number")
		}
	}
	return i, integral, nil
}

// skipValue checks the JSON value at b[p] and returns the offset after it.
func skipValue(b []byte, p, depth int) (int, error) {
	if p == len(b) {
		return 0, syntaxErr(b, p, "expected a value")
	}
	switch c := b[p]; {
	case c == '"':
		end, _, err := scanString(b, p)
		return end, err
	case c == '-' || ('0' <= c && c <= '9'):
		end, _, err := scanNumber(b, p)
		return end, err
	case c == 't':
		if bytes.HasPrefix(b[p:], litTrue) {
			return p + 4, nil
		}
	case c == 'f':
		if bytes.HasPrefix(b[p:], litFalse) {
			return p + 5, nil
		}
	case c == 'n':
		if bytes.HasPrefix(b[p:], litNull) {
			return p + 4, nil
		}
	case c == '{' || c == '[':
		if depth >= maxDepth {
			return 0, errors.New("invalid JSON: nesting is too deep")
		}
		closer := byte('}')
		if c == '[' {
			closer = ']'
		}
		p = skipWS(b, p+1)
		if p < len(b) && b[p] == closer {
			return p + 1, nil
		}
		for {
			var err error
			if c == '{' {
				if p == len(b) || b[p] != '"' {
					return 0, syntaxErr(b, p, "expected a string key")
				}
				if p, _, err = scanString(b, p); err != nil {
					return 0, err
				}
				p = skipWS(b, p)
				if p == len(b) || b[p] != ':' {
					return 0, syntaxErr(b, p, "expected ':' after key")
				}
				p = skipWS(b, p+1)
			}
			if p, err = skipValue(b, p, depth+1); err != nil {
				return 0, err
			}
			p = skipWS(b, p)
			if p < len(b) && b[p] == ',' {
				p = skipWS(b, p+1)
				continue
			}
			if p < len(b) && b[p] == closer {
				return p + 1, nil
			}
			return 0, syntaxErr(b, p, "expected ',' or '"+string(closer)+"'")
		}
	}
	return 0, syntaxErr(b, p, "unexpected character")
}

// validateJSON checks that s is exactly one JSON value, with optional
// surrounding whitespace.
func validateJSON(s []byte) error {
	p, err := skipValue(s, skipWS(s, 0), 0)
	if err != nil {
		return err
	}
	if skipWS(s, p) != len(s) {
		return syntaxErr(s, skipWS(s, p), "unexpected data after the value")
	}
	return nil
}
