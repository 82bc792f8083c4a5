package engine

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sluicedb/sluice/catalog"
	"github.com/sluicedb/sluice/connectors"
	"github.com/sluicedb/sluice/executor"
	"github.com/sluicedb/sluice/parser"
	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/planner"
)

// deliverer adapts a connector's sink to the executor and carries it
// through outages. The dataflow hands it each epoch's changes; a goroutine of
// its own delivers the epochs in order, and retries one that fails — it
// reopens the sink with backoff, writes the whole epoch again and commits
// again — until it is confirmed. Nothing is lost; a message that reached the
// outside before a failure may be written twice (at-least-once).
//
// Epochs waiting for delivery are held in memory, up to maxQueuedRows rows;
// beyond that the dataflow waits (backpressure reaches the sources, nothing
// is dropped). So a short outage of the outside system does not hold up
// views and inserts, and a long one slows them rather than losing rows.
// Time and retries live here, at the edge, not in the operator.
type deliverer struct {
	name   string
	open   func(context.Context) (connectors.Sink, error)
	stats  *executor.SinkStats
	logger *slog.Logger

	current []connectors.SinkBatch // the open epoch

	mu      sync.Mutex
	cond    *sync.Cond
	queue   []sinkEpoch
	queued  int64 // rows in queue
	stopped bool
	// With checkpoints, an epoch is delivered only once a checkpoint covers
	// it (its epoch ≤ durable): after a crash the views resume from that
	// checkpoint, so nothing delivered is produced again, and the epochs
	// still queued are in the checkpoint to be delivered after the restart.
	gated   bool
	durable uint64
	// wantCheckpoint asks for a checkpoint soon; nil without checkpoints.
	wantCheckpoint func()

	sink connectors.Sink // used only by the delivery goroutine (and Close)
	// recorded is the last epoch the open sink reported as committed, for
	// sinks that are connectors.EpochRecorder.
	recorded uint64
	asked    bool // recorded holds the open sink's answer
	done     chan struct{}
}

type sinkEpoch struct {
	epoch   uint64
	batches []connectors.SinkBatch
	rows    int64
}

// maxQueuedRows bounds the rows a sink holds while its system is slow or
// down.
const maxQueuedRows = 1 << 20

func newDeliverer(name string, sink connectors.Sink, open func(context.Context) (connectors.Sink, error), stats *executor.SinkStats, logger *slog.Logger) *deliverer {
	d := &deliverer{name: name, open: open, stats: stats, logger: logger, sink: sink, done: make(chan struct{})}
	d.cond = sync.NewCond(&d.mu)
	return d
}

// run delivers queued epochs until ctx ends.
func (d *deliverer) run(ctx context.Context) {
	defer close(d.done)
	stop := context.AfterFunc(ctx, func() {
		d.mu.Lock()
		d.stopped = true
		d.cond.Broadcast()
		d.mu.Unlock()
	})
	defer stop()
	for {
		d.mu.Lock()
		for (len(d.queue) == 0 || d.gated && d.queue[0].epoch > d.durable) && !d.stopped {
			d.cond.Wait()
		}
		if d.stopped {
			d.mu.Unlock()
			return
		}
		ep := d.queue[0]
		d.mu.Unlock()

		d.deliverWithRetry(ctx, ep)

		d.mu.Lock()
		d.queue = d.queue[1:]
		d.queued -= ep.rows
		d.cond.Broadcast()
		d.mu.Unlock()
		for _, b := range ep.batches {
			b.Record.Release()
		}
	}
}

func (d *deliverer) deliverWithRetry(ctx context.Context, ep sinkEpoch) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := d.deliver(ctx, ep)
		if err == nil {
			d.stats.Rows.Add(ep.rows)
			d.stats.Epoch.Store(ep.epoch)
			d.stats.SetStatus("running", "")
			return
		}
		d.stats.SetStatus("retrying", err.Error())
		d.stats.Retries.Add(1)
		if d.sink != nil {
			if cerr := d.sink.Close(); cerr != nil {
				d.logger.Warn("closing a failed sink", "sink", d.name, "err", cerr)
			}
			d.sink = nil
		}
		d.logger.Warn("sink delivery failed, retrying", "sink", d.name, "err", err, "backoff", backoff)
		if !sleep(ctx, backoff) {
			return
		}
		backoff = min(2*backoff, 10*time.Second)
	}
}

