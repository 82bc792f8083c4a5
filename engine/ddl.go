package engine

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sluicedb/sluice/catalog"
	"github.com/sluicedb/sluice/connectors"
	"github.com/sluicedb/sluice/executor"
	"github.com/sluicedb/sluice/expr"
	"github.com/sluicedb/sluice/parser"
	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/plan"
	"github.com/sluicedb/sluice/planner"
	"github.com/sluicedb/sluice/types"
)

func (e *Engine) exists(name string, ifNotExists bool) (bool, error) {
	if _, ok := e.cat.Get(name); ok {
		if ifNotExists {
			return true, nil
		}
		return true, pgerror.New(pgerror.DuplicateTable, "relation %q already exists", name)
	}
	return false, nil
}

func checkSchemaName(n parser.ObjectName) error {
	if n.Schema != "" && n.Schema != "public" {
		return pgerror.New(pgerror.InvalidSchemaName, "schema %q does not exist", n.Schema)
	}
	return nil
}

func (e *Engine) createSource(ctx context.Context, s *parser.CreateSource) error {
	e.ddl.Lock()
	defer e.ddl.Unlock()
	if err := checkSchemaName(s.Name); err != nil {
		return err
	}
	if found, err := e.exists(s.Name.Name, s.IfNotExists); found || err != nil {
		return err
	}
	schema, pk, err := planner.Columns(s.Columns, nil)
	if err != nil {
		return err
	}
	if len(pk) > 0 {
		return pgerror.New(pgerror.FeatureNotSupported, "a source is append-only and has no primary key; use CREATE TABLE for keyed data")
	}
	obj := &catalog.Object{Kind: catalog.Source, Name: s.Name.Name, Schema: schema, SQL: s.Text()}
	rt := &sourceRuntime{obj: obj, procTime: -1}
	for i, c := range s.Columns {
		if !c.ProcTime {
			continue
		}
		if rt.procTime >= 0 {
			return pgerror.New(pgerror.FeatureNotSupported, "only one column AS PROCTIME() per source is supported")
		}
		if schema[i].Type != types.TimestampTZ {
			return pgerror.New(pgerror.DatatypeMismatch, "column %q AS PROCTIME() must be of type timestamp with time zone, not %s", c.Name, schema[i].Type)
		}
		rt.procTime = i
	}
	if len(s.Watermarks) > 1 {
		return pgerror.New(pgerror.FeatureNotSupported, "only one WATERMARK per source is supported")
	}
	if len(s.Watermarks) == 1 {
		wm, bound, err := planner.Watermark(schema, s.Watermarks[0])
		if err != nil {
			return err
		}
		obj.Watermark, rt.wmExpr = wm, bound
	}
	if s.Format != nil && s.Format.Format == "DEBEZIUM" {
		return pgerror.New(pgerror.FeatureNotSupported, "FORMAT DEBEZIUM carries updates and deletes, which a source (an append-only stream) cannot hold").
			WithHint("Use CREATE TABLE name (... PRIMARY KEY (...)) WITH (...) FORMAT DEBEZIUM ENCODE JSON.")
	}
	opts := withOptions(s.Options)
	rt.idleTimeout = defaultIdleTimeout
	if v, ok := opts[optIdleTimeout]; ok {
		d, err := connectors.Options{optIdleTimeout: v}.Duration(optIdleTimeout)
		if err != nil || d <= 0 {
			return pgerror.New(pgerror.InvalidParameterValue, "%s must be a positive duration such as '5s', not %q", optIdleTimeout, v)
		}
		rt.idleTimeout = d
		delete(opts, optIdleTimeout)
	}
	src, err := e.openSource(ctx, "CREATE SOURCE", obj, rt.procTime, opts, s.Format, s.Includes)
	if err != nil {
		return err
	}
	rt.source = src
	if err := e.addObject(obj); err != nil {
		return err
	}
	e.mu.Lock()
	e.sources[obj.Name] = rt
	e.mu.Unlock()
	return nil
}

