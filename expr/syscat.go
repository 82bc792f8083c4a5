package expr

import (
	"runtime"
	"sort"
	"strconv"
	"strings"

	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/types"
)

// The system information functions that clients run against pg_catalog:
// version(), current_setting, current_user, pg_get_userbyid,
// pg_table_is_visible, pg_get_viewdef, format_type, obj_description,
// has_table_privilege, quote_ident and their siblings.
//
// Those that read the session or the database's objects evaluate against
// EvalContext.Catalog, which the engine supplies for every statement.
// They are stable (Fold never computes them at plan time, where there is no
// catalog), and fail with 0A000 where no catalog is given (in a
// materialized view). The others (format_type, quote_ident, parse_ident,
// pg_get_expr) are ordinary functions.

// SystemCatalog is what the system information functions read: the
// session's settings and user, and the database's objects as pg_catalog
// shows them. Package pgcatalog implements it over a snapshot of the
// catalog. Classes are the system catalogs that hold the objects, named as
// obj_description names them (ClassRelation and the others).
type SystemCatalog interface {
	// Setting is the session's value of a run-time parameter; the name is
	// matched case-insensitively.
	Setting(name string) (string, bool)
	// User is the session's user name; Database the database it opened.
	User() string
	Database() string
	// ObjectName is the name a reg* type prints for oid: qualified with its
	// schema when that is not on the search path. ok is false when class
	// has no such object.
	ObjectName(class string, oid int64) (name string, ok bool)
	// ObjectOID resolves a name the way the reg* input functions do: an
	// optionally qualified, optionally quoted name; for ClassFunction a
	// function name, or a signature such as lower(text) with
	// ClassFunctionSignature. The error is PostgreSQL's for an unknown
	// name.
	ObjectOID(class, name string) (int64, error)
	// Visible reports whether the object is found by its bare name on the
	// search path (pg_table_is_visible and its siblings).
	Visible(class string, oid int64) bool
	// Definition returns the text of one of the Def* kinds for oid, as
	// pg_get_viewdef, pg_get_indexdef, pg_get_constraintdef and
	// pg_get_function_result print it.
	Definition(kind string, oid int64) (string, bool)
	// Description is the comment on an object (pg_description), for a
	// column when subid is its number.
	Description(class string, oid int64, subid int32) (string, bool)
}

// The classes of SystemCatalog.
const (
	ClassRelation          = "pg_class"
	ClassFunction          = "pg_proc"
	ClassFunctionSignature = "pg_proc(signature)" // regprocedure's form
	ClassNamespace         = "pg_namespace"
	ClassType              = "pg_type"
	ClassRole              = "pg_authid"
	ClassDatabase          = "pg_database"
	ClassConstraint        = "pg_constraint"
)

// The kinds of SystemCatalog.Definition.
const (
	DefView                      = "viewdef"
	DefIndex                     = "indexdef"
	DefIndexPretty               = "indexdef(pretty)" // the table unqualified when visible
	DefConstraint                = "constraintdef"
	DefFunctionResult            = "function_result"
	DefFunctionArguments         = "function_arguments"
	DefFunctionIdentityArguments = "function_identity_arguments"
)

// systemCatalog returns the statement's catalog, or the error of a system
// function evaluated where there is none.
func (st *evalState) systemCatalog(fn string) (SystemCatalog, error) {
	if st.ctx.Catalog == nil {
		return nil, pgerror.New(pgerror.FeatureNotSupported, "%s is not available here: it reads the session and the catalog, which only ad-hoc queries see", fn)
	}
	return st.ctx.Catalog, nil
}

// sysKernel builds a kernel that reads the catalog; f computes one row.
func sysKernel(fn string, build func(cat SystemCatalog) evalFn) kernelBuilder {
	return k(func(st *evalState, args []vec) (vec, error) {
		cat, err := st.systemCatalog(fn)
		if err != nil {
			return vec{}, err
		}
		return build(cat)(st, args)
	})
}

