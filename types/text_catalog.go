package types

// The text and binary formats of the system catalog types (oid, name,
// "char", the reg* types, xid, int2vector, oidvector, pg_node_tree, aclitem)
// and of arrays.
//
// Every one of them is stored in the form its output function prints (or,
// for the integer-like ones, as an int64), so printing is a copy and parsing
// canonicalises: '{1, 02}'::int[] is stored as {1,2}, so two arrays are equal
// exactly when their stored strings are. An array's text form carries its
// dimensions and lower bounds ([0:1]={1,2}) as PostgreSQL prints them.
//
// The reg* types parse only the numeric form here (and "-" for 0). Names
// ('pg_class'::regclass) need the catalog: the planner resolves them in
// constants and package expr at run time; printing a reg* value as a name
// is theirs too, so AppendText prints the number.

import (
	"encoding/binary"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/sluicedb/sluice/pgerror"
)

// maxNameLen is NAMEDATALEN-1: the longest identifier PostgreSQL keeps.
const maxNameLen = 63

// isUint32Type reports whether t stores an unsigned 32-bit value in an
// int64: oid, xid and the reg* types.
func isUint32Type(t T) bool { return t >= Oid && t <= Xid }

// appendCatalogText is AppendText for IsCatalog types.
func appendCatalogText(buf []byte, arr arrow.Array, i int, t T) []byte {
	if isUint32Type(t) {
		return strconv.AppendInt(buf, arr.(*array.Int64).Value(i), 10)
	}
	return append(buf, arr.(*array.String).Value(i)...)
}

// appendCatalogDatum is AppendDatum for IsCatalog types.
func appendCatalogDatum(buf []byte, d Datum, t T) []byte {
	if isUint32Type(t) {
		return strconv.AppendInt(buf, d.(int64), 10)
	}
	return append(buf, d.(string)...)
}

// parseCatalog is ParseText for IsCatalog types.
func parseCatalog(s string, t T) (Datum, error) {
	switch {
	case t.IsArray(), t == Int2Vector, t == OidVector:
		a, err := ParseArray(s, t)
		if err != nil {
			return nil, err
		}
		return string(a.Append(nil, t)), nil
	case t == Oid, t == Xid:
		return parseUint32(s, t)
	case t >= RegProc && t <= RegNamespace:
		return parseRegNumber(s, t)
	case t == Name:
		if !utf8.ValidString(s) {
			return nil, errInvalidUTF8(s)
		}
		return TruncateName(s), nil
	case t == Char:
		return parseChar(s), nil
	case t == PgNodeTree:
		return nil, pgerror.New(pgerror.FeatureNotSupported, "cannot accept a value of type pg_node_tree")
	case t == ACLItem:
		return parseACLItem(s)
	}
	return nil, pgerror.New(pgerror.FeatureNotSupported, "no input function for type %s", t)
}

// parseUint32 is oidin: a decimal number between -2^31 and 2^32-1, negative
// values wrapping around as C's strtoul makes them.
func parseUint32(s string, t T) (Datum, error) {
	v, err := parseInt(s, 64, t)
	if err != nil {
		return nil, err
	}
	if v < -(1<<31) || v > 1<<32-1 {
		return nil, pgerror.New(pgerror.NumericValueOutOfRange, "value \"%s\" is out of range for type %s", s, t)
	}
	if v < 0 {
		v += 1 << 32
	}
	return v, nil
}

// parseRegNumber parses the numeric form of a reg* value, and "-", which
// is the invalid OID 0. A name is an error here: resolving it needs the
// catalog.
func parseRegNumber(s string, t T) (Datum, error) {
	w := trimSpace(s)
	if w == "-" {
		return int64(0), nil
	}
	if len(w) > 0 && isDigit(w[0]) {
		return parseUint32(s, Oid)
	}
	return nil, ErrUnknownRegName(t, s)
}