// openSource builds the source of connector opts["connector"] with the other
// options for obj (a source, or a table fed by a connector), appending the
// INCLUDE columns to obj.Schema and recording the connector, its validated
// options and the format in obj. Column procTime (-1 for none) is Sluice's
// to fill, not the connector's.
func (e *Engine) openSource(ctx context.Context, statement string, obj *catalog.Object, procTime int, opts map[string]string, format *parser.Format, incs []parser.Include) (connectors.Source, error) {
	name, ok := opts["connector"]
	if !ok {
		return nil, pgerror.New(pgerror.InvalidParameterValue, "%s needs WITH (connector = '...')", statement).
			WithHint("Known connectors: %s.", e.connectorNames())
	}
	delete(opts, "connector")
	conn, ok := e.opts.Connectors.Lookup(name)
	if !ok {
		return nil, pgerror.New(pgerror.InvalidParameterValue, "unknown connector %q", name).
			WithHint("Known connectors: %s.", e.connectorNames())
	}
	if conn.NewSource == nil {
		return nil, pgerror.New(pgerror.InvalidParameterValue, "connector %q is a sink only and cannot be a source", name)
	}
	validated, err := conn.Validate(opts)
	if err != nil {
		return nil, err
	}
	schema := append(types.Schema(nil), obj.Schema...)
	if procTime >= 0 {
		schema = append(schema[:procTime:procTime], obj.Schema[procTime+1:]...)
	}
	includes, err := includeColumns(conn, incs, &schema)
	if err != nil {
		return nil, err
	}
	cfg := connectors.SourceConfig{Name: obj.Name, Schema: schema, Options: validated, Alloc: e.alloc, Includes: includes,
		Recovering: e.replaying, Checkpoints: e.store != nil}
	if e.store != nil {
		cfg.RequestCheckpoint = e.coord.RequestCheckpoint
	}
	if cfg.Format, err = formatClause("connector "+strconv.Quote(name), format, conn.Encodes); err != nil {
		return nil, err
	}
	src, err := conn.NewSource(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if procTime >= 0 {
		schema = append(schema[:procTime:procTime], append(types.Schema{obj.Schema[procTime]}, schema[procTime:]...)...)
	}
	obj.Schema, obj.Format = schema, formatName(format)
	obj.Connector, obj.Options = name, validated
	return src, nil
}

// includeTypes are the column types of INCLUDE metadata.
var includeTypes = map[string]types.T{
	"key": types.Bytea, "partition": types.Int4, "offset": types.Int8,
	"timestamp": types.TimestampTZ, "topic": types.Text,
}

// includeColumns appends a column per INCLUDE clause to schema, named by
// AS or else _rw_<connector>_<what> as RisingWave names them.
func includeColumns(conn connectors.Connector, incs []parser.Include, schema *types.Schema) ([]connectors.Include, error) {
	var out []connectors.Include
	for _, inc := range incs {
		what := strings.ToLower(inc.What)
		if !contains(conn.Includes, what) {
			if len(conn.Includes) == 0 {
				return nil, pgerror.New(pgerror.FeatureNotSupported, "connector %q has no metadata to INCLUDE", conn.Name)
			}
			return nil, pgerror.New(pgerror.FeatureNotSupported, "connector %q cannot INCLUDE %s; it can INCLUDE %s", conn.Name, what, strings.Join(conn.Includes, ", "))
		}
		name := inc.Alias
		if name == "" {
			name = "_rw_" + conn.Name + "_" + what
		}
		if schema.Index(name) >= 0 {
			return nil, pgerror.New(pgerror.DuplicateColumn, "column %q specified more than once", name).
				WithHint("Name the INCLUDE column with AS.")
		}
		*schema = append(*schema, types.Column{Name: name, Type: includeTypes[what]})
		out = append(out, connectors.Include{What: what, Column: name})
	}
	return out, nil
}

// withOptions returns the options of a WITH clause by lower-cased key.
func withOptions(options []parser.Option) map[string]string {
	opts := make(map[string]string, len(options))
	for _, o := range options {
		opts[strings.ToLower(o.Key)] = o.Value
	}
	return opts
}

// formatClause checks a FORMAT ... ENCODE ... clause against the encodings
// a connector (who, for messages) accepts: nil encodes means it takes none.
func formatClause(who string, f *parser.Format, encodes []string) (connectors.Format, error) {
	switch {
	case f == nil && encodes == nil:
		return connectors.Format{}, nil
	case f == nil:
		return connectors.Format{}, pgerror.New(pgerror.InvalidParameterValue, "%s needs a FORMAT clause, e.g. FORMAT PLAIN ENCODE %s", who, encodes[0])
	case encodes == nil:
		return connectors.Format{}, pgerror.New(pgerror.InvalidParameterValue, "%s takes no FORMAT clause", who)
	case !contains(encodes, f.Encode):
		return connectors.Format{}, pgerror.New(pgerror.InvalidParameterValue, "%s does not support ENCODE %s; it supports %s", who, f.Encode, strings.Join(encodes, ", "))
	}
	return connectors.Format{Format: f.Format, Encode: f.Encode, Options: withOptions(f.Options)}, nil
}

// formatName is how the catalog shows a FORMAT clause: "PLAIN JSON".
func formatName(f *parser.Format) string {
	if f == nil {
		return ""
	}
	return f.Format + " " + f.Encode
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if strings.EqualFold(x, v) {
			return true
		}
	}
	return false
}