// sysText is a text-valued (rt: text or name) function of the catalog;
// null reports SQL NULL.
func sysText(fn string, rt types.T, f func(cat SystemCatalog, ra *rowArgs, i int, dst []byte) ([]byte, bool, error)) kernelBuilder {
	return sysKernel(fn, func(cat SystemCatalog) evalFn {
		return textKernel(rt, func(ra *rowArgs, i int, dst []byte) ([]byte, bool, error) {
			return f(cat, ra, i, dst)
		})
	})
}

func (c *catalog) stableFn(name string, args []types.T, ret types.T, kb kernelBuilder) *overload {
	ov := c.fn(name, args, ret, kb)
	ov.stable = true
	return ov
}

const (
	tOid  = types.Oid
	tName = types.Name
)

func (c *catalog) systemFuncs() {
	c.stableFn("version", nil, tText, sysText("version()", tText, func(cat SystemCatalog, _ *rowArgs, _ int, dst []byte) ([]byte, bool, error) {
		v, _ := cat.Setting("server_version")
		dst = append(dst, "PostgreSQL "...)
		dst = append(dst, v...)
		dst = append(dst, " on "...)
		dst = append(dst, runtime.GOARCH+"-"+runtime.GOOS...)
		dst = append(dst, ", compiled by "...)
		dst = append(dst, runtime.Version()...)
		return append(dst, ", 64-bit"...), false, nil
	}))
	setting := func(missingOK bool) kernelBuilder {
		return sysText("current_setting", tText, func(cat SystemCatalog, ra *rowArgs, i int, dst []byte) ([]byte, bool, error) {
			name := string(ra.bytes(0, i))
			v, ok := cat.Setting(name)
			if !ok {
				if missingOK && boolValue(ra.vecs[1], i) {
					return dst, true, nil
				}
				return dst, false, pgerror.New(pgerror.UndefinedObject, "unrecognized configuration parameter \"%s\"", name)
			}
			return append(dst, v...), false, nil
		})
	}
	c.stableFn("current_setting", ts(tText), tText, setting(false))
	c.stableFn("current_setting", ts(tText, tBool), tText, setting(true))
	user := sysText("current_user", tName, func(cat SystemCatalog, _ *rowArgs, _ int, dst []byte) ([]byte, bool, error) {
		return append(dst, cat.User()...), false, nil
	})
	c.stableFn("current_user", nil, tName, user)
	c.stableFn("session_user", nil, tName, user)
	c.stableFn("current_database", nil, tName, sysText("current_database()", tName, func(cat SystemCatalog, _ *rowArgs, _ int, dst []byte) ([]byte, bool, error) {
		return append(dst, cat.Database()...), false, nil
	}))
	// Every object of a session lives in public, which is on the search
	// path after pg_catalog.
	c.fn("current_schema", nil, tName, k(func(st *evalState, _ []vec) (vec, error) {
		return constVec(st, "public", tName)
	}))
	c.fn("current_schemas", ts(tBool), types.ArrayOf(tName), k(textKernel(types.ArrayOf(tName), func(ra *rowArgs, i int, dst []byte) ([]byte, bool, error) {
		if boolValue(ra.vecs[0], i) {
			return append(dst, "{pg_catalog,public}"...), false, nil
		}
		return append(dst, "{public}"...), false, nil
	})))
	c.stableFn("pg_get_userbyid", ts(tOid), tName, sysText("pg_get_userbyid", tName, func(cat SystemCatalog, ra *rowArgs, i int, dst []byte) ([]byte, bool, error) {
		oid := ra.int64(0, i)
		if name, ok := cat.ObjectName(ClassRole, oid); ok {
			return append(dst, name...), false, nil
		}
		return strconv.AppendInt(append(dst, "unknown (OID="...), oid, 10), false, nil
	}))
	for name, class := range map[string]string{
		"pg_table_is_visible": ClassRelation, "pg_type_is_visible": ClassType,
		"pg_function_is_visible": ClassFunction,
	} {
		c.stableFn(name, ts(tOid), tBool, sysKernel(name, func(cat SystemCatalog) evalFn {
			return boolKernel(func(ra *rowArgs, i int) (bool, error) {
				return cat.Visible(class, ra.int64(0, i)), nil
			})
		}))
	}
	definition := func(fn, kind string) kernelBuilder {
		return sysText(fn, tText, func(cat SystemCatalog, ra *rowArgs, i int, dst []byte) ([]byte, bool, error) {
			def, ok := cat.Definition(kind, ra.int64(0, i))
			return append(dst, def...), !ok, nil
		})
	}
	c.stableFn("pg_get_viewdef", ts(tOid), tText, definition("pg_get_viewdef", DefView))
	c.stableFn("pg_get_viewdef", ts(tOid, tBool), tText, definition("pg_get_viewdef", DefView))
	viewByName := sysText("pg_get_viewdef", tText, func(cat SystemCatalog, ra *rowArgs, i int, dst []byte) ([]byte, bool, error) {
		oid, err := cat.ObjectOID(ClassRelation, string(ra.bytes(0, i)))
		if err != nil {
			return dst, false, err
		}
		def, ok := cat.Definition(DefView, oid)
		return append(dst, def...), !ok, nil
	})
	c.stableFn("pg_get_viewdef", ts(tText), tText, viewByName)
	c.stableFn("pg_get_viewdef", ts(tText, tBool), tText, viewByName)
	c.stableFn("pg_get_indexdef", ts(tOid), tText, definition("pg_get_indexdef", DefIndex))
	c.stableFn("pg_get_indexdef", ts(tOid, tInt4, tBool), tText, sysText("pg_get_indexdef", tText, func(cat SystemCatalog, ra *rowArgs, i int, dst []byte) ([]byte, bool, error) {
		// A column number other than 0 asks for that key column only;
		// Sluice's indexes are the primary keys, whose columns
		// pg_index lists.
		kind := DefIndex
		if boolValue(ra.vecs[2], i) {
			kind = DefIndexPretty
		}
		def, ok := cat.Definition(kind, ra.int64(0, i))
		if col := ra.int32(1, i); ok && col > 0 {
			def, ok = indexColumn(def, int(col))
		}
		return append(dst, def...), !ok, nil
	}))
	c.stableFn("pg_get_constraintdef", ts(tOid), tText, definition("pg_get_constraintdef", DefConstraint))
	c.stableFn("pg_get_constraintdef", ts(tOid, tBool), tText, definition("pg_get_constraintdef", DefConstraint))
	c.stableFn("pg_get_function_result", ts(tOid), tText, definition("pg_get_function_result", DefFunctionResult))
	c.stableFn("pg_get_function_arguments", ts(tOid), tText, definition("pg_get_function_arguments", DefFunctionArguments))
	c.stableFn("pg_get_function_identity_arguments", ts(tOid), tText, definition("pg_get_function_identity_arguments", DefFunctionIdentityArguments))
	description := func(fn string, class func(ra *rowArgs, i int) string, subid func(ra *rowArgs, i int) int32) kernelBuilder {
		return sysText(fn, tText, func(cat SystemCatalog, ra *rowArgs, i int, dst []byte) ([]byte, bool, error) {
			d, ok := cat.Description(class(ra, i), ra.int64(0, i), subid(ra, i))
			return append(dst, d...), !ok, nil
		})
	}
	classArg := func(ra *rowArgs, i int) string { return string(ra.bytes(1, i)) }
	noSub := func(*rowArgs, int) int32 { return 0 }
	c.stableFn("obj_description", ts(tOid, tName), tText, description("obj_description", classArg, noSub))
	c.stableFn("obj_description", ts(tOid), tText, description("obj_description", func(*rowArgs, int) string { return "" }, noSub))
	c.stableFn("shobj_description", ts(tOid, tName), tText, description("shobj_description", classArg, noSub))
	c.stableFn("col_description", ts(tOid, tInt4), tText, description("col_description",
		func(*rowArgs, int) string { return ClassRelation },
		func(ra *rowArgs, i int) int32 { return ra.int32(1, i) }))

	c.fn("pg_get_expr", ts(types.PgNodeTree, tOid), tText, k(textKernel(tText, func(ra *rowArgs, i int, dst []byte) ([]byte, bool, error) {
		return append(dst, ra.bytes(0, i)...), false, nil
	})))
	c.fn("pg_get_expr", ts(types.PgNodeTree, tOid, tBool), tText, k(textKernel(tText, func(ra *rowArgs, i int, dst []byte) ([]byte, bool, error) {
		return append(dst, ra.bytes(0, i)...), false, nil
	})))
	c.fn("pg_encoding_to_char", ts(tInt4), tName, k(textKernel(tName, func(ra *rowArgs, i int, dst []byte) ([]byte, bool, error) {
		switch ra.int32(0, i) {
		case 0:
			return append(dst, "SQL_ASCII"...), false, nil
		case 6:
			return append(dst, "UTF8"...), false, nil
		}
		return dst, false, nil
	})))
	c.fn("pg_char_to_encoding", ts(tName), tInt4, k(rowKernel(tInt4, func(ra *rowArgs, i int) (int32, bool, error) {
		switch strings.ToUpper(strings.ReplaceAll(string(ra.bytes(0, i)), "-", "")) {
		case "SQL_ASCII":
			return 0, false, nil
		case "UTF8", "UNICODE":
			return 6, false, nil
		}
		return -1, false, nil
	})))
	ft := c.fn("format_type", ts(tOid, tInt4), tText, k(formatTypeKernel))
	ft.nonStrict = true

	// Sluice has no privileges: every user may do everything.
	always := k(boolKernel(func(*rowArgs, int) (bool, error) { return true, nil }))
	for _, name := range []string{"has_table_privilege", "has_schema_privilege", "has_database_privilege",
		"has_any_column_privilege", "has_function_privilege", "has_sequence_privilege", "has_type_privilege"} {
		for _, sig := range [][]types.T{
			{tText, tText}, {tOid, tText},
			{tName, tText, tText}, {tName, tOid, tText}, {tOid, tText, tText}, {tOid, tOid, tText},
		} {
			c.fn(name, sig, tBool, always)
		}
	}
	for _, sig := range [][]types.T{
		{tText, tText, tText}, {tOid, tText, tText}, {tText, tInt2, tText}, {tOid, tInt2, tText},
		{tName, tText, tText, tText}, {tName, tOid, tText, tText}, {tOid, tOid, tText, tText},
		{tName, tText, tInt2, tText}, {tName, tOid, tInt2, tText}, {tOid, tOid, tInt2, tText},
	} {
		c.fn("has_column_privilege", sig, tBool, always)
	}

	// What Sluice does not have: no replicas, publications, rules,
	// extended statistics or serial sequences.
	never := k(boolKernel(func(*rowArgs, int) (bool, error) { return false, nil }))
	c.fn("pg_is_in_recovery", nil, tBool, never)
	c.fn("pg_relation_is_publishable", ts(types.RegClass), tBool, never)
	null := k(func(st *evalState, _ []vec) (vec, error) { return st.nullVec(tText), nil })
	c.fn("pg_get_statisticsobjdef_columns", ts(tOid), tText, null)
	c.fn("pg_get_ruledef", ts(tOid), tText, null)
	c.fn("pg_get_ruledef", ts(tOid, tBool), tText, null)
	c.fn("pg_get_triggerdef", ts(tOid), tText, null)
	c.fn("pg_get_triggerdef", ts(tOid, tBool), tText, null)
	c.fn("pg_get_partkeydef", ts(tOid), tText, null)
	c.fn("pg_get_serial_sequence", ts(tText, tText), tText, null)

	for name, t := range map[string]types.T{"to_regclass": types.RegClass, "to_regtype": types.RegType,
		"to_regnamespace": types.RegNamespace, "to_regproc": types.RegProc, "to_regprocedure": types.RegProcedure} {
		class := regClassOf(t)
		c.stableFn(name, ts(tText), t, sysKernel(name, func(cat SystemCatalog) evalFn {
			return rowKernel(t, func(ra *rowArgs, i int) (int64, bool, error) {
				oid, err := cat.ObjectOID(class, string(ra.bytes(0, i)))
				return oid, err != nil, nil
			})
		}))
	}
	c.fn("pg_typeof", ts(tAny), types.RegType, func(args []Expr) (evalFn, error) {
		oid := int64(args[0].Type().OID())
		return func(st *evalState, _ []vec) (vec, error) { return constVec(st, oid, types.RegType) }, nil
	}).nonStrict = true

	c.fn("quote_ident", ts(tText), tText, k(textKernel(tText, func(ra *rowArgs, i int, dst []byte) ([]byte, bool, error) {
		return AppendQuotedIdent(dst, string(ra.bytes(0, i))), false, nil
	})))
	c.fn("quote_literal", ts(tText), tText, k(textKernel(tText, func(ra *rowArgs, i int, dst []byte) ([]byte, bool, error) {
		return appendQuotedLiteral(dst, ra.bytes(0, i)), false, nil
	})))
	c.fn("quote_nullable", ts(tText), tText, k(quoteNullable)).nonStrict = true
	parse := func(ra *rowArgs, i int, dst []byte) ([]byte, bool, error) {
		strict := len(ra.vecs) < 2 || boolValue(ra.vecs[1], i)
		parts, err := ParseIdent(string(ra.bytes(0, i)), strict)
		if err != nil {
			return dst, false, err
		}
		a := types.ArrayValue{Elems: parts, Dims: []int{len(parts)}, Lower: []int{1}}
		return a.Append(dst, types.ArrayOf(tText)), false, nil
	}
	c.fn("parse_ident", ts(tText), types.ArrayOf(tText), k(textKernel(types.ArrayOf(tText), parse)))
	c.fn("parse_ident", ts(tText, tBool), types.ArrayOf(tText), k(textKernel(types.ArrayOf(tText), parse)))
}