// ErrUnknownRegName is the error of a reg* input naming no object, as
// PostgreSQL reports it.
func ErrUnknownRegName(t T, name string) error {
	switch t {
	case RegClass:
		return pgerror.New(pgerror.UndefinedTable, "relation \"%s\" does not exist", name)
	case RegType:
		return pgerror.New(pgerror.UndefinedObject, "type \"%s\" does not exist", name)
	case RegNamespace:
		return pgerror.New("3F000", "schema \"%s\" does not exist", name)
	}
	return pgerror.New(pgerror.UndefinedFunction, "function \"%s\" does not exist", name)
}

// TruncateName cuts s to the 63 bytes PostgreSQL keeps of an identifier,
// at a character boundary.
func TruncateName(s string) string {
	if len(s) <= maxNameLen {
		return s
	}
	n := maxNameLen
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// parseChar is charin: the first byte of s, or the byte written as \ooo;
// the result is what charout prints for it.
func parseChar(s string) string {
	if len(s) == 4 && s[0] == '\\' && isOctal(s[1]) && isOctal(s[2]) && isOctal(s[3]) {
		return CharText((s[1]-'0')<<6 | (s[2]-'0')<<3 | (s[3] - '0'))
	}
	if s == "" {
		return ""
	}
	return CharText(s[0])
}

// CharText is charout: the text a "char" holding b prints (and is stored
// as): nothing for the zero byte, the byte itself when it is ASCII, \ooo
// otherwise.
func CharText(b byte) string {
	switch {
	case b == 0:
		return ""
	case b < 0x80:
		return string(rune(b))
	}
	return string([]byte{'\\', '0' + b>>6, '0' + b>>3&7, '0' + b&7})
}

// CharByte is the byte a stored "char" value stands for.
func CharByte(s string) byte {
	switch {
	case s == "":
		return 0
	case len(s) == 4 && s[0] == '\\':
		return (s[1]-'0')<<6 | (s[2]-'0')<<3 | (s[3] - '0')
	}
	return s[0]
}

// parseACLItem accepts grantee=privileges/grantor, the form aclitemout
// prints; it checks the shape, not that the roles exist.
func parseACLItem(s string) (Datum, error) {
	w := trimSpace(s)
	eq := strings.IndexByte(w, '=')
	if eq < 0 {
		return nil, pgerror.New(pgerror.InvalidTextRepresentation, "missing \"=\" sign")
	}
	rest := w[eq+1:]
	slash := strings.IndexByte(rest, '/')
	privs := rest
	if slash >= 0 {
		privs = rest[:slash]
		if slash == len(rest)-1 {
			return nil, pgerror.New(pgerror.InvalidTextRepresentation, "a name must follow the \"/\" sign")
		}
	}
	for i := 0; i < len(privs); i++ {
		if !strings.ContainsRune("arwdDxtXUCTcsAm*", rune(privs[i])) {
			return nil, pgerror.New(pgerror.InvalidTextRepresentation, "invalid mode character: must be one of \"arwdDxtXUCTcsAm\"")
		}
	}
	return w, nil
}

// appendCatalogBinary is AppendDatumBinary for IsCatalog types; d is the
// stored value.
func appendCatalogBinary(buf []byte, d Datum, t T) []byte {
	switch {
	case isUint32Type(t):
		return binary.BigEndian.AppendUint32(buf, uint32(d.(int64)))
	case t == Char:
		return append(buf, CharByte(d.(string)))
	case t.IsArray(), t == Int2Vector, t == OidVector:
		a, err := ParseArray(d.(string), t)
		if err != nil {
			// Stored values are canonical; this cannot happen.
			panic("types: stored " + t.String() + " value does not parse: " + err.Error())
		}
		return a.appendBinary(buf, t)
	}
	// name, pg_node_tree, and aclitem, which has no binary form in
	// PostgreSQL: the text.
	return append(buf, d.(string)...)
}

// parseCatalogBinary is ParseBinary for IsCatalog types.
func parseCatalogBinary(b []byte, t T) (Datum, error) {
	switch {
	case isUint32Type(t):
		if len(b) != 4 {
			return nil, errBinaryFormat(t)
		}
		return int64(binary.BigEndian.Uint32(b)), nil
	case t == Char:
		if len(b) != 1 {
			return nil, errBinaryFormat(t)
		}
		return CharText(b[0]), nil
	case t.IsArray(), t == Int2Vector, t == OidVector:
		a, err := parseArrayBinary(b, t)
		if err != nil {
			return nil, err
		}
		return string(a.Append(nil, t)), nil
	case t == PgNodeTree:
		return nil, pgerror.New(pgerror.FeatureNotSupported, "cannot accept a value of type pg_node_tree")
	}
	s := string(b)
	if !utf8.ValidString(s) {
		return nil, errInvalidUTF8(s)
	}
	if t == Name {
		return TruncateName(s), nil
	}
	return parseACLItem(s)
}

// --- arrays ---

// ArrayValue is an array taken apart: the length and lower bound of each
// dimension, and the elements in row-major order as the element type's
// canonical text. An empty array has no dimensions.
type ArrayValue struct {
	Dims  []int
	Lower []int
	Elems []string
	// Nulls marks the NULL elements; nil when there are none.
	Nulls []bool
}

// IsNull reports whether element i is NULL.
func (a ArrayValue) IsNull(i int) bool { return a.Nulls != nil && a.Nulls[i] }

// ParseArray parses the text form of a value of t, an array type or one of
// the vector types (int2vector and oidvector, whose elements are separated
// by spaces and whose lower bound is 0), with PostgreSQL's array_in rules.
// Elements are checked and canonicalised with their type's input function.
func ParseArray(s string, t T) (ArrayValue, error) {
	elem := t.Elem()
	if t == Int2Vector || t == OidVector {
		return parseVector(s, elem)
	}
	p := arrayParser{src: s, pos: 0}
	a, err := p.parse()
	if err != nil {
		return ArrayValue{}, err
	}
	for i, e := range a.Elems {
		if a.IsNull(i) {
			continue
		}
		d, err := ParseText(e, elem)
		if err != nil {
			return ArrayValue{}, err
		}
		a.Elems[i] = string(AppendDatum(nil, d, elem))
	}
	return a, nil
}

// parseVector parses int2vector and oidvector: numbers separated by spaces.
func parseVector(s string, elem T) (ArrayValue, error) {
	fields := strings.FieldsFunc(s, func(r rune) bool { return r < 0x80 && isSpace(byte(r)) })
	a := ArrayValue{Elems: make([]string, 0, len(fields))}
	for _, f := range fields {
		d, err := ParseText(f, elem)
		if err != nil {
			return ArrayValue{}, err
		}
		a.Elems = append(a.Elems, string(AppendDatum(nil, d, elem)))
	}
	// A vector is one-dimensional with lower bound 0, also when empty.
	a.Dims, a.Lower = []int{len(a.Elems)}, []int{0}
	return a, nil
}

// Append appends the text form of a as a value of t (an array type or a
// vector type) to buf, as array_out (or int2vectorout) prints it.
func (a ArrayValue) Append(buf []byte, t T) []byte {
	if t == Int2Vector || t == OidVector {
		for i, e := range a.Elems {
			if i > 0 {
				buf = append(buf, ' ')
			}
			buf = append(buf, e...)
		}
		return buf
	}
	if len(a.Dims) == 0 || len(a.Elems) == 0 {
		return append(buf, "{}"...)
	}
	decorated := false
	for _, lb := range a.Lower {
		if lb != 1 {
			decorated = true
		}
	}
	if decorated {
		for d := range a.Dims {
			buf = append(buf, '[')
			buf = strconv.AppendInt(buf, int64(a.Lower[d]), 10)
			buf = append(buf, ':')
			buf = strconv.AppendInt(buf, int64(a.Lower[d]+a.Dims[d]-1), 10)
			buf = append(buf, ']')
		}
		buf = append(buf, '=')
	}
	next := 0
	var level func(d int)
	level = func(d int) {
		buf = append(buf, '{')
		for i := 0; i < a.Dims[d]; i++ {
			if i > 0 {
				buf = append(buf, ',')
			}
			if d+1 < len(a.Dims) {
				level(d + 1)
				continue
			}
			if a.IsNull(next) {
				buf = append(buf, "NULL"...)
			} else {
				buf = appendArrayElem(buf, a.Elems[next])
			}
			next++
		}
		buf = append(buf, '}')
	}
	level(0)
	return buf
}

// appendArrayElem appends one element, quoted when array_out quotes it.
func appendArrayElem(buf []byte, e string) []byte {
	quote := e == "" || equalFold(e, "null")
	for i := 0; i < len(e) && !quote; i++ {
		switch c := e[i]; {
		case c == '"', c == '\\', c == '{', c == '}', c == ',', isSpace(c):
			quote = true
		}
	}
	if !quote {
		return append(buf, e...)
	}
	buf = append(buf, '"')
	for i := 0; i < len(e); i++ {
		if c := e[i]; c == '"' || c == '\\' {
			buf = append(buf, '\\')
		}
		buf = append(buf, e[i])
	}
	return append(buf, '"')
}

// arrayParser reads array_in's syntax: optional dimension decoration
// ([1:2][0:3]=), then nested braces of elements, quoted or not.
type arrayParser struct {
	src string
	pos int
	// dims holds the length of each nesting level seen so far (-1 until
	// the first sub-array of that level closes).
	dims []int
}

func (p *arrayParser) malformed(detail string) error {
	return pgerror.New(pgerror.InvalidTextRepresentation, "malformed array literal: \"%s\"", p.src).WithDetail("%s", detail)
}

func (p *arrayParser) skipSpace() {
	for p.pos < len(p.src) && isSpace(p.src[p.pos]) {
		p.pos++
	}
}

func (p *arrayParser) parse() (ArrayValue, error) {
	var a ArrayValue
	p.skipSpace()
	var lower, upper []int
	for p.pos < len(p.src) && p.src[p.pos] == '[' {
		p.pos++
		lo, hi, err := p.dimension()
		if err != nil {
			return a, err
		}
		lower, upper = append(lower, lo), append(upper, hi)
	}
	if lower != nil {
		p.skipSpace()
		if p.pos >= len(p.src) || p.src[p.pos] != '=' {
			return a, p.malformed("Missing \"=\" after array dimensions.")
		}
		p.pos++
		p.skipSpace()
	}
	if p.pos >= len(p.src) || p.src[p.pos] != '{' {
		return a, p.malformed("Array value must start with \"{\" or dimension information.")
	}
	p.pos++
	if err := p.level(0, &a); err != nil {
		return a, err
	}
	p.skipSpace()
	if p.pos != len(p.src) {
		return a, p.malformed("Junk after closing right brace.")
	}
	if len(a.Elems) == 0 {
		if lower != nil {
			return a, p.malformed("Specified array dimensions do not match array contents.")
		}
		return ArrayValue{}, nil
	}
	a.Dims = p.dims
	if lower == nil {
		a.Lower = make([]int, len(a.Dims))
		for i := range a.Lower {
			a.Lower[i] = 1
		}
		return a, nil
	}
	if len(lower) != len(a.Dims) {
		return a, p.malformed("Specified array dimensions do not match array contents.")
	}
	for i := range lower {
		if upper[i]-lower[i]+1 != a.Dims[i] {
			return a, p.malformed("Specified array dimensions do not match array contents.")
		}
	}
	a.Lower = lower
	return a, nil
}

// dimension reads lo:hi] or hi] after a '['.
func (p *arrayParser) dimension() (lo, hi int, err error) {
	num := func() (int, bool) {
		p.skipSpace()
		start := p.pos
		if p.pos < len(p.src) && (p.src[p.pos] == '-' || p.src[p.pos] == '+') {
			p.pos++
		}
		for p.pos < len(p.src) && isDigit(p.src[p.pos]) {
			p.pos++
		}
		v, err := strconv.Atoi(p.src[start:p.pos])
		p.skipSpace()
		return v, err == nil
	}
	first, ok := num()
	if !ok {
		return 0, 0, p.malformed("\"[\" must introduce explicitly-specified array dimensions.")
	}
	lo, hi = 1, first
	if p.pos < len(p.src) && p.src[p.pos] == ':' {
		p.pos++
		if hi, ok = num(); !ok {
			return 0, 0, p.malformed("Missing array dimension value.")
		}
		lo = first
	}
	if p.pos >= len(p.src) || p.src[p.pos] != ']' {
		return 0, 0, p.malformed("Missing \"]\" after array dimensions.")
	}
	p.pos++
	if hi < lo {
		return 0, 0, pgerror.New("2202E", "upper bound cannot be less than lower bound")
	}
	return lo, hi, nil
}

// level reads the contents of a brace pair at nesting depth d, after its
// opening brace, up to and including its closing brace.
func (p *arrayParser) level(d int, a *ArrayValue) error {
	if len(p.dims) <= d {
		p.dims = append(p.dims, -1)
	}
	count := 0
	nested := false
	p.skipSpace()
	if p.pos < len(p.src) && p.src[p.pos] == '}' {
		p.pos++
		if d > 0 {
			return p.malformed("Unexpected \"}\" character.")
		}
		p.dims = p.dims[:0]
		return nil
	}
	for {
		p.skipSpace()
		if p.pos >= len(p.src) {
			return p.malformed("Unexpected end of input.")
		}
		switch c := p.src[p.pos]; {
		case c == '{':
			if count > 0 && !nested {
				return p.malformed("Unexpected \"{\" character.")
			}
			if len(p.dims) > d+1 && p.dims[d+1] == 0 {
				return p.malformed("Unexpected \"{\" character.")
			}
			nested = true
			p.pos++
			if err := p.level(d+1, a); err != nil {
				return err
			}
		case nested:
			return p.malformed("Unexpected array element.")
		case c == '}' || c == ',':
			return p.malformed("Unexpected \"" + string(c) + "\" character.")
		default:
			if len(p.dims) > d+1 {
				return p.malformed("Multidimensional arrays must have sub-arrays with matching dimensions.")
			}
			e, null, err := p.element()
			if err != nil {
				return err
			}
			if null {
				if a.Nulls == nil {
					a.Nulls = make([]bool, len(a.Elems))
				}
				a.Nulls = append(a.Nulls, true)
			} else if a.Nulls != nil {
				a.Nulls = append(a.Nulls, false)
			}
			a.Elems = append(a.Elems, e)
		}
		count++
		p.skipSpace()
		if p.pos >= len(p.src) {
			return p.malformed("Unexpected end of input.")
		}
		switch p.src[p.pos] {
		case ',':
			p.pos++
			continue
		case '}':
			p.pos++
			if p.dims[d] >= 0 && p.dims[d] != count {
				return p.malformed("Multidimensional arrays must have sub-arrays with matching dimensions.")
			}
			if nested != (len(p.dims) > d+1) {
				return p.malformed("Multidimensional arrays must have sub-arrays with matching dimensions.")
			}
			p.dims[d] = count
			return nil
		}
		return p.malformed("Unexpected array element.")
	}
}

// element reads one element: quoted, or unquoted up to a delimiter with its
// trailing white space dropped. An unquoted NULL (in any case) is NULL.
func (p *arrayParser) element() (string, bool, error) {
	var b []byte
	if p.src[p.pos] == '"' {
		p.pos++
		for {
			if p.pos >= len(p.src) {
				return "", false, p.malformed("Unexpected end of input.")
			}
			c := p.src[p.pos]
			p.pos++
			switch c {
			case '"':
				return string(b), false, nil
			case '\\':
				if p.pos >= len(p.src) {
					return "", false, p.malformed("Unexpected end of input.")
				}
				b = append(b, p.src[p.pos])
				p.pos++
			default:
				b = append(b, c)
			}
		}
	}
	escaped := false
	keep := 0 // length of b up to its last escaped or non-space byte
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch {
		case c == ',' || c == '}':
			if !escaped && equalFold(string(b[:keep]), "null") {
				return "", true, nil
			}
			return string(b[:keep]), false, nil
		case c == '{' || c == '"':
			return "", false, p.malformed("Unexpected \"" + string(c) + "\" character.")
		case c == '\\':
			if p.pos+1 >= len(p.src) {
				return "", false, p.malformed("Unexpected end of input.")
			}
			b = append(b, p.src[p.pos+1])
			keep = len(b)
			escaped = true
			p.pos += 2
			continue
		}
		b = append(b, c)
		if !isSpace(c) {
			keep = len(b)
		}
		p.pos++
	}
	return "", false, p.malformed("Unexpected end of input.")
}