func (e *Engine) connectorNames() string {
	var names []string
	for _, c := range e.opts.Connectors.All() {
		names = append(names, c.Name)
	}
	return strings.Join(names, ", ")
}

func (e *Engine) createTable(ctx context.Context, s *parser.CreateTable) error {
	e.ddl.Lock()
	defer e.ddl.Unlock()
	if err := checkSchemaName(s.Name); err != nil {
		return err
	}
	if found, err := e.exists(s.Name.Name, s.IfNotExists); found || err != nil {
		return err
	}
	schema, pk, err := planner.Columns(s.Columns, s.PrimaryKey)
	if err != nil {
		return err
	}
	if s.AppendOnly && len(pk) > 0 {
		return pgerror.New(pgerror.InvalidObjectDefinition, "an APPEND ONLY table cannot have a primary key")
	}
	for _, c := range s.Columns {
		if c.ProcTime {
			return pgerror.New(pgerror.FeatureNotSupported, "column %q AS PROCTIME(): processing-time columns are supported in CREATE SOURCE only", c.Name)
		}
	}
	obj := &catalog.Object{Kind: catalog.Table, Name: s.Name.Name, Schema: schema, SQL: s.Text(), PrimaryKey: pk, AppendOnly: s.AppendOnly}
	rt := &tableRuntime{obj: obj}
	var feed connectors.Source
	if s.Format != nil && s.Format.Format == "DEBEZIUM" && len(pk) == 0 {
		return pgerror.New(pgerror.InvalidTableDefinition, "a table fed by FORMAT DEBEZIUM needs a PRIMARY KEY: its changes are applied by key")
	}
	if len(s.Options) > 0 || s.Format != nil {
		// A table fed by a connector (change data capture, an upsert
		// topic): its rows are the connector's, applied by primary key.
		if feed, err = e.openSource(ctx, "CREATE TABLE", obj, -1, withOptions(s.Options), s.Format, nil); err != nil {
			return err
		}
		if len(obj.Schema) != len(schema) {
			return pgerror.New(pgerror.FeatureNotSupported, "INCLUDE is not supported on tables")
		}
	}
	if len(s.Watermarks) > 0 {
		if !s.AppendOnly {
			return pgerror.New(pgerror.InvalidObjectDefinition, "a WATERMARK needs an APPEND ONLY table")
		}
		wm, bound, err := planner.Watermark(schema, s.Watermarks[0])
		if err != nil {
			return err
		}
		obj.Watermark, rt.wmExpr = wm, bound
	}
	if err := e.addObject(obj); err != nil {
		return err
	}
	store := executor.NewTableStore(obj.Name, schema, pk)
	if e.store != nil {
		log := e.store.Table(obj.Name)
		if e.replaying {
			if err := log.Rows(store.Load); err != nil {
				return fmt.Errorf("recover the rows of table %s: %w", obj.Name, err)
			}
		}
		store.SetLog(log)
	}
	rt.store = store
	e.mu.Lock()
	e.tables[obj.Name] = rt
	e.mu.Unlock()
	if err := e.coord.Change(func() error {
		e.coord.AddRoot(store, store.InjectBarrier)
		return nil
	}); err != nil {
		return err
	}
	if feed != nil {
		rt.feed = feed
		return e.feedTable(rt, feed)
	}
	return nil
}

