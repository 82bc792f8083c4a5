package engine

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/sluicedb/sluice/catalog"
	"github.com/sluicedb/sluice/executor"
	"github.com/sluicedb/sluice/parser"
	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/planner"
	"github.com/sluicedb/sluice/types"
)

// subscription is a running SUBSCRIBE: a dataflow over a view (or over a
// query) ending in a Tap. Its rows are (ts, diff, columns...): first the
// current contents, then every change, each with the epoch (milliseconds of
// wall time) in which it became visible.
type subscription struct {
	e     *Engine
	flow  *flowRuntime
	tap   *executor.Tap
	cols  types.Schema
	queue []arrow.Record
	rows  int
}

// subscribeColumns are the columns a subscription adds before the view's.
var subscribeColumns = types.Schema{{Name: "ts", Type: types.Int8}, {Name: "diff", Type: types.Int8}}

// subscribeSchema returns the columns a subscription produces.
func (e *Engine) subscribeSchema(s *parser.Subscribe) (types.Schema, error) {
	v, err := e.planSubscribe(s)
	if err != nil {
		return nil, err
	}
	return append(append(types.Schema{}, subscribeColumns...), v.Schema...), nil
}

func (e *Engine) planSubscribe(s *parser.Subscribe) (*planner.View, error) {
	var v *planner.View
	var err error
	if s.Name != nil {
		if err := checkSchemaName(*s.Name); err != nil {
			return nil, err
		}
		o, ok := e.cat.Get(s.Name.Name)
		if !ok {
			return nil, pgerror.New(pgerror.UndefinedTable, "relation %q does not exist", s.Name.Name)
		}
		if o.Kind == catalog.Sink {
			return nil, pgerror.New(pgerror.WrongObjectType, "cannot subscribe to sink %q", o.Name)
		}
		v, err = e.planner.PlanSinkFrom(s.Name.Name)
	} else {
		v, err = e.planner.PlanView(s.Query.GetSelectStmt(), false, s.Temporal...)
	}
	return v, err
}

func (e *Engine) subscribe(ctx context.Context, s *parser.Subscribe) (*subscription, error) {
	v, err := e.planSubscribe(s)
	if err != nil {
		return nil, err
	}
	tap := executor.NewTap()
	obj := &catalog.Object{Name: "subscribe", Schema: v.Schema}
	flow, err := e.startFlow(obj, v.Plan, tap, nil)
	if err != nil {
		return nil, err
	}
	cols := append(append(types.Schema{}, subscribeColumns...), v.Schema...)
	return &subscription{e: e, flow: flow, tap: tap, cols: cols}, nil
}

func (s *subscription) Columns() []types.Column { return s.cols }
func (s *subscription) Notices() []error        { return nil }
func (s *subscription) Tag() string             { return "SUBSCRIBE" }

// Next waits for the next epoch's changes.
func (s *subscription) Next(ctx context.Context) (arrow.Record, error) {
	for len(s.queue) == 0 {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case b := <-s.tap.Out():
			for _, c := range b.Chunks {
				s.queue = append(s.queue, s.withChange(b.Epoch, c))
				c.Release()
			}
		}
	}
	rec := s.queue[0]
	s.queue = s.queue[1:]
	s.rows += int(rec.NumRows())
	return rec, nil
}

// tryNext returns the next batch of changes if one is ready, nil otherwise.
func (s *subscription) tryNext() arrow.Record {
	if len(s.queue) == 0 {
		select {
		case b := <-s.tap.Out():
			for _, c := range b.Chunks {
				s.queue = append(s.queue, s.withChange(b.Epoch, c))
				c.Release()
			}
		default:
			return nil
		}
	}
	if len(s.queue) == 0 {
		return nil
	}
	rec := s.queue[0]
	s.queue = s.queue[1:]
	return rec
}

// withChange prepends ts and diff to a chunk's rows.
func (s *subscription) withChange(epoch uint64, c executor.Chunk) arrow.Record {
	n := c.Len()
	ts := array.NewInt64Builder(s.e.alloc)
	diff := array.NewInt64Builder(s.e.alloc)
	ts.Reserve(n)
	diff.Reserve(n)
	for i := 0; i < n; i++ {
		ts.UnsafeAppend(int64(epoch))
		if c.OpAt(i) == executor.Delete {
			diff.UnsafeAppend(-1)
		} else {
			diff.UnsafeAppend(1)
		}
	}
	cols := []arrow.Array{ts.NewArray(), diff.NewArray()}
	ts.Release()
	diff.Release()
	for _, col := range c.Rec.Columns() {
		col.Retain()
		cols = append(cols, col)
	}
	rec := array.NewRecord(s.cols.Arrow(), cols, int64(n))
	for _, col := range cols {
		col.Release()
	}
	return rec
}

// copyOut is a subscription that the client reads as COPY ... TO STDOUT
// data: psql prints its rows as they come.
type copyOut struct{ *subscription }

// CopyOut marks the result for the wire server.
func (copyOut) CopyOut() bool { return true }

// Close ends the subscription.
func (s *subscription) Close() {
	s.e.stop(s.flow)
	for _, r := range s.queue {
		r.Release()
	}
	s.queue = nil
	// Drain what the tap handed out before it stopped.
	for {
		select {
		case b := <-s.tap.Out():
			for _, c := range b.Chunks {
				c.Release()
			}
		default:
			return
		}
	}
}