// regClassOf is the SystemCatalog class that a reg* type names.
func regClassOf(t types.T) string {
	switch t {
	case types.RegClass:
		return ClassRelation
	case types.RegType:
		return ClassType
	case types.RegNamespace:
		return ClassNamespace
	case types.RegProcedure:
		return ClassFunctionSignature
	}
	return ClassFunction
}

// indexColumn returns the col-th key column of an index definition
// "CREATE ... USING btree (a, b)", as pg_get_indexdef(oid, col, ...) does.
func indexColumn(def string, col int) (string, bool) {
	open := strings.LastIndexByte(def, '(')
	end := strings.LastIndexByte(def, ')')
	if open < 0 || end < open {
		return "", false
	}
	cols := strings.Split(def[open+1:end], ", ")
	if col > len(cols) {
		return "", false
	}
	return cols[col-1], true
}

// formatTypeKernel is format_type(oid, typmod): the type's SQL name with its
// modifier, "-" for OID 0 and "???" for an OID that names no type; NULL
// when the OID is NULL, and no modifier when the typmod is NULL.
func formatTypeKernel(st *evalState, args []vec) (vec, error) {
	ra := newRowArgs(st, args)
	b := st.stringBuilder(tText, ra.n, 0)
	for i := 0; i < ra.n; i++ {
		if !ra.valid[0].valid(i) || isNullType(args[0]) {
			b.AppendNull()
			continue
		}
		typmod := int32(-1)
		if !isNullType(args[1]) && ra.valid[1].valid(i) {
			typmod = ra.int32(1, i)
		}
		st.scratch = AppendFormatType(st.scratch[:0], ra.int64(0, i), typmod)
		b.Append(st.scratch)
	}
	return finishString(b, ra.n == 1 && allScalar(args)), nil
}