func (e *Engine) createView(ctx context.Context, s *parser.CreateMaterializedView) error {
	e.ddl.Lock()
	defer e.ddl.Unlock()
	if err := checkSchemaName(s.Name); err != nil {
		return err
	}
	if found, err := e.exists(s.Name.Name, s.IfNotExists); found || err != nil {
		return err
	}
	v, err := e.planner.PlanView(s.Query.GetSelectStmt(), s.EmitOnWindowClose, s.Temporal...)
	if err != nil {
		return err
	}
	obj := &catalog.Object{Kind: catalog.MaterializedView, Name: s.Name.Name, Schema: v.Schema, SQL: s.Text(),
		DependsOn: v.DependsOn, Query: s.QueryText, EmitOnWindowClose: s.EmitOnWindowClose,
		AppendOnly: v.Plan.Kind().IsAppendOnly()}
	rt, err := e.startView(obj, v.Plan)
	if err != nil {
		return err
	}
	if err := e.addObject(obj); err != nil {
		e.stop(rt.flowRuntime)
		return err
	}
	e.mu.Lock()
	e.views[obj.Name] = rt
	e.mu.Unlock()
	// Like RisingWave, CREATE MATERIALIZED VIEW returns once the view holds
	// the rows that existed when it was created.
	return e.coord.Flush(ctx)
}

// startView builds a view's dataflow, ending in the Materialize operator
// that keeps its rows, and attaches it to its input.
func (e *Engine) startView(obj *catalog.Object, p plan.Node) (*viewRuntime, error) {
	store := executor.NewStore(obj.Schema)
	mat := executor.NewMaterialize(store, e.alloc)
	flow, err := e.startFlow(obj, p, mat, store)
	if err != nil {
		return nil, err
	}
	return &viewRuntime{flowRuntime: flow, obj: obj, mat: mat, store: store}, nil
}

