package planner

import (
	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/sluicedb/sluice/catalog"
	"github.com/sluicedb/sluice/expr"
	"github.com/sluicedb/sluice/parser"
	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/plan"
	"github.com/sluicedb/sluice/types"
)

// Planner plans statements against a catalog.
type Planner struct {
	cat *catalog.Catalog
}

// New returns a planner over cat.
func New(cat *catalog.Catalog) *Planner { return &Planner{cat: cat} }

// Query is a planned SELECT.
type Query struct {
	Plan   plan.Node
	Params []types.T
}

// PlanSelect plans a SELECT for batch execution. paramTypes are the types the
// client declared ($1 is index 0); undeclared ones are inferred from their
// use, or text.
func (p *Planner) PlanSelect(sel *pg.SelectStmt, paramTypes []types.T) (*Query, error) {
	b := &binder{params: append([]types.T(nil), paramTypes...), aggs: newAggContext()}
	n, err := p.query(b, sel)
	if err != nil {
		empty, ok := p.emptyCatalogQuery(sel, err)
		if !ok {
			return nil, err
		}
		n = empty
	}
	return &Query{Plan: regOutput(n), Params: finishParams(b.params)}, nil
}

func newAggContext() *aggContext {
	return &aggContext{placeholders: map[*expr.ColumnRef]int{}}
}

func finishParams(ps []types.T) []types.T {
	for i, t := range ps {
		if t == types.Unknown {
			ps[i] = types.Text
		}
	}
	return ps
}

// View is a planned materialized view.
type View struct {
	Plan      plan.Node
	DependsOn []string
	Schema    types.Schema
}