// deliver opens the sink if needed, writes the epoch and commits it. A sink
// that records its epochs is asked, whenever it is (re)opened, which epoch
// it has: an epoch it already holds (committed before a failure or a crash
// that hid the answer) is not written again.
func (d *deliverer) deliver(ctx context.Context, ep sinkEpoch) error {
	if d.sink == nil {
		s, err := d.open(ctx)
		if err != nil {
			return fmt.Errorf("reconnect: %w", err)
		}
		d.sink, d.asked = s, false
	}
	if !d.asked {
		d.recorded = 0
		rec, records := d.sink.(connectors.EpochRecorder)
		if records {
			var err error
			if d.recorded, err = rec.LastCommitted(ctx); err != nil {
				return fmt.Errorf("read the last committed epoch: %w", err)
			}
		}
		d.asked = true
		if d.wantCheckpoint != nil {
			d.mu.Lock()
			d.gated = needsCheckpoints(d.sink)
			d.mu.Unlock()
		}
	}
	if ep.epoch <= d.recorded {
		return nil
	}
	for _, b := range ep.batches {
		if err := d.sink.Write(ctx, b); err != nil {
			return err
		}
	}
	return d.sink.Commit(ctx, ep.epoch)
}

// Write takes changes of the open epoch.
func (d *deliverer) Write(_ context.Context, c executor.Chunk) error {
	b := connectors.SinkBatch{Record: c.Rec}
	if c.Ops != nil {
		b.Kinds = make([]connectors.RowKind, len(c.Ops))
		for i, op := range c.Ops {
			if op == executor.Delete {
				b.Kinds[i] = connectors.RowDelete
			}
		}
	}
	c.Rec.Retain()
	d.current = append(d.current, b)
	return nil
}

