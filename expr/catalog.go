package expr

import (
	"github.com/sluicedb/sluice/types"
)

// Pseudo-types that appear only in overload signatures, never as the type of
// an expression. They lie outside types' range of scalar types.
const (
	// tAnyNonArray is PostgreSQL's anynonarray: any type but an array,
	// used by text || anynonarray.
	tAnyNonArray types.T = 0x100 + iota
	// tAny is PostgreSQL's "any", used by the variadic concat functions.
	tAny
)

// typeName names t the way PostgreSQL's format_type does, including the
// pseudo-types.
func typeName(t types.T) string {
	switch t {
	case tAnyNonArray:
		return "anynonarray"
	case tAny:
		return `"any"`
	}
	return t.String()
}

// category is PostgreSQL's pg_type.typcategory, which drives the choice
// between candidate overloads and the common type of CASE and UNION.
type category byte

const (
	catArray    category = 'A'
	catBool     category = 'B'
	catDatetime category = 'D'
	catNumeric  category = 'N'
	catPseudo   category = 'P'
	catString   category = 'S'
	catTimespan category = 'T'
	catUser     category = 'U'
	catUnknown  category = 'X'
	catInternal category = 'Z'
)

// categoryOf returns t's type category and whether t is the preferred type of
// that category, as pg_type records them.
func categoryOf(t types.T) (category, bool) {
	switch t {
	case types.Bool:
		return catBool, true
	case types.Int2, types.Int4, types.Int8, types.Float4, types.Numeric:
		return catNumeric, false
	case types.Float8:
		return catNumeric, true
	case types.Text:
		return catString, true
	case types.Varchar:
		return catString, false
	case types.Date, types.Time, types.Timestamp:
		return catDatetime, false
	case types.TimestampTZ:
		return catDatetime, true
	case types.Interval:
		return catTimespan, true
	case types.Bytea, types.JSONB, types.Xid, types.ACLItem:
		return catUser, false
	case types.Unknown, types.Null:
		return catUnknown, false
	case types.Oid:
		return catNumeric, true
	case types.RegProc, types.RegProcedure, types.RegClass, types.RegType, types.RegNamespace:
		return catNumeric, false
	case types.Name:
		return catString, false
	case types.Char, types.PgNodeTree:
		return catInternal, false
	case types.Int2Vector, types.OidVector:
		return catArray, false
	}
	if t.IsArray() {
		return catArray, false
	}
	return catPseudo, false
}

// coercion is the weakest context in which a cast is applied without being
// asked for, as pg_cast.castcontext: an implicit cast is also allowed in
// assignment and explicit contexts, and so on.
type coercion uint8

const (
	coerceNone coercion = iota
	coerceExplicit
	coerceAssignment
	coerceImplicit
)

// pgCasts is the part of PostgreSQL's pg_cast between Sluice's types, keyed by
// [from][to]. Casts that PostgreSQL performs through the types' text I/O are
// not listed here; castLevel adds them.
var pgCasts = func() map[[2]types.T]coercion {
	i, a, e := coerceImplicit, coerceAssignment, coerceExplicit
	m := map[[2]types.T]coercion{}
	add := func(from, to types.T, c coercion) { m[[2]types.T{from, to}] = c }
	// Numbers widen implicitly and narrow by assignment.
	nums := []types.T{types.Int2, types.Int4, types.Int8, types.Numeric, types.Float4, types.Float8}
	for fi, from := range nums {
		for ti, to := range nums {
			switch {
			case fi == ti:
			case ti > fi:
				add(from, to, i)
			default:
				add(from, to, a)
			}
		}
	}
	// PostgreSQL widens integers straight to float and numeric to float
	// implicitly, but float to numeric only by assignment; the ordering above
	// already says so except for these.
	add(types.Float4, types.Numeric, a)
	add(types.Float8, types.Numeric, a)
	add(types.Numeric, types.Float4, i)
	add(types.Numeric, types.Float8, i)
	add(types.Int4, types.Bool, e)
	add(types.Bool, types.Int4, e)
	add(types.Varchar, types.Text, i)
	add(types.Text, types.Varchar, i)
	add(types.Date, types.Timestamp, i)
	add(types.Date, types.TimestampTZ, i)
	add(types.Timestamp, types.TimestampTZ, i)
	add(types.TimestampTZ, types.Timestamp, a)
	add(types.Timestamp, types.Date, a)
	add(types.TimestampTZ, types.Date, a)
	add(types.Timestamp, types.Time, a)
	add(types.TimestampTZ, types.Time, a)
	add(types.Time, types.Interval, i)
	add(types.Interval, types.Time, a)
	for _, to := range []types.T{types.Bool, types.Int2, types.Int4, types.Int8, types.Float4, types.Float8, types.Numeric} {
		add(types.JSONB, to, e)
	}
	// The system catalog types, as pg_cast has them.
	regs := []types.T{types.RegProc, types.RegProcedure, types.RegClass, types.RegType, types.RegNamespace}
	for _, t := range append([]types.T{types.Oid}, regs...) {
		add(types.Int2, t, i)
		add(types.Int4, t, i)
		add(types.Int8, t, i)
		add(t, types.Int4, a)
		add(t, types.Int8, a)
	}
	for _, t := range regs {
		add(types.Oid, t, i)
		add(t, types.Oid, i)
	}
	add(types.RegProc, types.RegProcedure, i)
	add(types.RegProcedure, types.RegProc, i)
	add(types.Text, types.RegClass, i)
	add(types.Varchar, types.RegClass, i)
	add(types.Name, types.Text, i)
	add(types.Name, types.Varchar, a)
	add(types.Text, types.Name, i)
	add(types.Varchar, types.Name, i)
	add(types.Char, types.Text, i)
	add(types.Char, types.Varchar, a)
	add(types.Text, types.Char, a)
	add(types.Varchar, types.Char, a)
	add(types.Char, types.Int4, e)
	add(types.Int4, types.Char, e)
	add(types.PgNodeTree, types.Text, i)
	add(types.Int2Vector, types.ArrayOf(types.Int2), i)
	add(types.OidVector, types.ArrayOf(types.Oid), i)
	return m
}()

// castLevel returns the weakest context in which a value of type from may be
// converted to type to: pg_cast, plus PostgreSQL's automatic I/O conversion
// casts (to a string type by assignment, from a string type explicitly).
func castLevel(from, to types.T) coercion {
	if from == to {
		return coerceImplicit
	}
	if c, ok := pgCasts[[2]types.T{from, to}]; ok {
		return c
	}
	if from.IsArray() && to.IsArray() {
		// array_coerce: as its elements convert.
		return castLevel(from.Elem(), to.Elem())
	}
	fromCat, _ := categoryOf(from)
	toCat, _ := categoryOf(to)
	if fromCat == catPseudo || toCat == catPseudo || from == types.Null || to == types.Null || to == types.Unknown {
		return coerceNone
	}
	if to == types.Text || to == types.Varchar || to == types.Name {
		return coerceAssignment
	}
	if from == types.Text || from == types.Varchar || from == types.Name || from == types.Unknown {
		return coerceExplicit
	}
	return coerceNone
}

// canCoerce reports whether a value of type from is accepted where type to is
// expected in context c (PostgreSQL's can_coerce_type). Untyped literals and
// NULL go anywhere.
func canCoerce(from, to types.T, c coercion) bool {
	if from == to || from == types.Unknown || from == types.Null {
		return true
	}
	if to == tAny || (to == tAnyNonArray && !from.IsArray()) {
		return true
	}
	return castLevel(from, to) >= c
}
