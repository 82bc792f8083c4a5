package engine

import (
	"strings"

	"github.com/sluicedb/sluice/catalog"
	"github.com/sluicedb/sluice/executor"
	"github.com/sluicedb/sluice/parser"
	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/plan"
	"github.com/sluicedb/sluice/types"
)

func (e *Engine) show(s *parser.Show) (*result, error) {
	switch s.Object {
	case "SOURCES":
		return e.showSources(), nil
	case "TABLES":
		return e.showTables(), nil
	case "MATERIALIZED VIEWS", "VIEWS":
		return e.showViews(), nil
	case "SINKS":
		return e.showSinks(), nil
	case "SOURCE ERRORS":
		return e.showSourceErrors(s.Name)
	}
	return nil, pgerror.New(pgerror.FeatureNotSupported, "SHOW %s is not supported yet", s.Object)
}

func (e *Engine) showSources() *result {
	cols := types.Schema{
		{Name: "name", Type: types.Text}, {Name: "connector", Type: types.Text},
		{Name: "rows", Type: types.Int8}, {Name: "bytes", Type: types.Int8},
		{Name: "late_rows", Type: types.Int8}, {Name: "error_rows", Type: types.Int8},
		{Name: "backlog", Type: types.Int8},
		{Name: "watermark", Type: types.Timestamp}, {Name: "status", Type: types.Text},
		{Name: "last_error", Type: types.Text},
	}
	var rows [][]types.Datum
	e.mu.RLock()
	defer e.mu.RUnlock()
	for _, o := range e.cat.List(catalog.Source) {
		rt := e.sources[o.Name]
		if rt == nil {
			continue
		}
		sum := rt.readings.summary()
		var wm types.Datum
		if sum.watermark != executor.NoWatermark {
			wm = sum.watermark
		}
		var le types.Datum
		if sum.lastError != "" {
			le = sum.lastError
		}
		var backlog types.Datum
		if sum.hasBacklog {
			backlog = sum.backlog
		}
		rows = append(rows, []types.Datum{o.Name, o.Connector, sum.rows, sum.bytes, sum.late, sum.errs, backlog, wm, sum.status, le})
	}
	// Tables fed by a connector read like sources, without a watermark.
	for _, o := range e.cat.List(catalog.Table) {
		rt := e.tables[o.Name]
		if rt == nil || rt.feedStats == nil {
			continue
		}
		st := rt.feedStats
		status, lastErr := st.Status()
		var le types.Datum
		if lastErr != "" {
			le = lastErr
		}
		var backlog types.Datum
		if n, ok := st.Backlog(); ok {
			backlog = n
		}
		rows = append(rows, []types.Datum{o.Name, o.Connector, st.Rows.Load(), st.Bytes.Load(), st.LateRows.Load(), st.ErrorRows.Load(), backlog, nil, status, le})
	}
	return rowsResult(cols, rows)
}

func (e *Engine) showSinks() *result {
	cols := types.Schema{
		{Name: "name", Type: types.Text}, {Name: "connector", Type: types.Text}, {Name: "type", Type: types.Text},
		{Name: "rows", Type: types.Int8}, {Name: "pending_rows", Type: types.Int8}, {Name: "failed_rows", Type: types.Int8},
		{Name: "retries", Type: types.Int8}, {Name: "lag_ms", Type: types.Int8},
		{Name: "status", Type: types.Text}, {Name: "last_error", Type: types.Text},
	}
	committed := e.coord.Epoch()
	var rows [][]types.Datum
	e.mu.RLock()
	defer e.mu.RUnlock()
	for _, o := range e.cat.List(catalog.Sink) {
		rt := e.sinks[o.Name]
		if rt == nil {
			continue
		}
		status, lastErr := rt.stats.Status()
		var le types.Datum
		if lastErr != "" {
			le = lastErr
		}
		// Epochs are milliseconds of wall time: a sink with rows waiting is
		// behind its view by the time since the epoch it delivered last.
		var lag int64
		if pending := rt.sink.Pending(); pending > 0 && committed > rt.stats.Epoch.Load() && rt.stats.Epoch.Load() > 0 {
			lag = int64(committed - rt.stats.Epoch.Load())
		}
		rows = append(rows, []types.Datum{o.Name, o.Connector, o.SinkType, rt.stats.Rows.Load(), rt.sink.Pending(), rt.stats.Failed.Load(),
			rt.stats.Retries.Load(), lag, status, le})
	}
	return rowsResult(cols, rows)
}

