package planner

import (
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/sluicedb/sluice/expr"
	"github.com/sluicedb/sluice/pgcatalog"
	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/plan"
	"github.com/sluicedb/sluice/types"
)

// The system catalog in queries: pg_catalog and information_schema
// relations in FROM, casts to the reg* types, COLLATE, ANY/ALL over arrays,
// array constructors and subscripts, which psql's describe commands and BI
// tools' introspection queries use.

// rangeVar resolves a relation named in FROM as PostgreSQL's default search
// path does: a bare name is looked up in pg_catalog, then among Sluice's
// objects (which live in public); pg_catalog and information_schema must
// name a system relation, public one of Sluice's objects.
func (p *Planner) rangeVar(schema, name string, pos int) (*plan.Scan, error) {
	switch {
	case schema == "":
		if sys, ok := p.system(schema, name); ok {
			return sys, nil
		}
		return p.scan(name, pos)
	case pgcatalog.IsSystemSchema(schema):
		if sys, ok := p.system(schema, name); ok {
			return sys, nil
		}
	case schema == "public":
		if _, ok := p.cat.Get(name); ok {
			return p.scan(name, pos)
		}
	}
	return nil, pgerror.New(pgerror.UndefinedTable, "relation \"%s.%s\" does not exist", schema, name).WithPosition(pos)
}

// system resolves a relation of pg_catalog or information_schema (schema
// "" is the search path).
func (p *Planner) system(schema, name string) (*plan.Scan, bool) {
	r, ok := pgcatalog.Lookup(schema, name)
	if !ok {
		return nil, false
	}
	return &plan.Scan{Relation: r.QualifiedName(), RelKind: plan.RelSystem, Cols: r.Cols, EventTime: -1}, true
}

// errSystemRelation refuses a system relation where a stream is needed.
func errSystemRelation(relation, what string) error {
	return pgerror.New(pgerror.FeatureNotSupported, "%s cannot read the system relation %s: it is not a stream", what, relation).
		WithHint("Query it with SELECT instead.")
}

// regConstant resolves a cast of a string constant to a reg* type at plan
// time, as PostgreSQL's regclassin does during parsing: 'pg_class'::regclass
// is the constant 1259. A parameter ($1::regclass) is taken as text and
// looked up when the statement runs, since parameter values are decoded
// without the catalog. ok is false when e is neither.
func (b *binder) regConstant(e expr.Expr, to types.T) (expr.Expr, bool, error) {
	if p, ok := e.(*expr.Param); ok && p.T == types.Unknown {
		p.T = types.Text
		b.params[p.Index] = types.Text
		return &expr.Cast{Arg: p, To: to}, true, nil
	}
	c, isConst := e.(*expr.Const)
	if !isConst || c.Value == nil || b.planner == nil {
		return nil, false, nil
	}
	s, isString := c.Value.(string)
	if !isString || (c.T != types.Unknown && c.T.Physical() != types.Text) {
		return nil, false, nil
	}
	if d, err := types.ParseText(s, to); err == nil {
		return &expr.Const{Value: d, T: to}, true, nil
	}
	class := map[types.T]string{
		types.RegClass: expr.ClassRelation, types.RegType: expr.ClassType, types.RegNamespace: expr.ClassNamespace,
		types.RegProc: expr.ClassFunction, types.RegProcedure: expr.ClassFunctionSignature,
	}[to]
	snap := pgcatalog.NewSnapshot(b.planner.cat.All(), pgcatalog.Session{})
	oid, err := snap.ObjectOID(class, s)
	if err != nil {
		return nil, true, err
	}
	return &expr.Const{Value: oid, T: to}, true, nil
}

// isRegType reports whether t is one of the reg* types.
func isRegType(t types.T) bool {
	switch t {
	case types.RegClass, types.RegType, types.RegNamespace, types.RegProc, types.RegProcedure:
		return true
	}
	return false
}

