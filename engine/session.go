package engine

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/sluicedb/sluice/catalog"
	"github.com/sluicedb/sluice/executor"
	"github.com/sluicedb/sluice/expr"
	"github.com/sluicedb/sluice/parser"
	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/pgwire"
	"github.com/sluicedb/sluice/plan"
	"github.com/sluicedb/sluice/planner"
	"github.com/sluicedb/sluice/types"
)

// Session is one client's session.
type Session struct {
	e        *Engine
	client   pgwire.ClientInfo
	settings map[string]string
	inTx     bool
	cursors  map[string]*cursor
}

var _ pgwire.Handler = (*Engine)(nil)

// Open starts a session; it implements pgwire.Handler.
func (e *Engine) Open(ctx context.Context, client pgwire.ClientInfo) (pgwire.Session, error) {
	return e.NewSession(client), nil
}

// NewSession starts a session for client.
func (e *Engine) NewSession(client pgwire.ClientInfo) *Session {
	s := &Session{e: e, client: client, settings: map[string]string{}}
	for k, v := range defaultSettings(e.opts.Version) {
		s.settings[k] = v
	}
	if client.ApplicationName != "" {
		s.settings["application_name"] = client.ApplicationName
	}
	s.settings["session_authorization"] = client.User
	return s
}

func defaultSettings(version string) map[string]string {
	return map[string]string{
		"server_version":                "15.0 (Sluice " + version + ")",
		"server_encoding":               "UTF8",
		"client_encoding":               "UTF8",
		"DateStyle":                     "ISO, MDY",
		"IntervalStyle":                 "postgres",
		"TimeZone":                      "UTC",
		"integer_datetimes":             "on",
		"standard_conforming_strings":   "on",
		"application_name":              "",
		"is_superuser":                  "on",
		"default_transaction_read_only": "off",
		"in_hot_standby":                "off",
		// Drivers ask for these at connect (SQLAlchemy runs SHOW
		// TRANSACTION ISOLATION LEVEL); each statement applies on its own,
		// which is at least read committed.
		"transaction_isolation":         "read committed",
		"default_transaction_isolation": "read committed",
		"transaction_read_only":         "off",
	}
}

// ParameterStatus reports the run-time parameters a client sees at startup.
func (s *Session) ParameterStatus() map[string]string {
	out := map[string]string{}
	for _, k := range []string{"server_version", "server_encoding", "client_encoding", "DateStyle", "IntervalStyle",
		"TimeZone", "integer_datetimes", "standard_conforming_strings", "application_name", "is_superuser",
		"session_authorization", "default_transaction_read_only", "in_hot_standby"} {
		out[k] = s.settings[k]
	}
	return out
}

// TxStatus is 'T' inside BEGIN ... COMMIT, 'I' otherwise.
func (s *Session) TxStatus() byte {
	if s.inTx {
		return 'T'
	}
	return 'I'
}

// Close ends the session.
func (s *Session) Close() { s.closeCursors() }

// Parse splits sql into statements.
func (s *Session) Parse(ctx context.Context, sql string) ([]pgwire.Statement, error) {
	stmts, err := parser.Parse(sql)
	if err != nil {
		return nil, err
	}
	out := make([]pgwire.Statement, len(stmts))
	for i, st := range stmts {
		out[i] = &statement{s: s, stmt: st}
	}
	return out, nil
}

// Exec runs sql (one or more statements) and returns the last result; for
// tests and embedding.
func (s *Session) Exec(ctx context.Context, sql string) (pgwire.Result, error) {
	stmts, err := s.Parse(ctx, sql)
	if err != nil {
		return nil, err
	}
	var last pgwire.Result
	for _, st := range stmts {
		if last != nil {
			last.Close()
		}
		if last, err = st.Execute(ctx, nil); err != nil {
			return nil, err
		}
	}
	return last, nil
}

type statement struct {
	s    *Session
	stmt parser.Statement
	// params are the parameter types Describe settled (the client's
	// declared OIDs, then inference). Execute plans with them, because the
	// wire server decoded the values as those types: a client that declares
	// int2 for a bigint comparison (psycopg 3 does) sends an int16.
	params []types.T
}

