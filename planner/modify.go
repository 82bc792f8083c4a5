package planner

import (
	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/sluicedb/sluice/catalog"
	"github.com/sluicedb/sluice/expr"
	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/types"
)

// Modify is a planned UPDATE or DELETE of a table's rows. Expressions are
// over the table's columns.
type Modify struct {
	Table *catalog.Object
	// Where selects the rows; nil selects every row.
	Where expr.Expr
	// Set has one expression per table column giving its new value (a bare
	// column reference for an unchanged column); nil for a DELETE.
	Set    []expr.Expr
	Params []types.T
}

// modifiable resolves the target of an UPDATE or DELETE.
func (p *Planner) modifiable(rv *pg.RangeVar, verb string) (*catalog.Object, *scope, error) {
	t, ok := p.cat.Get(rv.Relname)
	if !ok || (rv.Schemaname != "" && rv.Schemaname != "public") {
		return nil, nil, pgerror.New(pgerror.UndefinedTable, "relation %q does not exist", rv.Relname).WithPosition(int(rv.Location) + 1)
	}
	if t.Kind != catalog.Table {
		return nil, nil, pgerror.New(pgerror.WrongObjectType, "cannot %s %s %q", verb, t.Kind, t.Name).
			WithHint("Only tables change with UPDATE and DELETE.")
	}
	if t.AppendOnly {
		return nil, nil, pgerror.New(pgerror.FeatureNotSupported, "cannot %s an APPEND ONLY table %q: it only takes INSERT", verb, t.Name)
	}
	alias := t.Name
	if rv.Alias != nil {
		alias = rv.Alias.Aliasname
	}
	sc := newScope()
	for _, c := range t.Schema {
		sc.cols = append(sc.cols, scopeCol{table: alias, name: c.Name, typ: c.Type})
	}
	return t, sc, nil
}

func (p *Planner) where(b *binder, n *pg.Node, sc *scope) (expr.Expr, error) {
	if n == nil {
		return nil, nil
	}
	e, err := b.bindFolded(n, sc)
	if err != nil {
		return nil, err
	}
	return expr.Coerce(e, types.Bool, "argument of WHERE")
}

// PlanDelete plans DELETE FROM table [WHERE ...].
func (p *Planner) PlanDelete(del *pg.DeleteStmt, paramTypes []types.T) (*Modify, error) {
	if len(del.UsingClause) > 0 || len(del.ReturningList) > 0 || del.WithClause != nil {
		return nil, pgerror.New(pgerror.FeatureNotSupported, "DELETE with USING, RETURNING or WITH is not supported yet")
	}
	t, sc, err := p.modifiable(del.Relation, "delete from")
	if err != nil {
		return nil, err
	}
	b := &binder{params: append([]types.T(nil), paramTypes...)}
	where, err := p.where(b, del.WhereClause, sc)
	if err != nil {
		return nil, err
	}
	return &Modify{Table: t, Where: where, Params: finishParams(b.params)}, nil
}

// PlanUpdate plans UPDATE table SET col = expr, ... [WHERE ...].
func (p *Planner) PlanUpdate(upd *pg.UpdateStmt, paramTypes []types.T) (*Modify, error) {
	if len(upd.FromClause) > 0 || len(upd.ReturningList) > 0 || upd.WithClause != nil {
		return nil, pgerror.New(pgerror.FeatureNotSupported, "UPDATE with FROM, RETURNING or WITH is not supported yet")
	}
	t, sc, err := p.modifiable(upd.Relation, "update")
	if err != nil {
		return nil, err
	}
	b := &binder{params: append([]types.T(nil), paramTypes...)}
	set := make([]expr.Expr, len(t.Schema))
	for i, c := range t.Schema {
		set[i] = &expr.ColumnRef{Index: i, T: c.Type, Name: c.Name}
	}
	assigned := map[int]bool{}
	for _, n := range upd.TargetList {
		rt := n.GetResTarget()
		col := t.Schema.Index(rt.Name)
		if col < 0 {
			return nil, pgerror.New(pgerror.UndefinedColumn, "column %q of relation %q does not exist", rt.Name, t.Name).WithPosition(int(rt.Location) + 1)
		}
		if len(rt.Indirection) > 0 {
			return nil, pgerror.New(pgerror.FeatureNotSupported, "assigning to a field or element of %q is not supported", rt.Name).WithPosition(int(rt.Location) + 1)
		}
		if assigned[col] {
			return nil, pgerror.New(pgerror.SyntaxError, "multiple assignments to same column %q", rt.Name).WithPosition(int(rt.Location) + 1)
		}
		assigned[col] = true
		e, err := b.bindFolded(rt.Val, sc)
		if err != nil {
			return nil, err
		}
		if p, ok := e.(*expr.Param); ok && p.T == types.Unknown {
			p.T = t.Schema[col].Type
			b.params[p.Index] = p.T
		}
		c, err := expr.Coerce(e, t.Schema[col].Type, "assignment")
		if err != nil {
			if code := pgerror.Code(err); code == pgerror.DatatypeMismatch || code == pgerror.CannotCoerce {
				return nil, pgerror.New(pgerror.DatatypeMismatch, "column %q is of type %s but expression is of type %s", rt.Name, t.Schema[col].Type, e.Type()).
					WithHint("You will need to rewrite or cast the expression.").WithPosition(int(rt.Location) + 1)
			}
			return nil, err
		}
		set[col] = c
	}
	where, err := p.where(b, upd.WhereClause, sc)
	if err != nil {
		return nil, err
	}
	return &Modify{Table: t, Where: where, Set: set, Params: finishParams(b.params)}, nil
}