// appendBinary appends PostgreSQL's binary array format (array_send): the
// number of dimensions, a has-NULLs flag, the element type's OID, each
// dimension's length and lower bound, then each element's length (-1 for
// NULL) and binary form.
func (a ArrayValue) appendBinary(buf []byte, t T) []byte {
	elem := t.Elem()
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(a.Dims)))
	flags := uint32(0)
	if a.Nulls != nil {
		for _, n := range a.Nulls {
			if n {
				flags = 1
			}
		}
	}
	buf = binary.BigEndian.AppendUint32(buf, flags)
	buf = binary.BigEndian.AppendUint32(buf, elem.OID())
	for d := range a.Dims {
		buf = binary.BigEndian.AppendUint32(buf, uint32(a.Dims[d]))
		buf = binary.BigEndian.AppendUint32(buf, uint32(int32(a.Lower[d])))
	}
	for i, e := range a.Elems {
		if a.IsNull(i) {
			buf = binary.BigEndian.AppendUint32(buf, 0xFFFFFFFF)
			continue
		}
		d, err := ParseText(e, elem)
		if err != nil {
			panic("types: stored array element does not parse: " + err.Error())
		}
		at := len(buf)
		buf = append(buf, 0, 0, 0, 0)
		buf = AppendDatumBinary(buf, d, elem)
		binary.BigEndian.PutUint32(buf[at:], uint32(len(buf)-at-4))
	}
	return buf
}

