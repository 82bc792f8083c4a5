package pgcatalog

import (
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/sluicedb/sluice/expr"
	"github.com/sluicedb/sluice/parser"
	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/types"
)

// proc is one row of pg_proc.
type proc struct {
	oid  uint32
	name string
	ret  uint32
	args []uint32
}

// firstFunctionOID is where the OIDs of Sluice's own functions start:
// among PostgreSQL's system OIDs (below 16384), above those it hand-assigns
// and which the type I/O functions keep. They follow the sorted list of
// functions, so they are stable for a given build of Sluice.
const firstFunctionOID = 10000

// pseudoTypes name the pseudo-types that appear in function signatures.
var pseudoTypes = map[uint32]string{
	2275: "cstring", 2276: `"any"`, 2277: "anyarray", 2278: "void", 2281: "internal",
	2283: "anyelement", 2776: "anynonarray",
}

// procs are the rows of pg_proc: the type I/O functions, then Sluice's
// functions. procByOID indexes them.
var procs, procByOID = func() ([]proc, map[uint32]proc) {
	out := append([]proc(nil), ioFunctions...)
	for i, f := range expr.Functions() {
		p := proc{oid: firstFunctionOID + uint32(i), name: f.Name, ret: expr.TypeOID(f.Ret)}
		for _, a := range f.Args {
			p.args = append(p.args, expr.TypeOID(a))
		}
		out = append(out, p)
	}
	m := make(map[uint32]proc, len(out))
	for _, p := range out {
		m[p.oid] = p
	}
	return out, m
}()

// identityArgs lists the argument types as pg_get_function_arguments prints
// them: "text, integer".
func (p proc) identityArgs() string {
	names := make([]string, len(p.args))
	for i, a := range p.args {
		names[i] = typeNameOf(a)
	}
	return strings.Join(names, ", ")
}

// argVector is proargtypes.
func (p proc) argVector() types.Datum {
	nums := make([]int64, len(p.args))
	for i, a := range p.args {
		nums[i] = int64(a)
	}
	return vector(nums...)
}

// functionByName resolves regproc input: a function name that must name
// exactly one function.
func functionByName(name string) (int64, error) {
	parts, err := expr.ParseIdent(name, true)
	if err != nil {
		return 0, err
	}
	if len(parts) == 2 && parts[0] == schemaCatalog {
		parts = parts[1:]
	}
	var found []proc
	if len(parts) == 1 {
		for _, p := range procs {
			if p.name == parts[0] {
				found = append(found, p)
			}
		}
	}
	switch len(found) {
	case 0:
		return 0, pgerror.New(pgerror.UndefinedFunction, "function \"%s\" does not exist", name)
	case 1:
		return int64(found[0].oid), nil
	}
	return 0, pgerror.New("42725", "more than one function named \"%s\"", name)
}

// functionBySignature resolves regprocedure input: name(type, ...).
func functionBySignature(sig string) (int64, error) {
	open := strings.IndexByte(sig, '(')
	if open < 0 || !strings.HasSuffix(strings.TrimSpace(sig), ")") {
		return 0, pgerror.New(pgerror.InvalidTextRepresentation, "expected a left parenthesis")
	}
	parts, err := expr.ParseIdent(sig[:open], true)
	if err != nil {
		return 0, err
	}
	if len(parts) == 2 && parts[0] == schemaCatalog {
		parts = parts[1:]
	}
	inner := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(sig[open+1:]), ")"))
	var want []uint32
	if inner != "" {
		for _, a := range strings.Split(inner, ",") {
			t, err := parseTypeName(strings.TrimSpace(a))
			if err != nil {
				return 0, err
			}
			want = append(want, t.OID())
		}
	}
	for _, p := range procs {
		if len(parts) == 1 && p.name == parts[0] && equalOIDs(p.args, want) {
			return int64(p.oid), nil
		}
	}
	return 0, pgerror.New(pgerror.UndefinedFunction, "function %s does not exist", sig)
}

func equalOIDs(a, b []uint32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// parseTypeName resolves a type name as regtypein does, with PostgreSQL's
// grammar for type names: integer, int4, character varying(10), text[].
func parseTypeName(name string) (types.T, error) {
	bad := pgerror.New(pgerror.UndefinedObject, "type \"%s\" does not exist", name)
	res, err := pg.Parse("SELECT NULL::" + name)
	if err != nil || len(res.Stmts) != 1 {
		return 0, bad
	}
	sel := res.Stmts[0].Stmt.GetSelectStmt()
	if sel == nil || len(sel.TargetList) != 1 || len(sel.FromClause) > 0 || sel.WhereClause != nil {
		return 0, bad
	}
	tc := sel.TargetList[0].GetResTarget().GetVal().GetTypeCast()
	if tc == nil {
		return 0, bad
	}
	t, err := parser.ResolveCastType(tc.TypeName)
	if err != nil {
		return 0, bad
	}
	return t, nil
}