// collate binds `x COLLATE name`. Sluice compares text byte by byte, which
// is the order of the C collation and of the database default (C.UTF-8),
// so those are accepted and change nothing; any other is unknown.
func (b *binder) collate(c *pg.CollateClause, s *scope) (expr.Expr, error) {
	var parts []string
	for _, n := range c.Collname {
		parts = append(parts, n.GetString_().Sval)
	}
	name := parts[len(parts)-1]
	if len(parts) > 1 && parts[0] != "pg_catalog" {
		name = strings.Join(parts, ".")
	}
	switch name {
	case "default", "C", "POSIX", "ucs_basic", "C.UTF-8", "C.utf8":
	default:
		return nil, pgerror.New(pgerror.UndefinedObject, "collation \"%s\" for encoding \"UTF8\" does not exist", strings.Join(parts, ".")).
			WithPosition(int(c.Location) + 1)
	}
	arg, err := b.bind(c.Arg, s)
	if err != nil {
		return nil, err
	}
	if t := arg.Type(); t != types.Unknown && t != types.Text && t != types.Varchar && t != types.Name {
		return nil, pgerror.New(pgerror.DatatypeMismatch, "collations are not supported by type %s", t).WithPosition(int(c.Location) + 1)
	}
	return arg, nil
}

// arrayCompare binds `x op ANY (array)` and `x op ALL (array)`.
func (b *binder) arrayCompare(a *pg.A_Expr, s *scope) (expr.Expr, error) {
	l, err := b.bind(a.Lexpr, s)
	if err != nil {
		return nil, err
	}
	r, err := b.bind(a.Rexpr, s)
	if err != nil {
		return nil, err
	}
	e, err := expr.NewArrayCompare(opName(a.Name), l, r, a.Kind == pg.A_Expr_Kind_AEXPR_OP_ALL)
	return e, withPosErr(err, int(a.Location)+1)
}

// arrayConstructor binds ARRAY[e1, e2, ...].
func (b *binder) arrayConstructor(a *pg.A_ArrayExpr, s *scope) (expr.Expr, error) {
	elems, err := b.bindList(a.Elements, s)
	if err != nil {
		return nil, err
	}
	e, err := expr.NewArrayConstructor(elems)
	return e, withPosErr(err, int(a.Location)+1)
}

// indirection binds subscripts: arr[i], (current_schemas(true))[1].
func (b *binder) indirection(ind *pg.A_Indirection, s *scope) (expr.Expr, error) {
	arg, err := b.bind(ind.Arg, s)
	if err != nil {
		return nil, err
	}
	var indexes []expr.Expr
	for _, n := range ind.Indirection {
		ix := n.GetAIndices()
		if ix == nil || ix.IsSlice || ix.Uidx == nil {
			return nil, pgerror.New(pgerror.FeatureNotSupported, "only array subscripts are supported here, not slices or field selection")
		}
		e, err := b.bind(ix.Uidx, s)
		if err != nil {
			return nil, err
		}
		indexes = append(indexes, e)
	}
	return expr.NewSubscript(arg, indexes)
}

// regOutput makes the reg* columns of a query's result print the names of
// their objects (regclass prints pg_class, not 1259), which needs the
// catalog at run time: they are cast to text. Clients then see the column
// as text rather than regclass, with the same text.
func regOutput(n plan.Node) plan.Node {
	cols := n.Schema()
	found := false
	for _, c := range cols {
		found = found || isRegType(c.Type)
	}
	if !found {
		return n
	}
	exprs := make([]expr.Expr, len(cols))
	out := make(types.Schema, len(cols))
	for i, c := range cols {
		exprs[i] = &expr.ColumnRef{Index: i, T: c.Type, Name: c.Name}
		out[i] = c
		if isRegType(c.Type) {
			exprs[i] = &expr.Cast{Arg: exprs[i], To: types.Text}
			out[i].Type = types.Text
		}
	}
	return &plan.Project{Input: n, Exprs: exprs, Cols: out}
}

// emptyCatalogQuery answers a query that failed to bind, with an empty
// result, when it provably has no rows because it needs a row of a system
// relation that Sluice keeps empty: psql's describe commands ask about
// publications, policies, statistics objects and inheritance with SQL that
// Sluice cannot plan yet (UNION, generate_series in FROM, ARRAY(subquery)),
// and PostgreSQL itself would answer nothing. Only errors of unsupported
// features and unknown functions are forgiven this way; the result columns
// keep the names PostgreSQL gives them, typed text.
func (p *Planner) emptyCatalogQuery(sel *pg.SelectStmt, bindErr error) (plan.Node, bool) {
	switch pgerror.Code(bindErr) {
	case pgerror.FeatureNotSupported, pgerror.UndefinedFunction:
	default:
		return nil, false
	}
	if !provablyEmpty(sel) {
		return nil, false
	}
	first := sel
	for first.Op != pg.SetOperation_SETOP_NONE {
		first = first.Larg
	}
	var cols types.Schema
	for _, t := range first.TargetList {
		rt := t.GetResTarget()
		if cr := rt.Val.GetColumnRef(); cr != nil && cr.Fields[len(cr.Fields)-1].GetAStar() != nil {
			return nil, false // the columns of * would need the relations bound
		}
		cols = append(cols, types.Column{Name: columnName(rt), Type: types.Text})
	}
	return &plan.Values{Cols: cols}, true
}