func (e *Engine) showSourceErrors(name *parser.ObjectName) (*result, error) {
	cols := types.Schema{{Name: "source", Type: types.Text}, {Name: "error", Type: types.Text}}
	var rows [][]types.Datum
	e.mu.RLock()
	defer e.mu.RUnlock()
	for _, o := range e.cat.List(catalog.Source) {
		if name != nil && name.Name != o.Name {
			continue
		}
		if rt := e.sources[o.Name]; rt != nil {
			for _, msg := range rt.readings.summary().errors {
				rows = append(rows, []types.Datum{o.Name, msg})
			}
		}
	}
	if name != nil {
		if _, ok := e.sources[name.Name]; !ok {
			return nil, pgerror.New(pgerror.UndefinedTable, "source %q does not exist", name.Name)
		}
	}
	return rowsResult(cols, rows), nil
}

// showTables lists the tables with their row counts and, for an APPEND ONLY
// table with a watermark, the late rows its views dropped and its watermark.
func (e *Engine) showTables() *result {
	cols := types.Schema{{Name: "name", Type: types.Text}, {Name: "rows", Type: types.Int8},
		{Name: "late_rows", Type: types.Int8}, {Name: "watermark", Type: types.Timestamp}}
	var rows [][]types.Datum
	e.mu.RLock()
	defer e.mu.RUnlock()
	for _, o := range e.cat.List(catalog.Table) {
		rt := e.tables[o.Name]
		if rt == nil {
			continue
		}
		sum := rt.readings.summary()
		var wm types.Datum
		if sum.watermark != executor.NoWatermark {
			wm = sum.watermark
		}
		rows = append(rows, []types.Datum{o.Name, int64(rt.store.Len()), sum.late, wm})
	}
	return rowsResult(cols, rows)
}

func (e *Engine) showViews() *result {
	cols := types.Schema{{Name: "name", Type: types.Text}, {Name: "rows", Type: types.Int8},
		{Name: "error_chunks", Type: types.Int8}, {Name: "last_error", Type: types.Text}}
	var rows [][]types.Datum
	e.mu.RLock()
	defer e.mu.RUnlock()
	for _, o := range e.cat.List(catalog.MaterializedView) {
		rt := e.views[o.Name]
		if rt == nil {
			continue
		}
		n, last := rt.flow.Errors()
		var le types.Datum
		if last != "" {
			le = last
		}
		rows = append(rows, []types.Datum{o.Name, rt.store.Len(), n, le})
	}
	return rowsResult(cols, rows)
}

func (e *Engine) describe(name parser.ObjectName) (*result, error) {
	o, ok := e.cat.Get(name.Name)
	if !ok {
		return nil, pgerror.New(pgerror.UndefinedTable, "relation %q does not exist", name.Name)
	}
	cols := types.Schema{{Name: "name", Type: types.Text}, {Name: "type", Type: types.Text},
		{Name: "is_nullable", Type: types.Bool}, {Name: "description", Type: types.Text}}
	var rows [][]types.Datum
	pk := map[int]bool{}
	for _, i := range o.PrimaryKey {
		pk[i] = true
	}
	for i, c := range o.Schema {
		var desc types.Datum
		var notes []string
		if pk[i] {
			notes = append(notes, "primary key")
		}
		if o.Watermark != nil && o.Watermark.Column == i {
			notes = append(notes, "watermark: "+o.Watermark.Expr)
		}
		if len(notes) > 0 {
			desc = strings.Join(notes, "; ")
		}
		rows = append(rows, []types.Datum{c.Name, c.Type.String(), !c.NotNull, desc})
	}
	return rowsResult(cols, rows), nil
}

func (e *Engine) explain(x *parser.Explain) (*result, error) {
	var p plan.Node
	switch st := x.Statement.(type) {
	case *parser.CreateMaterializedView:
		v, err := e.planner.PlanView(st.Query.GetSelectStmt(), st.EmitOnWindowClose, st.Temporal...)
		if err != nil {
			return nil, err
		}
		p = v.Plan
	case *parser.PGStatement:
		sel := st.Node.GetSelectStmt()
		if sel == nil {
			return nil, pgerror.New(pgerror.FeatureNotSupported, "EXPLAIN supports SELECT and CREATE MATERIALIZED VIEW")
		}
		q, err := e.planner.PlanSelect(sel, nil)
		if err != nil {
			return nil, err
		}
		p = q.Plan
	default:
		return nil, pgerror.New(pgerror.FeatureNotSupported, "EXPLAIN supports SELECT and CREATE MATERIALIZED VIEW")
	}
	var rows [][]types.Datum
	for _, line := range strings.Split(strings.TrimRight(plan.Format(p), "\n"), "\n") {
		rows = append(rows, []types.Datum{line})
	}
	r := rowsResult(types.Schema{{Name: "QUERY PLAN", Type: types.Text}}, rows)
	r.tag = "EXPLAIN"
	return r, nil
}