func (st *statement) SQL() string { return st.stmt.Text() }

// Describe plans the statement to report its parameters and columns.
func (st *statement) Describe(ctx context.Context, paramTypes []types.T) (pgwire.Description, error) {
	switch n := st.stmt.(type) {
	case *parser.PGStatement:
		if sel := n.Node.GetSelectStmt(); sel != nil {
			q, err := st.s.e.planner.PlanSelect(sel, paramTypes)
			if err != nil {
				return pgwire.Description{}, err
			}
			st.params = q.Params
			return pgwire.Description{Params: q.Params, Columns: q.Plan.Schema()}, nil
		}
		if ins := n.Node.GetInsertStmt(); ins != nil {
			q, err := st.s.e.planner.PlanInsert(ins, paramTypes)
			if err != nil {
				return pgwire.Description{}, err
			}
			st.params = q.Params
			return pgwire.Description{Params: q.Params}, nil
		}
		if upd := n.Node.GetUpdateStmt(); upd != nil {
			m, err := st.s.e.planner.PlanUpdate(upd, paramTypes)
			if err != nil {
				return pgwire.Description{}, err
			}
			st.params = m.Params
			return pgwire.Description{Params: m.Params}, nil
		}
		if del := n.Node.GetDeleteStmt(); del != nil {
			m, err := st.s.e.planner.PlanDelete(del, paramTypes)
			if err != nil {
				return pgwire.Description{}, err
			}
			st.params = m.Params
			return pgwire.Description{Params: m.Params}, nil
		}
		if n.Node.GetVariableShowStmt() != nil {
			name := n.Node.GetVariableShowStmt().Name
			return pgwire.Description{Columns: types.Schema{{Name: name, Type: types.Text}}}, nil
		}
	case *parser.Subscribe:
		cols, err := st.s.e.subscribeSchema(n)
		return pgwire.Description{Columns: cols}, err
	case *parser.Fetch:
		if c, ok := st.s.cursors[n.Stmt.Portalname]; ok {
			return pgwire.Description{Columns: c.res.Columns()}, nil
		}
	case *parser.Show, *parser.Describe, *parser.Explain:
		// Planned at execution; run it to learn the columns (cheap and
		// side-effect free).
		r, err := st.Execute(ctx, nil)
		if err != nil {
			return pgwire.Description{}, err
		}
		defer r.Close()
		return pgwire.Description{Columns: r.Columns()}, nil
	}
	return pgwire.Description{Params: paramTypes}, nil
}

// Execute runs the statement.
func (st *statement) Execute(ctx context.Context, params []types.Datum) (pgwire.Result, error) {
	e := st.s.e
	switch n := st.stmt.(type) {
	case *parser.CreateSource:
		return tagOnly("CREATE SOURCE"), e.createSource(ctx, n)
	case *parser.CreateTable:
		return tagOnly("CREATE TABLE"), e.createTable(ctx, n)
	case *parser.CreateMaterializedView:
		return tagOnly("CREATE MATERIALIZED VIEW"), e.createView(ctx, n)
	case *parser.Drop:
		notices, err := e.drop(ctx, n)
		if err != nil {
			return nil, err
		}
		r := tagOnly("DROP " + n.Kind)
		r.notices = notices
		return r, nil
	case *parser.Flush:
		return tagOnly("FLUSH"), e.Flush(ctx)
	case *parser.Show:
		return e.show(n)
	case *parser.Describe:
		return e.describe(n.Name)
	case *parser.Explain:
		return e.explain(n)
	case *parser.CreateSink:
		return tagOnly("CREATE SINK"), e.createSink(ctx, n)
	case *parser.Subscribe:
		return e.subscribe(ctx, n)
	case *parser.CopySubscribe:
		sub, err := e.subscribe(ctx, n.Subscribe)
		if err != nil {
			return nil, err
		}
		return copyOut{sub}, nil
	case *parser.DeclareSubscribe:
		return st.s.declareSubscribe(ctx, n)
	case *parser.Fetch:
		return st.s.fetch(ctx, n)
	case *parser.PGStatement:
		return st.s.executePG(ctx, n, params, st.paramTypesFor(params))
	}
	return nil, pgerror.New(pgerror.FeatureNotSupported, "statement is not supported: %s", st.stmt.Text())
}