// PlanView plans the query of a materialized view for streaming. temporal
// names the FROM items marked FOR SYSTEM_TIME AS OF PROCTIME().
func (p *Planner) PlanView(sel *pg.SelectStmt, emitOnWindowClose bool, temporal ...string) (*View, error) {
	b := &binder{aggs: newAggContext()}
	if len(temporal) > 0 {
		b.temporal = map[string]bool{}
		for _, t := range temporal {
			b.temporal[t] = true
		}
	}
	n, err := p.query(b, sel)
	if err != nil {
		return nil, err
	}
	if len(b.params) > 0 {
		return nil, pgerror.New(pgerror.UndefinedParameter, "a materialized view cannot have parameters")
	}
	if hasSubqueries(n) {
		// Subqueries that decorrelate into joins run incrementally as
		// joins: IN and [NOT] EXISTS in WHERE, scalar aggregates, and ANY
		// and ALL as comparisons with aggregates.
		for _, rewrite := range []func(*pg.SelectStmt) *pg.SelectStmt{quantified, semiJoins, scalarJoins} {
			rewritten := rewrite(sel)
			if rewritten == nil {
				continue
			}
			rb := &binder{aggs: newAggContext(), temporal: b.temporal}
			if rn, err := p.query(rb, rewritten); err == nil {
				n, sel = rn, rewritten
			}
		}
	}
	var deps []string
	var scans int
	if err := walk(n, func(n plan.Node) error {
		if err := refuseSubqueries(n); err != nil {
			return err
		}
		switch n := n.(type) {
		case *plan.Scan:
			if n.RelKind == plan.RelSystem {
				return errSystemRelation(n.Relation, "a materialized view")
			}
			scans++
			deps = appendUnique(deps, n.Relation)
		case *plan.Sort:
			return pgerror.New(pgerror.FeatureNotSupported, "ORDER BY in a materialized view is not supported: order when you query the view")
		case *plan.Limit:
			return pgerror.New(pgerror.FeatureNotSupported, "LIMIT in a materialized view is not supported yet (Top-N comes with ROW_NUMBER)")
		case *plan.Join:
			switch {
			case n.Temporal && (n.Type != plan.InnerJoin && n.Type != plan.LeftJoin):
				return pgerror.New(pgerror.FeatureNotSupported, "a temporal join (FOR SYSTEM_TIME AS OF PROCTIME()) must be an inner or left join with the looked-up relation on the right")
			case n.Temporal && !n.Left.Kind().IsAppendOnly():
				return pgerror.New(pgerror.FeatureNotSupported, "a temporal join needs an append-only left side (a source or an APPEND ONLY table)")
			case len(n.LeftKeys) == 0 && n.Type != plan.InnerJoin && !singleRow(n.Left) && !singleRow(n.Right):
				// An inner join without an equality (a cross or theta
				// join) pairs every row with every other; an outer one
				// would need to track, per row, whether anything matched.
				return pgerror.New(pgerror.FeatureNotSupported, "an outer join in a materialized view needs an equality between the two sides (ON a.k = b.k)")
			case n.Residual != nil && n.Type != plan.InnerJoin:
				return pgerror.New(pgerror.FeatureNotSupported, "an outer join in a materialized view takes only equalities between the two sides in ON; filter in WHERE instead")
			}
		case *plan.TableFunction:
			return errTableFunctionStream(n)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if scans == 0 {
		return nil, pgerror.New(pgerror.FeatureNotSupported, "a materialized view must read from a source, table or view")
	}
	if emitOnWindowClose {
		if err := markEmitOnWindowClose(n); err != nil {
			return nil, err
		}
	}
	return &View{Plan: n, DependsOn: deps, Schema: n.Schema()}, nil
}

// PlanSinkFrom plans a sink that reads a materialized view, table or source
// as it is: a scan of it.
func (p *Planner) PlanSinkFrom(name string) (*View, error) {
	scan, err := p.scan(name, 0)
	if err != nil {
		return nil, err
	}
	if scan.RelKind == plan.RelSystem {
		return nil, errSystemRelation(scan.Relation, "a sink")
	}
	return &View{Plan: scan, DependsOn: []string{scan.Relation}, Schema: scan.Cols}, nil
}

// CheckSinkType refuses a sink type that the stream it reads cannot feed: an
// append-only sink needs an append-only stream, and an upsert sink a key. It
// returns the positions of the key columns.
func CheckSinkType(v *View, sinkType string, key []string) ([]int, error) {
	switch sinkType {
	case "append-only":
		if !v.Plan.Kind().IsAppendOnly() {
			return nil, pgerror.New(pgerror.InvalidObjectDefinition, "an append-only sink cannot take a query whose result changes: add EMIT ON WINDOW CLOSE to its windowed aggregation, or use type = 'upsert'").
				WithHint("With EMIT ON WINDOW CLOSE each window's row is emitted once, final; an upsert sink takes updates by primary_key = '...'.")
		}
	case "upsert":
		if len(key) == 0 {
			return nil, pgerror.New(pgerror.InvalidParameterValue, "an upsert sink needs primary_key = 'col[,col...]'").
				WithHint("Name the columns that identify a row, e.g. the GROUP BY columns of the query.")
		}
	default:
		return nil, pgerror.New(pgerror.InvalidParameterValue, "sink type must be 'append-only' or 'upsert', not %q", sinkType)
	}
	pk := make([]int, 0, len(key))
	for _, k := range key {
		i := v.Schema.Index(k)
		if i < 0 {
			return nil, pgerror.New(pgerror.UndefinedColumn, "primary_key column %q is not a column of the sink", k)
		}
		pk = append(pk, i)
	}
	return pk, nil
}

// markEmitOnWindowClose sets EMIT ON WINDOW CLOSE on the view's aggregation,
// which must group by a window over the event-time column.
func markEmitOnWindowClose(n plan.Node) error {
	var agg *plan.Aggregate
	_ = walk(n, func(n plan.Node) error {
		if a, ok := n.(*plan.Aggregate); ok && agg == nil {
			agg = a
		}
		return nil
	})
	switch {
	case agg == nil:
		return pgerror.New(pgerror.FeatureNotSupported, "EMIT ON WINDOW CLOSE needs a windowed aggregation (GROUP BY window_start or window_end of TUMBLE or HOP)")
	case agg.WindowEnd < 0:
		return pgerror.New(pgerror.FeatureNotSupported, "EMIT ON WINDOW CLOSE needs GROUP BY window_start or window_end of a TUMBLE or HOP over a column with a WATERMARK").
			WithHint("Declare WATERMARK FOR the time column in CREATE SOURCE, and group by window_start or window_end.")
	case !agg.InputAppendOnly && !overSessions(agg.Input):
		return pgerror.New(pgerror.FeatureNotSupported, "EMIT ON WINDOW CLOSE needs an append-only input")
	}
	agg.EmitOnWindowClose = true
	return nil
}

// singleRow reports whether n always has exactly one row: an aggregation
// without GROUP BY, through projections. Joining with it needs no key.
func singleRow(n plan.Node) bool {
	for {
		switch x := n.(type) {
		case *plan.Project:
			n = x.Input
		case *plan.Aggregate:
			return len(x.Keys) == 0
		default:
			return false
		}
	}
}

// overSessions reports whether n's changes come only from a SESSION window
// over an append-only input: sessions retract rows while they are open, but
// a closed session never changes, which is all EMIT ON WINDOW CLOSE needs.
func overSessions(n plan.Node) bool {
	for {
		if w, ok := n.(*plan.Window); ok {
			return w.Func == plan.Session && w.Input.Kind().IsAppendOnly()
		}
		ins := n.Inputs()
		if len(ins) != 1 {
			return false
		}
		n = ins[0]
	}
}

func walk(n plan.Node, f func(plan.Node) error) error {
	if err := f(n); err != nil {
		return err
	}
	for _, in := range n.Inputs() {
		if err := walk(in, f); err != nil {
			return err
		}
	}
	return nil
}

func appendUnique(s []string, v string) []string {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}

// Insert is a planned INSERT: rows to add to a table.
type Insert struct {
	Table  *catalog.Object
	Rows   plan.Node // produces rows in the table's column order
	Params []types.T
}

// PlanInsert plans INSERT INTO table [(cols)] VALUES ... | SELECT ....
func (p *Planner) PlanInsert(ins *pg.InsertStmt, paramTypes []types.T) (*Insert, error) {
	name := ins.Relation.Relname
	t, ok := p.cat.Get(name)
	if !ok {
		return nil, pgerror.New(pgerror.UndefinedTable, "relation %q does not exist", name).WithPosition(int(ins.Relation.Location) + 1)
	}
	if t.Kind != catalog.Table {
		return nil, pgerror.New(pgerror.WrongObjectType, "cannot insert into %s %q", t.Kind, name).
			WithHint("Only tables take INSERT; sources are fed by their connector.")
	}
	if ins.OnConflictClause != nil || len(ins.ReturningList) > 0 || ins.WithClause != nil {
		return nil, pgerror.New(pgerror.FeatureNotSupported, "INSERT with ON CONFLICT, RETURNING or WITH is not supported yet")
	}
	// Target columns: listed ones in order, or all.
	target := make([]int, 0, len(t.Schema))
	if len(ins.Cols) == 0 {
		for i := range t.Schema {
			target = append(target, i)
		}
	} else {
		for _, c := range ins.Cols {
			rt := c.GetResTarget()
			i := t.Schema.Index(rt.Name)
			if i < 0 {
				return nil, pgerror.New(pgerror.UndefinedColumn, "column %q of relation %q does not exist", rt.Name, name).WithPosition(int(rt.Location) + 1)
			}
			target = append(target, i)
		}
	}
	want := make(types.Schema, len(target))
	for i, c := range target {
		want[i] = t.Schema[c]
	}
	// planner: VALUES lists may hold subqueries too.
	b := &binder{params: append([]types.T(nil), paramTypes...), aggs: newAggContext(), planner: p}
	sel := ins.SelectStmt.GetSelectStmt()
	var src plan.Node
	var err error
	if len(sel.ValuesLists) > 0 {
		src, err = p.values(b, sel.ValuesLists, want)
	} else {
		src, err = p.query(b, sel)
		if err == nil {
			src, err = coerceColumns(src, want)
		}
	}
	if err != nil {
		return nil, err
	}
	if len(src.Schema()) < len(want) && len(ins.Cols) > 0 {
		return nil, pgerror.New(pgerror.SyntaxError, "INSERT has more target columns than expressions")
	}
	// Reorder into the table's columns, NULL for the ones not given.
	exprs := make([]expr.Expr, len(t.Schema))
	for i, c := range t.Schema {
		exprs[i] = &expr.Const{Value: nil, T: c.Type}
	}
	for j, c := range target[:len(src.Schema())] {
		exprs[c] = &expr.ColumnRef{Index: j, T: t.Schema[c].Type, Name: t.Schema[c].Name}
	}
	return &Insert{Table: t, Rows: &plan.Project{Input: src, Exprs: exprs, Cols: t.Schema}, Params: finishParams(b.params)}, nil
}

// coerceColumns casts the output of n to the types of want (assignment).
func coerceColumns(n plan.Node, want types.Schema) (plan.Node, error) {
	s := n.Schema()
	if len(s) > len(want) {
		return nil, pgerror.New(pgerror.SyntaxError, "INSERT has more expressions than target columns")
	}
	exprs := make([]expr.Expr, len(s))
	cols := make(types.Schema, len(s))
	for i, c := range s {
		e, err := expr.Coerce(&expr.ColumnRef{Index: i, T: c.Type, Name: c.Name}, want[i].Type, "assignment")
		if err != nil {
			return nil, pgerror.New(pgerror.DatatypeMismatch, "column %q is of type %s but expression is of type %s", want[i].Name, want[i].Type, c.Type).
				WithHint("You will need to rewrite or cast the expression.")
		}
		exprs[i] = e
		cols[i] = types.Column{Name: want[i].Name, Type: want[i].Type}
	}
	return &plan.Project{Input: n, Exprs: exprs, Cols: cols}, nil
}

// Columns turns column definitions into a schema, with the primary key's
// positions in key order. primaryKey lists the key columns, whether declared
// on a column or in a table-level PRIMARY KEY (...).
func Columns(defs []parser.ColumnDef, primaryKey []string) (types.Schema, []int, error) {
	var schema types.Schema
	for _, d := range defs {
		if schema.Index(d.Name) >= 0 {
			return nil, nil, pgerror.New(pgerror.DuplicateColumn, "column %q specified more than once", d.Name).WithPosition(d.Pos)
		}
		t, err := parser.ResolveTypeName(d.Type)
		if err != nil {
			return nil, nil, withPos(err, d.Pos)
		}
		schema = append(schema, types.Column{Name: d.Name, Type: t, NotNull: d.NotNull || d.PrimaryKey})
	}
	var pk []int
	for _, name := range primaryKey {
		i := schema.Index(name)
		if i < 0 {
			return nil, nil, pgerror.New(pgerror.UndefinedColumn, "column %q named in key does not exist", name)
		}
		schema[i].NotNull = true
		pk = append(pk, i)
	}
	return schema, pk, nil
}

// Watermark binds `WATERMARK FOR col AS expr` over schema: the column must be
// a timestamp and the expression must be of the column's type.
func Watermark(schema types.Schema, w parser.Watermark) (*catalog.Watermark, expr.Expr, error) {
	col := schema.Index(w.Column)
	if col < 0 {
		return nil, nil, pgerror.New(pgerror.UndefinedColumn, "column %q named in WATERMARK FOR does not exist", w.Column).WithPosition(w.Pos)
	}
	t := schema[col].Type
	if t != types.Timestamp && t != types.TimestampTZ {
		return nil, nil, pgerror.New(pgerror.DatatypeMismatch, "WATERMARK FOR column %q must be a timestamp or timestamptz, not %s", w.Column, t).WithPosition(w.Pos)
	}
	sc := newScope()
	for _, c := range schema {
		sc.cols = append(sc.cols, scopeCol{name: c.Name, typ: c.Type})
	}
	b := &binder{}
	e, err := b.bindFolded(w.Expr, sc)
	if err != nil {
		return nil, nil, err
	}
	if e, err = expr.Coerce(e, t, "WATERMARK"); err != nil {
		return nil, nil, pgerror.New(pgerror.DatatypeMismatch, "the WATERMARK expression must be of type %s, like its column, not %s", t, e.Type()).WithPosition(w.Pos)
	}
	return &catalog.Watermark{Column: col, Expr: e.String()}, e, nil
}