// AppendFormatType appends format_type(oid, typmod) for a type OID.
func AppendFormatType(dst []byte, oid int64, typmod int32) []byte {
	if oid == 0 {
		return append(dst, '-')
	}
	t, ok := types.FromOID(uint32(oid))
	if !ok || oid == types.OIDJSON {
		return append(dst, "???"...)
	}
	elem, array := t, false
	if t.IsArray() {
		elem, array = t.Elem(), true
	}
	dst = appendTypeWithModifier(dst, elem, typmod)
	if array {
		dst = append(dst, "[]"...)
	}
	return dst
}

// appendTypeWithModifier prints a type name with its typmod as
// format_type does: varchar(20), numeric(10,2), timestamp(3) without time
// zone.
func appendTypeWithModifier(dst []byte, t types.T, typmod int32) []byte {
	if typmod < 0 {
		return append(dst, t.String()...)
	}
	switch t {
	case types.Varchar:
		if typmod < 4 {
			return append(dst, t.String()...)
		}
		dst = append(dst, "character varying("...)
		dst = strconv.AppendInt(dst, int64(typmod-4), 10)
		return append(dst, ')')
	case types.Numeric:
		if typmod < 4 {
			return append(dst, t.String()...)
		}
		m := typmod - 4
		dst = append(dst, "numeric("...)
		dst = strconv.AppendInt(dst, int64(m>>16&0xffff), 10)
		dst = append(dst, ',')
		dst = strconv.AppendInt(dst, int64(int16(m&0xffff)), 10)
		return append(dst, ')')
	case types.Time, types.Timestamp, types.TimestampTZ:
		base, zone, _ := strings.Cut(t.String(), " ")
		dst = append(dst, base...)
		dst = append(dst, '(')
		dst = strconv.AppendInt(dst, int64(typmod), 10)
		dst = append(dst, ") "...)
		return append(dst, zone...)
	}
	return append(dst, t.String()...)
}