// paramTypesFor returns the types to plan with for params: those Describe
// settled, or untyped when the statement was not described with them.
func (st *statement) paramTypesFor(params []types.Datum) []types.T {
	if len(st.params) == len(params) {
		return st.params
	}
	return make([]types.T, len(params))
}

func (s *Session) executePG(ctx context.Context, n *parser.PGStatement, params []types.Datum, paramTypes []types.T) (pgwire.Result, error) {
	e := s.e
	node := n.Node
	switch {
	case node.GetSelectStmt() != nil:
		q, err := e.planner.PlanSelect(node.GetSelectStmt(), paramTypes)
		if err != nil {
			return nil, err
		}
		if err := bindParams(q.Plan, params, q.Params); err != nil {
			return nil, err
		}
		return e.runQuery(withSession(ctx, s), q.Plan)
	case node.GetInsertStmt() != nil:
		q, err := e.planner.PlanInsert(node.GetInsertStmt(), paramTypes)
		if err != nil {
			return nil, err
		}
		if err := bindParams(q.Rows, params, q.Params); err != nil {
			return nil, err
		}
		return e.insert(ctx, q.Table, q.Rows)
	case node.GetClosePortalStmt() != nil:
		name := node.GetClosePortalStmt().Portalname
		if name == "" { // CLOSE ALL
			s.closeCursors()
			return tagOnly("CLOSE CURSOR ALL"), nil
		}
		c, ok := s.cursors[name]
		if !ok {
			return nil, pgerror.New(pgerror.InvalidCursorName, "cursor %q does not exist", name)
		}
		if c.batch != nil {
			c.batch.Release()
		}
		c.res.Close()
		delete(s.cursors, name)
		return tagOnly("CLOSE CURSOR"), nil
	case node.GetTransactionStmt() != nil:
		return s.transaction(node.GetTransactionStmt())
	case node.GetVariableSetStmt() != nil:
		return s.set(node.GetVariableSetStmt())
	case node.GetVariableShowStmt() != nil:
		name := node.GetVariableShowStmt().Name
		for k, v := range s.settings {
			if strings.EqualFold(k, name) {
				return rowsResult(types.Schema{{Name: name, Type: types.Text}}, [][]types.Datum{{v}}), nil
			}
		}
		return nil, pgerror.New(pgerror.UndefinedObject, "unrecognized configuration parameter %q", name)
	case node.GetExplainStmt() != nil:
		return e.explain(&parser.Explain{Statement: &parser.PGStatement{Node: node.GetExplainStmt().Query}})
	case node.GetUpdateStmt() != nil:
		m, err := e.planner.PlanUpdate(node.GetUpdateStmt(), paramTypes)
		if err != nil {
			return nil, err
		}
		return e.modify(ctx, m, params, "UPDATE")
	case node.GetDeleteStmt() != nil:
		m, err := e.planner.PlanDelete(node.GetDeleteStmt(), paramTypes)
		if err != nil {
			return nil, err
		}
		return e.modify(ctx, m, params, "DELETE")
	}
	return nil, pgerror.New(pgerror.FeatureNotSupported, "statement %s is not supported", strings.TrimPrefix(fmt.Sprintf("%T", node.Node), "*pg_query.Node_"))
}

func (s *Session) transaction(t *pg.TransactionStmt) (pgwire.Result, error) {
	switch t.Kind {
	case pg.TransactionStmtKind_TRANS_STMT_BEGIN, pg.TransactionStmtKind_TRANS_STMT_START:
		s.inTx = true
		return tagOnly("BEGIN"), nil
	case pg.TransactionStmtKind_TRANS_STMT_COMMIT:
		s.inTx = false
		s.closeCursors()
		return tagOnly("COMMIT"), nil
	case pg.TransactionStmtKind_TRANS_STMT_ROLLBACK:
		s.inTx = false
		s.closeCursors()
		return tagOnly("ROLLBACK"), nil
	}
	return nil, pgerror.New(pgerror.FeatureNotSupported, "transaction statement %s is not supported", t.Kind)
}

