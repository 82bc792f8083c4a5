package planner

import (
	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/sluicedb/sluice/pgerror"
)

// cteScope is the WITH queries visible where a query is bound: its own
// and those of the queries around it. A reference to one in FROM is planned
// as its query in place (as a subquery in FROM), so a CTE works wherever a
// subquery does, in ad-hoc queries and in materialized views alike.
type cteScope struct {
	name     string
	query    *pg.Node
	colnames []*pg.Node
	parent   *cteScope
}

func (c *cteScope) lookup(name string) *cteScope {
	for ; c != nil; c = c.parent {
		if c.name == name {
			return c
		}
	}
	return nil
}

// withClause makes the CTEs of w visible to the rest of the query (each
// also to the ones after it).
func (b *binder) withClause(w *pg.WithClause) error {
	if w.Recursive {
		return pgerror.New(pgerror.FeatureNotSupported, "WITH RECURSIVE is not supported").WithPosition(int(w.Location) + 1)
	}
	seen := map[string]bool{}
	for _, n := range w.Ctes {
		cte := n.GetCommonTableExpr()
		if seen[cte.Ctename] {
			return pgerror.New("42712", "WITH query name %q specified more than once", cte.Ctename).WithPosition(int(cte.Location) + 1)
		}
		seen[cte.Ctename] = true
		if cte.Ctequery.GetSelectStmt() == nil {
			return pgerror.New(pgerror.FeatureNotSupported, "only SELECT is supported in WITH").WithPosition(int(cte.Location) + 1)
		}
		b.ctes = &cteScope{name: cte.Ctename, query: cte.Ctequery, colnames: cte.Aliascolnames, parent: b.ctes}
	}
	return nil
}

// cteReference returns the FROM item that stands for a reference to a CTE,
// or nil when rv names none.
func (b *binder) cteReference(rv *pg.RangeVar) *pg.Node {
	if rv.Schemaname != "" {
		return nil
	}
	cte := b.ctes.lookup(rv.Relname)
	if cte == nil {
		return nil
	}
	alias := &pg.Alias{Aliasname: rv.Relname, Colnames: cte.colnames}
	if rv.Alias != nil {
		alias.Aliasname = rv.Alias.Aliasname
		if len(rv.Alias.Colnames) > 0 {
			alias.Colnames = rv.Alias.Colnames
		}
	}
	return &pg.Node{Node: &pg.Node_RangeSubselect{RangeSubselect: &pg.RangeSubselect{Subquery: cte.query, Alias: alias}}}
}