// parseArrayBinary decodes array_recv's input.
func parseArrayBinary(b []byte, t T) (ArrayValue, error) {
	elem := t.Elem()
	var a ArrayValue
	u32 := func() (uint32, bool) {
		if len(b) < 4 {
			return 0, false
		}
		v := binary.BigEndian.Uint32(b)
		b = b[4:]
		return v, true
	}
	ndim, ok1 := u32()
	flags, ok2 := u32()
	oid, ok3 := u32()
	if !ok1 || !ok2 || !ok3 || flags > 1 || ndim > 6 {
		return a, errBinaryFormat(t)
	}
	if oid != elem.OID() {
		return a, pgerror.New(pgerror.DatatypeMismatch, "binary data has array element type %d instead of expected %d", oid, elem.OID())
	}
	n := 1
	for d := 0; d < int(ndim); d++ {
		l, ok1 := u32()
		lb, ok2 := u32()
		if !ok1 || !ok2 || int32(l) < 0 {
			return a, errBinaryFormat(t)
		}
		a.Dims = append(a.Dims, int(l))
		a.Lower = append(a.Lower, int(int32(lb)))
		n *= int(l)
		if n > 1<<24 {
			return a, pgerror.New(codeStatementTooComplex, "array size exceeds the maximum allowed")
		}
	}
	if ndim == 0 {
		n = 0
	}
	for i := 0; i < n; i++ {
		l, ok := u32()
		if !ok {
			return a, errBinaryFormat(t)
		}
		if l == 0xFFFFFFFF {
			if t == Int2Vector || t == OidVector {
				return a, pgerror.New(pgerror.NullValueNotAllowed, "array must not contain nulls")
			}
			if a.Nulls == nil {
				a.Nulls = make([]bool, len(a.Elems))
			}
			a.Nulls = append(a.Nulls, true)
			a.Elems = append(a.Elems, "")
			continue
		}
		if int(l) > len(b) {
			return a, errBinaryFormat(t)
		}
		d, err := ParseBinary(b[:l], elem)
		if err != nil {
			return a, err
		}
		b = b[l:]
		if a.Nulls != nil {
			a.Nulls = append(a.Nulls, false)
		}
		a.Elems = append(a.Elems, string(AppendDatum(nil, d, elem)))
	}
	if len(b) != 0 {
		return a, errBinaryFormat(t)
	}
	if n == 0 {
		a.Dims, a.Lower = nil, nil
	}
	return a, nil
}
