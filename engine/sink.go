package engine

import (
	"context"
	"fmt"
	"strings"

	"github.com/sluicedb/sluice/catalog"
	"github.com/sluicedb/sluice/connectors"
	"github.com/sluicedb/sluice/executor"
	"github.com/sluicedb/sluice/parser"
	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/planner"
)

// sinkWriter adapts a connector's sink to the executor.
type sinkWriter struct{ sink connectors.Sink }

func (w sinkWriter) Write(ctx context.Context, c executor.Chunk) error {
	b := connectors.SinkBatch{Record: c.Rec}
	if c.Ops != nil {
		b.Kinds = make([]connectors.RowKind, len(c.Ops))
		for i, op := range c.Ops {
			if op == executor.Delete {
				b.Kinds[i] = connectors.RowDelete
			}
		}
	}
	return w.sink.Write(ctx, b)
}

func (w sinkWriter) Commit(ctx context.Context, epoch uint64) error {
	return w.sink.Commit(ctx, epoch)
}

func (e *Engine) createSink(ctx context.Context, s *parser.CreateSink) error {
	e.ddl.Lock()
	defer e.ddl.Unlock()
	if err := checkSchemaName(s.Name); err != nil {
		return err
	}
	if found, err := e.exists(s.Name.Name, s.IfNotExists); found || err != nil {
		return err
	}
	var v *planner.View
	var err error
	if s.From != nil {
		if err := checkSchemaName(*s.From); err != nil {
			return err
		}
		v, err = e.planner.PlanSinkFrom(s.From.Name)
	} else {
		v, err = e.planner.PlanView(s.Query.GetSelectStmt(), s.EmitOnWindowClose)
	}
	if err != nil {
		return err
	}

	opts := map[string]string{}
	for _, o := range s.Options {
		opts[strings.ToLower(o.Key)] = o.Value
	}
	name, ok := opts["connector"]
	if !ok {
		return pgerror.New(pgerror.InvalidParameterValue, "CREATE SINK needs WITH (connector = '...')").
			WithHint("Sink connectors: %s.", e.sinkConnectorNames())
	}
	conn, ok := e.opts.Connectors.Lookup(name)
	if !ok || conn.Sink == nil {
		return pgerror.New(pgerror.InvalidParameterValue, "unknown sink connector %q", name).
			WithHint("Sink connectors: %s.", e.sinkConnectorNames())
	}
	sinkType := opts["type"]
	if sinkType == "" {
		sinkType = "append-only"
	}
	var key []string
	if pk := opts["primary_key"]; pk != "" {
		for _, k := range strings.Split(pk, ",") {
			key = append(key, strings.TrimSpace(k))
		}
	}
	for _, k := range []string{"connector", "type", "primary_key"} {
		delete(opts, k)
	}
	if !contains(conn.Sink.Types, sinkType) {
		return pgerror.New(pgerror.InvalidParameterValue, "sink connector %q supports type %s, not %q", name, strings.Join(conn.Sink.Types, " or "), sinkType)
	}
	pk, err := planner.CheckSinkType(v, sinkType, key)
	if err != nil {
		return err
	}
	validated, err := conn.SinkOptions().Validate(opts)
	if err != nil {
		return err
	}
	cfg := connectors.SinkConfig{Name: s.Name.Name, Schema: v.Schema, Type: sinkType, PrimaryKey: pk, Options: validated, Alloc: e.alloc}
	if s.Format != nil {
		if conn.Sink.Encodes == nil {
			return pgerror.New(pgerror.InvalidParameterValue, "sink connector %q takes no FORMAT clause", name)
		}
		if !contains(conn.Sink.Encodes, s.Format.Encode) {
			return pgerror.New(pgerror.InvalidParameterValue, "sink connector %q does not support ENCODE %s; it supports %s", name, s.Format.Encode, strings.Join(conn.Sink.Encodes, ", "))
		}
		fo := map[string]string{}
		for _, o := range s.Format.Options {
			fo[strings.ToLower(o.Key)] = o.Value
		}
		cfg.Format = connectors.Format{Format: s.Format.Format, Encode: s.Format.Encode, Options: fo}
	} else if conn.Sink.Encodes != nil {
		return pgerror.New(pgerror.InvalidParameterValue, "sink connector %q needs a FORMAT clause, e.g. FORMAT PLAIN ENCODE %s", name, conn.Sink.Encodes[0])
	}
	sink, err := conn.Sink.NewSink(ctx, cfg)
	if err != nil {
		if !e.replaying {
			return err
		}
		// At start-up the outside system may be down: the sink connects
		// at its first write instead, and reports failures until then.
		e.logger.Warn("sink unreachable at start-up, retrying at each write", "sink", cfg.Name, "err", err)
		newSink := conn.Sink.NewSink
		sink = &reconnectingSink{open: func(ctx context.Context) (connectors.Sink, error) { return newSink(ctx, cfg) }}
	}
	obj := &catalog.Object{Kind: catalog.Sink, Name: s.Name.Name, Schema: v.Schema, SQL: s.Text(), DependsOn: v.DependsOn,
		Connector: name, Options: validated, Query: s.QueryText, EmitOnWindowClose: s.EmitOnWindowClose, SinkType: sinkType, PrimaryKey: pk}
	if s.Format != nil {
		obj.Format = s.Format.Format + " " + s.Format.Encode
	}
	stats := executor.NewSinkStats()
	op := executor.NewSinkOperator(sinkWriter{sink}, v.Schema, sinkType == "upsert", pk, e.alloc, stats)
	flow, err := e.startFlow(obj, v.Plan, op, nil)
	if err != nil {
		sink.Close()
		return err
	}
	rt := &sinkRuntime{flowRuntime: flow, obj: obj, sink: sink, stats: stats}
	if err := e.addObject(obj); err != nil {
		e.stop(flow)
		sink.Close()
		return err
	}
	e.mu.Lock()
	e.sinks[obj.Name] = rt
	e.mu.Unlock()
	return nil
}

func (e *Engine) sinkConnectorNames() string {
	var names []string
	for _, c := range e.opts.Connectors.All() {
		if c.Sink != nil {
			names = append(names, c.Name)
		}
	}
	return strings.Join(names, ", ")
}

// reconnectingSink stands in for a sink whose system was unreachable when
// Sluice started: every Write tries to create the real sink until one
// succeeds. The rows of a failed write are counted as failed in SHOW SINKS.
type reconnectingSink struct {
	open func(context.Context) (connectors.Sink, error)
	sink connectors.Sink
}

func (r *reconnectingSink) Write(ctx context.Context, b connectors.SinkBatch) error {
	if r.sink == nil {
		s, err := r.open(ctx)
		if err != nil {
			return fmt.Errorf("sink not connected: %w", err)
		}
		r.sink = s
	}
	return r.sink.Write(ctx, b)
}

func (r *reconnectingSink) Commit(ctx context.Context, epoch uint64) error {
	if r.sink == nil {
		return fmt.Errorf("sink not connected")
	}
	return r.sink.Commit(ctx, epoch)
}

func (r *reconnectingSink) Close() error {
	if r.sink == nil {
		return nil
	}
	return r.sink.Close()
}