// startFlow builds the dataflow of plan p followed by tail and attaches it to
// its inputs between two epochs. store, if not nil, is committed with every
// epoch. A plan over one input is one dataflow; a UNION ALL of inputs is a
// dataflow per input (its branch) forwarding into a merging dataflow that
// aligns their barriers.
func (e *Engine) startFlow(obj *catalog.Object, p plan.Node, tail executor.Operator, store *executor.Store) (*flowRuntime, error) {
	ectx := &expr.EvalContext{Alloc: e.alloc, Lenient: true}
	tree, err := executor.StreamPlan(p, ectx)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(e.ctx)
	rt := &flowRuntime{ctx: ctx, cancel: cancel}
	// A view or sink that existed at the last checkpoint resumes from its
	// state there; one created after it starts afresh from its inputs.
	_, restoring := e.restore[executor.FlowStatePrefix+obj.Name]
	fail := func(err error) (*flowRuntime, error) {
		cancel()
		rt.finished.Wait()
		return nil, err
	}

	// One dataflow per node of the tree: leaves read an input; inner nodes
	// merge their children, which forward into them.
	type leaf struct {
		input *flowInput
		flow  *executor.Dataflow
	}
	var leaves []leaf
	var flows []*executor.Dataflow
	var build func(n *executor.StreamNode, name string, last executor.Operator) (*executor.Dataflow, error)
	build = func(n *executor.StreamNode, name string, last executor.Operator) (*executor.Dataflow, error) {
		ops := append(append([]executor.Operator(nil), n.Ops...), last)
		var flow *executor.Dataflow
		if n.Scan != nil {
			in, err := e.flowInput(ctx, n.Scan, ectx)
			if err != nil {
				return nil, err
			}
			flow = executor.NewDataflow(name, in.filter, ops, e.coord.Ack, e.logger)
			leaves = append(leaves, leaf{input: in, flow: flow})
		} else {
			flow = executor.NewMergeDataflow(name, len(n.Inputs), ops, e.coord.Ack, e.logger)
			for i, child := range n.Inputs {
				if _, err := build(child, fmt.Sprintf("%s[%d]", name, i), executor.NewForward(flow, i)); err != nil {
					return nil, err
				}
			}
		}
		if e.store != nil {
			flow.TrackStateChanges()
		}
		if e.budget != nil {
			flow.EnableSpill(func(op int) executor.SpillStore {
				return spillSpace{db: e.store, space: stateSpace(name, op)}
			}, e.budget)
		}
		if restoring {
			state, ok := e.restore[executor.FlowStatePrefix+name]
			if !ok {
				return nil, fmt.Errorf("the checkpoint has the state of %s but not of its part %s", obj.Name, name)
			}
			entries := func(op int, fn func(key, value []byte) error) error {
				return e.store.CheckpointEntries(stateSpace(name, op), fn)
			}
			if err := flow.LoadState(state, entries); err != nil {
				return nil, fmt.Errorf("restore %s from the checkpoint: %w", obj.Name, err)
			}
		}
		flows = append(flows, flow)
		rt.finished.Add(1)
		go func() {
			defer rt.finished.Done()
			flow.Run(ctx)
		}()
		return flow, nil
	}
	if rt.flow, err = build(tree, obj.Name, tail); err != nil {
		return fail(err)
	}
	var detaches []func()
	err = e.coord.Change(func() error {
		for _, l := range leaves {
			detach, err := e.attach(ctx, l.input, l.flow, restoring, &rt.finished)
			if err != nil {
				for _, d := range detaches {
					d()
				}
				return err
			}
			detaches = append(detaches, detach)
		}
		for _, f := range flows {
			if f == rt.flow {
				e.coord.AddMember(f, store)
			} else {
				e.coord.AddMember(f, nil)
			}
		}
		return nil
	})
	if err != nil {
		return fail(err)
	}
	rt.detach = func() {
		for _, d := range detaches {
			d()
		}
		for _, f := range flows {
			e.coord.RemoveMember(f)
		}
	}
	return rt, nil
}

// flowInput is what a dataflow reads: a source (with its splits and
// counters), a table, or a view, and the watermark filter in front.
type flowInput struct {
	src      *sourceRuntime
	table    *tableRuntime
	upstream *viewRuntime
	name     string
	splits   []connectors.Split
	stats    *executor.SourceStats
	filter   *executor.WatermarkFilter
	// unread marks the source's columns the dataflow does not read, which
	// its readers may leave out.
	unread []bool
}