func (s *Session) set(v *pg.VariableSetStmt) (pgwire.Result, error) {
	if v.Kind == pg.VariableSetKind_VAR_RESET || v.Kind == pg.VariableSetKind_VAR_SET_DEFAULT {
		if d, ok := defaultSettings(s.e.opts.Version)[v.Name]; ok {
			s.settings[v.Name] = d
		}
		return tagOnly("SET"), nil
	}
	var vals []string
	for _, a := range v.Args {
		if c := a.GetAConst(); c != nil {
			switch {
			case c.GetSval() != nil:
				vals = append(vals, c.GetSval().Sval)
			case c.GetIval() != nil:
				vals = append(vals, strconv.Itoa(int(c.GetIval().Ival)))
			case c.GetFval() != nil:
				vals = append(vals, c.GetFval().Fval)
			}
		}
	}
	s.settings[v.Name] = strings.Join(vals, ", ")
	return tagOnly("SET"), nil
}

// bindParams replaces the parameters in every expression of the plan.
func bindParams(n plan.Node, params []types.Datum, want []types.T) error {
	if len(params) < len(want) {
		return pgerror.New(pgerror.ProtocolViolation, "statement needs %d parameters, got %d", len(want), len(params))
	}
	if len(want) == 0 {
		return nil
	}
	bindAll := func(es []expr.Expr) {
		for i, x := range es {
			es[i] = expr.Bind(x, params)
		}
	}
	var visit func(plan.Node)
	visit = func(n plan.Node) {
		switch n := n.(type) {
		case *plan.Project:
			bindAll(n.Exprs)
		case *plan.Filter:
			n.Pred = expr.Bind(n.Pred, params)
		case *plan.Values:
			for _, r := range n.Rows {
				bindAll(r)
			}
		case *plan.Join:
			if n.Residual != nil {
				n.Residual = expr.Bind(n.Residual, params)
			}
		case *plan.TableFunction:
			bindAll(n.Args)
		case *plan.ProjectSet:
			for _, c := range n.Calls {
				bindAll(c.Args)
			}
		}
		for _, in := range n.Inputs() {
			visit(in)
		}
	}
	visit(n)
	return nil
}

// runQuery runs a batch plan over one consistent snapshot of everything it
// reads.
func (e *Engine) runQuery(ctx context.Context, p plan.Node) (*result, error) {
	sys := e.systemCatalogFor(ctx)
	snaps, err := e.snapshot(p, sys)
	if err != nil {
		return nil, err
	}
	defer snaps.release()
	ectx := &expr.EvalContext{Alloc: e.alloc, Now: time.Now().UnixMicro(), Catalog: sys}
	r := &result{cols: p.Schema()}
	rows := 0
	err = executor.RunBatch(ctx, p, snaps, ectx, func(rec arrow.Record) error {
		rec.Retain()
		r.recs = append(r.recs, rec)
		rows += int(rec.NumRows())
		return nil
	})
	if err != nil {
		r.Close()
		return nil, err
	}
	r.tag = "SELECT " + strconv.Itoa(rows)
	return r, nil
}

// snapshots holds the rows of every relation a query reads, taken together.
type snapshots struct {
	recs map[string][]arrow.Record
}

func (s *snapshots) Snapshot(_ context.Context, scan *plan.Scan) ([]arrow.Record, error) {
	recs := s.recs[scan.Relation]
	for _, r := range recs {
		r.Retain()
	}
	return recs, nil
}

func (s *snapshots) release() {
	for _, recs := range s.recs {
		for _, r := range recs {
			r.Release()
		}
	}
}