// reservedWords are the keywords quote_ident quotes: every PostgreSQL 15
// keyword that is not unreserved (pg_get_keywords() with catcode <> 'U').
var reservedWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`all analyse analyze and any array as asc asymmetric authorization
		between bigint binary bit boolean both case cast char character check coalesce collate
		collation column concurrently constraint create cross current_catalog current_date
		current_role current_schema current_time current_timestamp current_user dec decimal
		default deferrable desc distinct do else end except exists extract false fetch float for
		foreign freeze from full grant greatest group grouping having ilike in initially inner
		inout int integer intersect interval into is isnull join lateral leading least left like
		limit localtime localtimestamp national natural nchar none normalize not notnull null
		nullif numeric offset on only or order out outer overlaps overlay placing position
		precision primary real references returning right row select session_user setof similar
		smallint some substring symmetric table tablesample then time timestamp to trailing treat
		trim true union unique user using values varchar variadic verbose when where window with
		xmlattributes xmlconcat xmlelement xmlexists xmlforest xmlnamespaces xmlparse xmlpi
		xmlroot xmlserialize xmltable`) {
		m[w] = true
	}
	return m
}()

// AppendQuotedIdent appends s as quote_ident prints it: bare when it is a
// lower-case identifier that is not a reserved word, in double quotes (with
// inner quotes doubled) otherwise.
func AppendQuotedIdent(dst []byte, s string) []byte {
	safe := s != "" && (s[0] >= 'a' && s[0] <= 'z' || s[0] == '_') && !reservedWords[s]
	for i := 0; i < len(s) && safe; i++ {
		c := s[i]
		safe = c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_'
	}
	if safe {
		return append(dst, s...)
	}
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			dst = append(dst, '"')
		}
		dst = append(dst, s[i])
	}
	return append(dst, '"')
}