// Commit queues the epoch for delivery, waiting while the queue is full.
func (d *deliverer) Commit(ctx context.Context, epoch uint64) error {
	ep := sinkEpoch{epoch: epoch, batches: d.current}
	for _, b := range ep.batches {
		ep.rows += b.Record.NumRows()
	}
	d.current = nil
	stop := context.AfterFunc(ctx, func() {
		d.mu.Lock()
		d.cond.Broadcast()
		d.mu.Unlock()
	})
	defer stop()
	d.mu.Lock()
	defer d.mu.Unlock()
	for d.queued > 0 && d.queued+ep.rows > maxQueuedRows && !d.stopped && ctx.Err() == nil {
		if d.gated && d.queue[0].epoch > d.durable {
			// Nothing queued can go before the next checkpoint, which
			// needs this barrier to pass: waiting would never end. Hold
			// the epoch beyond the bound and ask for that checkpoint now.
			if d.wantCheckpoint != nil {
				d.wantCheckpoint()
			}
			break
		}
		d.cond.Wait()
	}
	if d.stopped || ctx.Err() != nil {
		for _, b := range ep.batches {
			b.Record.Release()
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("sink %s is stopped", d.name)
	}
	d.queue = append(d.queue, ep)
	d.queued += ep.rows
	d.cond.Broadcast()
	return nil
}

// needsCheckpoints reports whether a sink gains from being given only
// checkpointed epochs: one that records the epochs it has, or whose outside
// system tells epochs apart by number. Others are given each epoch at once.
func needsCheckpoints(s connectors.Sink) bool {
	_, records := s.(connectors.EpochRecorder)
	_, stable := s.(connectors.StableEpochs)
	return records || stable
}

// checkpointed lets epochs up to epoch be delivered: a checkpoint holding
// them is durable.
func (d *deliverer) checkpointed(epoch uint64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.durable = max(d.durable, epoch)
	d.cond.Broadcast()
}

// saveState writes the epochs up to epoch that are not yet delivered, for a
// checkpoint of that epoch.
func (d *deliverer) saveState(epoch uint64) ([]byte, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var eps []sinkEpoch
	for _, ep := range d.queue {
		if ep.epoch <= epoch {
			eps = append(eps, ep)
		}
	}
	var w executor.StateWriter
	w.Uint(uint64(len(eps)))
	for _, ep := range eps {
		w.Uint(ep.epoch)
		w.Uint(uint64(len(ep.batches)))
		for _, b := range ep.batches {
			rec, err := executor.EncodeRecord(b.Record)
			if err != nil {
				return nil, fmt.Errorf("sink %s: %w", d.name, err)
			}
			w.Blob(rec)
			kinds := make([]byte, len(b.Kinds))
			for i, k := range b.Kinds {
				kinds[i] = byte(k)
			}
			w.Blob(kinds)
		}
	}
	return w.Bytes(), nil
}

// loadState queues the epochs a checkpoint held as undelivered; the
// checkpoint is durable, so they may go out at once.
func (d *deliverer) loadState(b []byte, epoch uint64, alloc memory.Allocator) error {
	r := executor.NewStateReader(b)
	n := r.Len()
	var eps []sinkEpoch
	for i := 0; i < n && r.Err() == nil; i++ {
		ep := sinkEpoch{epoch: r.Uint()}
		nb := r.Len()
		for j := 0; j < nb && r.Err() == nil; j++ {
			rec, err := executor.DecodeRecord(r.Blob(), alloc)
			if err != nil {
				return fmt.Errorf("sink %s: undelivered epoch %d: %w", d.name, ep.epoch, err)
			}
			batch := connectors.SinkBatch{Record: rec}
			if kinds := r.Blob(); len(kinds) > 0 {
				batch.Kinds = make([]connectors.RowKind, len(kinds))
				for k, v := range kinds {
					batch.Kinds[k] = connectors.RowKind(v)
				}
			}
			ep.batches = append(ep.batches, batch)
			ep.rows += rec.NumRows()
		}
		eps = append(eps, ep)
	}
	if err := r.Done(); err != nil {
		return fmt.Errorf("sink %s: undelivered epochs: %w", d.name, err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, ep := range eps {
		d.queue = append(d.queue, ep)
		d.queued += ep.rows
	}
	d.durable = max(d.durable, epoch)
	d.cond.Broadcast()
	return nil
}

// Pending is the number of rows accepted but not yet delivered.
func (d *deliverer) Pending() int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.queued
}

// Close waits for the delivery goroutine (whose context must be done),
// releases what is held and closes the sink.
func (d *deliverer) Close() error {
	<-d.done
	for _, b := range d.current {
		b.Record.Release()
	}
	d.current = nil
	for _, ep := range d.queue {
		for _, b := range ep.batches {
			b.Record.Release()
		}
	}
	d.queue = nil
	if d.sink == nil {
		return nil
	}
	return d.sink.Close()
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
		v, err = e.planner.PlanView(s.Query.GetSelectStmt(), s.EmitOnWindowClose, s.Temporal...)
	}
	if err != nil {
		return err
	}

	opts := withOptions(s.Options)
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
	if cfg.Format, err = formatClause("sink connector "+strconv.Quote(name), s.Format, conn.Sink.Encodes); err != nil {
		return err
	}
	stats := executor.NewSinkStats()
	newSink := conn.Sink.NewSink
	sink, err := newSink(ctx, cfg)
	if err != nil {
		if !e.replaying {
			return err
		}
		// At start-up the outside system may be down: the sink connects at
		// its first delivery instead, and says so in SHOW SINKS meanwhile.
		e.logger.Warn("sink unreachable at start-up, retrying", "sink", cfg.Name, "err", err)
		stats.SetStatus("retrying", err.Error())
	}
	d := newDeliverer(cfg.Name, sink, func(ctx context.Context) (connectors.Sink, error) { return newSink(ctx, cfg) }, stats, e.logger)
	if e.store != nil {
		// Only a sink that records its epochs, or whose system tells
		// epochs apart, gains from waiting for the checkpoint; others
		// deliver at once, and a restart may repeat what was in flight.
		d.gated = needsCheckpoints(sink) || sink == nil && conn.Sink.Guarantee == "exactly-once"
		d.wantCheckpoint = e.coord.RequestCheckpoint
		if state, ok := e.restore[sinkStatePrefix+cfg.Name]; ok {
			if err := d.loadState(state, e.checkpoints.recoveredEpoch(), e.alloc); err != nil {
				if sink != nil {
					sink.Close()
				}
				return err
			}
		}
	}
	e.mu.Lock()
	e.delivering[cfg.Name] = d
	e.mu.Unlock()
	forget := func() {
		e.mu.Lock()
		delete(e.delivering, cfg.Name)
		e.mu.Unlock()
	}
	obj := &catalog.Object{Kind: catalog.Sink, Name: s.Name.Name, Schema: v.Schema, SQL: s.Text(), DependsOn: v.DependsOn,
		Connector: name, Options: validated, Query: s.QueryText, EmitOnWindowClose: s.EmitOnWindowClose, SinkType: sinkType, PrimaryKey: pk}
	obj.Format = formatName(s.Format)
	op := executor.NewSinkOperator(d, v.Schema, sinkType == "upsert", pk, e.alloc, stats)
	flow, err := e.startFlow(obj, v.Plan, op, nil)
	if err != nil {
		forget()
		if sink != nil {
			sink.Close()
		}
		return err
	}
	flow.finished.Add(1)
	go func() {
		defer flow.finished.Done()
		d.run(flow.ctx)
	}()
	rt := &sinkRuntime{flowRuntime: flow, obj: obj, sink: d, stats: stats}
	if err := e.addObject(obj); err != nil {
		forget()
		e.stop(flow)
		d.Close()
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