func (e *Engine) snapshot(p plan.Node, sys *systemCatalog) (*snapshots, error) {
	var scans []*plan.Scan
	// WalkPlan also reaches the scans of subqueries in expressions.
	executor.WalkPlan(p, func(n plan.Node) {
		if s, ok := n.(*plan.Scan); ok {
			scans = append(scans, s)
		}
	})
	snaps := &snapshots{recs: map[string][]arrow.Record{}}
	e.coord.ReadLock()
	defer e.coord.ReadUnlock()
	e.mu.RLock()
	defer e.mu.RUnlock()
	for _, s := range scans {
		if _, done := snaps.recs[s.Relation]; done {
			continue
		}
		switch s.RelKind {
		case plan.RelSource:
			snaps.release()
			return nil, pgerror.New(pgerror.FeatureNotSupported, "cannot query source %q directly: a source is a stream, not a stored relation", s.Relation).
				WithHint("Create a materialized view over it, e.g. CREATE MATERIALIZED VIEW v AS SELECT * FROM %s, and query the view.", s.Relation)
		case plan.RelTable:
			recs, _ := e.tables[s.Relation].store.Scan(e.alloc)
			snaps.recs[s.Relation] = recs
		case plan.RelMaterializedView:
			recs, err := e.views[s.Relation].store.Snapshot(e.alloc)
			if err != nil {
				snaps.release()
				return nil, pgerror.New(pgerror.InternalError, "read materialized view %q: %v", s.Relation, err)
			}
			snaps.recs[s.Relation] = recs
		case plan.RelSystem:
			recs, err := e.systemRows(sys, s)
			if err != nil {
				snaps.release()
				return nil, err
			}
			snaps.recs[s.Relation] = recs
		}
	}
	return snaps, nil
}

// modify runs an UPDATE or DELETE and waits until the views on the table
// reflect it.
func (e *Engine) modify(ctx context.Context, m *planner.Modify, params []types.Datum, verb string) (*result, error) {
	if len(params) < len(m.Params) {
		return nil, pgerror.New(pgerror.ProtocolViolation, "statement needs %d parameters, got %d", len(m.Params), len(params))
	}
	var where *expr.Program
	if m.Where != nil {
		var err error
		if where, err = expr.Compile(expr.Bind(m.Where, params)); err != nil {
			return nil, err
		}
	}
	var set *executor.Project
	if m.Set != nil {
		exprs := make([]expr.Expr, len(m.Set))
		for i, x := range m.Set {
			exprs[i] = expr.Bind(x, params)
		}
		var err error
		ectx := &expr.EvalContext{Alloc: e.alloc, Now: time.Now().UnixMicro()}
		if set, err = executor.NewProject(&plan.Project{Exprs: exprs, Cols: m.Table.Schema}, ectx); err != nil {
			return nil, err
		}
	}
	e.mu.RLock()
	rt := e.tables[m.Table.Name]
	e.mu.RUnlock()
	if rt == nil {
		return nil, pgerror.New(pgerror.UndefinedTable, "relation %q does not exist", m.Table.Name)
	}
	ectx := &expr.EvalContext{Alloc: e.alloc, Now: time.Now().UnixMicro()}
	n, err := rt.store.Modify(ctx, e.alloc, func(rec arrow.Record) (executor.Change, error) {
		return executor.Touch(ctx, rec, where, set, ectx)
	})
	if err != nil {
		return nil, err
	}
	if err := e.Flush(ctx); err != nil {
		return nil, err
	}
	return tagOnly(verb + " " + strconv.Itoa(n)), nil
}

// insert adds rows to a table and waits until the views on it reflect them.
func (e *Engine) insert(ctx context.Context, t *catalog.Object, rows plan.Node) (*result, error) {
	r, err := e.runQuery(ctx, rows)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	e.mu.RLock()
	rt := e.tables[t.Name]
	e.mu.RUnlock()
	if rt == nil {
		return nil, pgerror.New(pgerror.UndefinedTable, "relation %q does not exist", t.Name)
	}
	n := 0
	for _, rec := range r.recs {
		if err := rt.store.Insert(ctx, rec); err != nil {
			return nil, err
		}
		n += int(rec.NumRows())
	}
	if err := e.Flush(ctx); err != nil {
		return nil, err
	}
	return tagOnly("INSERT 0 " + strconv.Itoa(n)), nil
}