// appendQuotedLiteral is quote_literal: single quotes, inner quotes
// doubled, and E” with doubled backslashes when there is a backslash.
func appendQuotedLiteral(dst, s []byte) []byte {
	if strings.IndexByte(string(s), '\\') >= 0 {
		dst = append(dst, 'E')
	}
	dst = append(dst, '\'')
	for _, c := range s {
		if c == '\'' || c == '\\' {
			dst = append(dst, c)
		}
		dst = append(dst, c)
	}
	return append(dst, '\'')
}

// quoteNullable is quote_nullable: quote_literal, or NULL unquoted.
func quoteNullable(st *evalState, args []vec) (vec, error) {
	ra := newRowArgs(st, args)
	b := st.stringBuilder(tText, ra.n, 0)
	for i := 0; i < ra.n; i++ {
		if isNullType(args[0]) || !ra.valid[0].valid(i) {
			b.Append([]byte("NULL"))
			continue
		}
		st.scratch = appendQuotedLiteral(st.scratch[:0], ra.bytes(0, i))
		b.Append(st.scratch)
	}
	return finishString(b, ra.n == 1 && allScalar(args)), nil
}

// ParseIdent splits a qualified identifier as parse_ident does: parts
// separated by dots, quoted parts kept as written, unquoted ones folded to
// lower case. Unless strict, anything after the last identifier is
// ignored.
func ParseIdent(s string, strict bool) ([]string, error) {
	invalid := func(detail string) error {
		e := pgerror.New(pgerror.InvalidParameterValue, "string is not a valid identifier: \"%s\"", s)
		if detail != "" {
			e = e.WithDetail("%s", detail)
		}
		return e
	}
	var parts []string
	i := 0
	skip := func() {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
			i++
		}
	}
	skip()
	for {
		switch {
		case i < len(s) && s[i] == '"':
			var b []byte
			i++
			for {
				end := strings.IndexByte(s[i:], '"')
				if end < 0 {
					return nil, invalid("String has unclosed double quotes.")
				}
				b = append(b, s[i:i+end]...)
				i += end + 1
				if i < len(s) && s[i] == '"' {
					b = append(b, '"')
					i++
					continue
				}
				break
			}
			if len(b) == 0 {
				return nil, invalid("Quoted identifier must not be empty.")
			}
			parts = append(parts, string(b))
		case i < len(s) && isIdentStart(s[i]):
			start := i
			for i < len(s) && isIdentChar(s[i]) {
				i++
			}
			parts = append(parts, strings.ToLower(s[start:i]))
		default:
			if i < len(s) && s[i] == '.' {
				if len(parts) == 0 {
					return nil, invalid("No valid identifier before \".\".")
				}
				return nil, invalid("No valid identifier after \".\".")
			}
			if len(parts) == 0 {
				return nil, invalid("")
			}
			return nil, invalid("No valid identifier after \".\".")
		}
		skip()
		if i < len(s) && s[i] == '.' {
			i++
			skip()
			if i < len(s) && s[i] == '.' {
				return nil, invalid("No valid identifier before \".\".")
			}
			continue
		}
		if i < len(s) && strict {
			return nil, invalid("")
		}
		return parts, nil
	}
}

func isIdentStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c >= 0x80
}

func isIdentChar(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' || c == '$' }

// Signature is one overload of a function of the catalog, as pg_proc
// lists it.
type Signature struct {
	Name string
	Args []types.T
	Ret  types.T
}

// Functions lists the functions of the catalog (not its operators), sorted
// by name and then by argument types. Arguments may be pseudo-types; see
// TypeOID and TypeName.
func Functions() []Signature {
	var out []Signature
	for name, ovs := range builtins.funcs {
		for _, ov := range ovs {
			out = append(out, Signature{Name: name, Args: ov.args, Ret: ov.ret})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		if len(a.Args) != len(b.Args) {
			return len(a.Args) < len(b.Args)
		}
		for k := range a.Args {
			if a.Args[k] != b.Args[k] {
				return a.Args[k] < b.Args[k]
			}
		}
		return false
	})
	return out
}

// TypeOID is the type OID of t, including the pseudo-types that appear in
// signatures ("any" is 2276, anynonarray 2776).
func TypeOID(t types.T) uint32 {
	switch t {
	case tAny:
		return 2276
	case tAnyNonArray:
		return 2776
	}
	return t.OID()
}

// TypeName names t as format_type does, including the pseudo-types.
func TypeName(t types.T) string { return typeName(t) }