func (e *Engine) flowInput(ctx context.Context, scan *plan.Scan, ectx *expr.EvalContext) (*flowInput, error) {
	e.mu.RLock()
	in := &flowInput{src: e.sources[scan.Relation], table: e.tables[scan.Relation], upstream: e.views[scan.Relation], name: scan.Relation}
	e.mu.RUnlock()
	if in.src != nil && scan.Unread != nil {
		// The connector's columns are the source's but for a PROCTIME()
		// column, which the engine adds.
		in.unread = slices.Clone(scan.Unread)
		if p := in.src.procTime; p >= 0 && p < len(in.unread) {
			in.unread = slices.Delete(in.unread, p, p+1)
		}
	}
	var err error
	switch {
	case in.src != nil:
		if in.splits, err = in.src.source.Splits(ctx); err != nil {
			if !e.replaying {
				return nil, pgerror.New(pgerror.ConnectionException, "source %q: list splits: %v", in.src.obj.Name, err)
			}
			// At start-up the outside system may be down: start without
			// splits and keep listing them until it answers.
			e.logger.Warn("source unreachable at start-up, retrying", "source", in.src.obj.Name, "err", err)
			in.splits = nil
		}
		in.stats = executor.NewSourceStats()
		in.filter, err = watermarkFilter(in.src.obj, in.src.wmExpr, max(len(in.splits), 1), ectx, in.stats)
	case in.table != nil && in.table.wmExpr != nil:
		in.stats = executor.NewSourceStats()
		in.filter, err = watermarkFilter(in.table.obj, in.table.wmExpr, 1, ectx, in.stats)
	case in.table == nil && in.upstream == nil:
		return nil, pgerror.New(pgerror.UndefinedTable, "relation %q does not exist", scan.Relation)
	}
	return in, err
}

// attach connects flow to its input (inside a coordinator Change) and
// returns what detaches it. A flow restored from the checkpoint resumes its
// source's splits at their positions, receives only what changed in a table
// since the checkpoint, and only the later changes of an upstream view
// (restored from the same checkpoint).
func (e *Engine) attach(ctx context.Context, in *flowInput, flow *executor.Dataflow, restored bool, wg *sync.WaitGroup) (func(), error) {
	switch {
	case in.src != nil:
		in.src.readings.adopt(flow, in.stats)
		e.coord.AddRoot(flow, func(ctx context.Context, b executor.Barrier) error {
			return flow.Send(ctx, executor.Message{Kind: executor.MsgBarrier, Barrier: b})
		})
		var resume []executor.SplitPosition
		if restored {
			resume = in.filter.Positions()
		}
		e.readSource(ctx, in.src, in.stats, in.splits, resume, flow, wg, in.unread)
		return func() {
			e.coord.RemoveRoot(flow)
			in.src.readings.stop(flow)
		}, nil
	case in.table != nil:
		if restored {
			catchUp, err := in.table.store.SubscribeSince(flow, e.restore[executor.TableStatePrefix+in.name])
			if err != nil {
				return nil, err
			}
			e.catchUps = append(e.catchUps, func() error { return catchUp(ctx) })
		} else if err := in.table.store.Subscribe(ctx, flow); err != nil {
			return nil, err
		}
		if in.stats != nil {
			in.table.readings.adopt(flow, in.stats)
		}
		return func() {
			in.table.store.Unsubscribe(flow)
			in.table.readings.stop(flow)
		}, nil
	default:
		if restored {
			in.upstream.mat.SubscribeChanges(flow)
		} else if err := in.upstream.mat.Subscribe(ctx, flow); err != nil {
			return nil, err
		}
		return func() { in.upstream.mat.Unsubscribe(flow) }, nil
	}
}

// watermarkFilter builds the first operator of a dataflow over a source or
// an append-only table: late rows out, watermarks in.
func watermarkFilter(obj *catalog.Object, wmExpr expr.Expr, splits int, ectx *expr.EvalContext, stats *executor.SourceStats) (*executor.WatermarkFilter, error) {
	if wmExpr == nil {
		return executor.NewWatermarkFilter(-1, nil, splits, ectx, stats), nil
	}
	prog, err := expr.Compile(wmExpr)
	if err != nil {
		return nil, err
	}
	return executor.NewWatermarkFilter(obj.Watermark.Column, prog, splits, ectx, stats), nil
}