// provablyEmpty reports whether a SELECT has no rows whatever its
// expressions compute: each of its rows needs a row of a system relation
// that is always empty.
func provablyEmpty(sel *pg.SelectStmt) bool {
	switch sel.Op {
	case pg.SetOperation_SETOP_UNION:
		return provablyEmpty(sel.Larg) && provablyEmpty(sel.Rarg)
	case pg.SetOperation_SETOP_INTERSECT:
		return provablyEmpty(sel.Larg) || provablyEmpty(sel.Rarg)
	case pg.SetOperation_SETOP_EXCEPT:
		return provablyEmpty(sel.Larg)
	}
	if len(sel.ValuesLists) > 0 || (len(sel.GroupClause) == 0 && (sel.HavingClause != nil || hasAggregate(sel))) {
		// VALUES has rows; an aggregate without GROUP BY has one row even
		// over no input.
		return false
	}
	for _, item := range sel.FromClause {
		if emptyFromItem(item) {
			return true // the FROM items are cross-joined
		}
	}
	return false
}

// emptyFromItem reports whether a FROM item never has rows.
func emptyFromItem(n *pg.Node) bool {
	switch {
	case n.GetRangeVar() != nil:
		rv := n.GetRangeVar()
		if rv.Schemaname != "" && !pgcatalog.IsSystemSchema(rv.Schemaname) {
			return false
		}
		r, ok := pgcatalog.Lookup(rv.Schemaname, rv.Relname)
		return ok && r.AlwaysEmpty()
	case n.GetJoinExpr() != nil:
		j := n.GetJoinExpr()
		l, r := emptyFromItem(j.Larg), emptyFromItem(j.Rarg)
		switch j.Jointype {
		case pg.JoinType_JOIN_INNER:
			return l || r
		case pg.JoinType_JOIN_LEFT:
			return l
		case pg.JoinType_JOIN_RIGHT:
			return r
		case pg.JoinType_JOIN_FULL:
			return l && r
		}
	case n.GetRangeSubselect() != nil:
		if sub := n.GetRangeSubselect().Subquery.GetSelectStmt(); sub != nil {
			return provablyEmpty(sub)
		}
	}
	return false
}

// hasAggregate reports whether the target list or ORDER BY of sel calls an
// aggregate (outside subqueries), which makes a query without GROUP BY
// return one row.
func hasAggregate(sel *pg.SelectStmt) bool {
	found := false
	var visit func(m protoreflect.Message)
	visit = func(m protoreflect.Message) {
		if found {
			return
		}
		switch v := m.Interface().(type) {
		case *pg.SubLink:
			return
		case *pg.FuncCall:
			if v.AggStar || v.AggDistinct || aggregateNames[funcName(v.Funcname)] {
				found = true
				return
			}
		}
		m.Range(func(fd protoreflect.FieldDescriptor, val protoreflect.Value) bool {
			switch {
			case fd.IsList() && fd.Message() != nil:
				l := val.List()
				for i := 0; i < l.Len(); i++ {
					visit(l.Get(i).Message())
				}
			case fd.Message() != nil && !fd.IsMap():
				visit(val.Message())
			}
			return !found
		})
	}
	for _, n := range append(append([]*pg.Node(nil), sel.TargetList...), sel.SortClause...) {
		visit(n.ProtoReflect())
	}
	return found
}

// aggregateNames are PostgreSQL's common aggregates, Sluice's and others
// that catalog queries use.
var aggregateNames = map[string]bool{
	"count": true, "sum": true, "avg": true, "min": true, "max": true, "string_agg": true,
	"array_agg": true, "bool_and": true, "bool_or": true, "every": true, "json_agg": true,
	"jsonb_agg": true, "json_object_agg": true, "jsonb_object_agg": true, "stddev": true,
	"variance": true,
}