// stop detaches and stops a dataflow and its readers.
func (e *Engine) stop(rt *flowRuntime) {
	_ = e.coord.Change(func() error {
		if rt.detach != nil {
			rt.detach()
		}
		e.coord.RemoveMember(rt.flow)
		return nil
	})
	rt.cancel()
	rt.finished.Wait()
}

// drop runs DROP; for a missing object under IF EXISTS it returns a notice,
// as PostgreSQL does ("... does not exist, skipping").
func (e *Engine) drop(ctx context.Context, d *parser.Drop) (notices []error, err error) {
	e.ddl.Lock()
	defer e.ddl.Unlock()
	var kind catalog.Kind
	switch d.Kind {
	case "SOURCE":
		kind = catalog.Source
	case "TABLE":
		kind = catalog.Table
	case "MATERIALIZED VIEW":
		kind = catalog.MaterializedView
	case "SINK":
		kind = catalog.Sink
	default:
		return nil, pgerror.New(pgerror.FeatureNotSupported, "DROP %s is not supported", d.Kind)
	}
	for _, n := range d.Names {
		if err := checkSchemaName(n); err != nil {
			return notices, err
		}
		if _, ok := e.cat.Get(n.Name); !ok && d.IfExists {
			notices = append(notices, &pgerror.Error{Severity: pgerror.SeverityNotice, Code: pgerror.SuccessfulCompletion,
				Message: fmt.Sprintf("%s %q does not exist, skipping", strings.ToLower(d.Kind), n.Name)})
			continue
		}
		dropped, err := e.cat.Drop(n.Name, kind, d.Cascade)
		if err != nil {
			return notices, err
		}
		for _, o := range dropped {
			e.release(o)
			if e.store != nil {
				if err := e.store.DropCatalog(o.Name); err != nil {
					return notices, fmt.Errorf("forget %s in storage: %w", o.Name, err)
				}
			}
		}
	}
	return notices, nil
}

// release stops what runs for a dropped object.
func (e *Engine) release(o *catalog.Object) {
	e.mu.Lock()
	view := e.views[o.Name]
	table := e.tables[o.Name]
	sink := e.sinks[o.Name]
	delete(e.sinks, o.Name)
	delete(e.delivering, o.Name)
	delete(e.views, o.Name)
	delete(e.tables, o.Name)
	source := e.sources[o.Name]
	delete(e.sources, o.Name)
	e.mu.Unlock()
	if source != nil {
		// A connector that serves the source (HTTP ingest) lets go of it.
		if c, ok := source.source.(io.Closer); ok {
			if err := c.Close(); err != nil {
				e.logger.Warn("closing source", "source", o.Name, "err", err)
			}
		}
	}
	if view != nil {
		e.stop(view.flowRuntime)
	}
	if sink != nil {
		e.stop(sink.flowRuntime)
		if err := sink.sink.Close(); err != nil {
			e.logger.Warn("closing sink", "sink", o.Name, "err", err)
		}
	}
	if table != nil {
		if table.stopFeed != nil {
			table.stopFeed()
		}
		if c, ok := table.feed.(io.Closer); ok {
			if err := c.Close(); err != nil {
				e.logger.Warn("closing the connector of a table", "table", o.Name, "err", err)
			}
		}
		// A connector that holds resources outside (a replication slot,
		// which keeps WAL) releases them when its table is dropped.
		if d, ok := table.feed.(interface{ Drop(context.Context) error }); ok {
			ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
			if err := d.Drop(ctx); err != nil {
				e.logger.Warn("releasing what the connector of a dropped table holds", "table", o.Name, "err", err)
			}
			cancel()
		}
		_ = e.coord.Change(func() error {
			e.coord.RemoveRoot(table.store)
			return nil
		})
	}
}
