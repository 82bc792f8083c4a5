package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sluicedb/sluice/catalog"
	"github.com/sluicedb/sluice/connectors"
	"github.com/sluicedb/sluice/executor"
	"github.com/sluicedb/sluice/expr"
	"github.com/sluicedb/sluice/pgwire"
	"github.com/sluicedb/sluice/planner"
	"github.com/sluicedb/sluice/storage"
)

func pgwireClient(user string) pgwire.ClientInfo {
	return pgwire.ClientInfo{User: user, Database: "sluice"}
}

// Options configure an Engine.
type Options struct {
	// Connectors lists the connectors CREATE SOURCE can use.
	Connectors *connectors.Registry
	// BarrierInterval is how often an epoch closes (freshness of reads).
	BarrierInterval time.Duration
	Logger          *slog.Logger
	// Version is Sluice's version, reported by version().
	Version string
	// DataDir, when set, is where the catalog, the tables' rows and the
	// checkpoints are kept; Open recovers them from there. Empty keeps
	// everything in memory.
	DataDir string
	// CheckpointInterval is how often the state of every view and the
	// position of every source are written to DataDir (default 1 s). A
	// restart resumes from the last checkpoint.
	CheckpointInterval time.Duration
	// MemoryLimit, when positive, is how many bytes of memory the state of
	// the views may take. With a DataDir, aggregation groups and view rows
	// beyond it are dropped from memory once a checkpoint holds them and
	// read back from there when needed.
	MemoryLimit int64
}

// defaultCheckpointInterval is Options.CheckpointInterval's default.
const defaultCheckpointInterval = time.Second

// Engine is one Sluice instance.
type Engine struct {
	opts    Options
	logger  *slog.Logger
	alloc   memory.Allocator
	cat     *catalog.Catalog
	planner *planner.Planner
	coord   *executor.Coordinator

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	store *storage.DB // nil without a data directory
	// budget, with a data directory and a memory limit, lets the state of
	// the views outgrow memory.
	budget *executor.MemoryBudget
	// evictedAtGC is the count of garbage collections when the last
	// eviction round started: the live heap is not measured again before
	// the next.
	evictedAtGC uint64
	// evictedBefore and idleRounds tell eviction rounds that evict nothing
	// while the sources are held; spillStalled is set when such rounds
	// have released the hold, until the heap is under the high mark.
	evictedBefore int64
	idleRounds    int
	spillStalled  atomic.Bool
	// replaying is set while Open re-runs the stored catalog: the objects
	// are already stored.
	replaying bool
	// catchUps send the restored views over tables what changed in the
	// tables since the checkpoint, once Open has restored every object.
	catchUps []func() error
	// recoverOID is the OID the object being replayed had.
	recoverOID uint32
	// restore holds the parts of the checkpoint being recovered, by name,
	// while Open replays the catalog; nil otherwise.
	restore map[string][]byte
	// checkpoints are the counters of the checkpoints taken.
	checkpoints checkpointStats
	// unwritten holds, by keyed state space, the changes of checkpoints
	// that could not be written, oldest first: the operators have moved on,
	// so the next checkpoint writes them before its own. Only the
	// coordinator's goroutine, which persists checkpoints, uses it.
	unwritten map[string][]*executor.StateDelta
	// recovered is closed once Open has created every stored object again.
	// Readers wait for it: a view restored from the checkpoint must be
	// attached to the view it reads before that one moves past the
	// checkpoint, or the changes in between would never reach it.
	recovered chan struct{}

	ddl     sync.Mutex // one DDL statement at a time
	mu      sync.RWMutex
	sources map[string]*sourceRuntime
	tables  map[string]*tableRuntime
	views   map[string]*viewRuntime
	sinks   map[string]*sinkRuntime
	// delivering lists every sink's deliverer from before its dataflow
	// starts, so that a checkpoint never misses a sink's undelivered epochs.
	delivering map[string]*deliverer
	// acking lists the open readers that wait for checkpoints to
	// acknowledge what they read.
	acking ackingReaders
}

// ackingReaders are the open connectors.CheckpointedReaders, by dataflow
// name and split.
type ackingReaders struct {
	mu sync.Mutex
	by map[string]map[string]connectors.CheckpointedReader
}

func (a *ackingReaders) add(flow, split string, r connectors.CheckpointedReader) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.by == nil {
		a.by = map[string]map[string]connectors.CheckpointedReader{}
	}
	if a.by[flow] == nil {
		a.by[flow] = map[string]connectors.CheckpointedReader{}
	}
	a.by[flow][split] = r
}

func (a *ackingReaders) remove(flow, split string, r connectors.CheckpointedReader) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.by[flow][split] == r {
		delete(a.by[flow], split)
	}
}

// get returns the reader of a dataflow's split, if it waits for checkpoints.
func (a *ackingReaders) get(flow, split string) connectors.CheckpointedReader {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.by[flow][split]
}

// sourceRuntime is a source and its readings: each view over the source
// reads it on its own (as RisingWave's non-shared sources do), so each has
// its own counters.
type sourceRuntime struct {
	obj    *catalog.Object
	source connectors.Source
	// procTime is the column AS PROCTIME() (-1 for none): the connector's
	// rows lack it, and each batch gets the time it was read there.
	procTime    int
	wmExpr      expr.Expr // nil without WATERMARK
	idleTimeout time.Duration
	readings    readings
}

// optIdleTimeout is the source option, common to every connector, after
// which a split without rows stops holding the watermark back.
const (
	optIdleTimeout     = "watermark.idle.timeout"
	defaultIdleTimeout = 5 * time.Second
)

// readings are the counters of every view's reading of one input (a source,
// or an APPEND ONLY table with a watermark).
type readings struct {
	mu sync.Mutex
	by map[*executor.Dataflow]*executor.SourceStats
}

// adopt records the counters of one view's reading.
func (r *readings) adopt(d *executor.Dataflow, st *executor.SourceStats) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.by == nil {
		r.by = map[*executor.Dataflow]*executor.SourceStats{}
	}
	r.by[d] = st
}

func (r *readings) stop(d *executor.Dataflow) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.by, d)
}

// readingSummary is what SHOW SOURCES reports. Every reading reads the same
// stream, so the one that is furthest behind stands for the input: its
// counters are what every view over the input has at least seen (once rows
// equals what was written, every view has read it all), and a reading that
// fails shows in status.
type readingSummary struct {
	rows, bytes, late, errs int64
	backlog                 int64
	hasBacklog              bool
	watermark               int64
	status, lastError       string
	errors                  []string
}

func (r *readings) summary() readingSummary {
	r.mu.Lock()
	defer r.mu.Unlock()
	sum := readingSummary{watermark: executor.NoWatermark, status: "idle: no materialized view reads it"}
	var slowest *executor.SourceStats
	for _, st := range r.by {
		if slowest == nil || st.Rows.Load() < slowest.Rows.Load() {
			slowest = st
		}
		if status, _ := st.Status(); strings.HasPrefix(status, "retrying") {
			sum.status = status
		}
	}
	if slowest == nil {
		return sum
	}
	sum.rows, sum.bytes = slowest.Rows.Load(), slowest.Bytes.Load()
	sum.late, sum.errs = slowest.LateRows.Load(), slowest.ErrorRows.Load()
	sum.backlog, sum.hasBacklog = slowest.Backlog()
	sum.watermark = slowest.Watermark.Load()
	status, lastErr := slowest.Status()
	if !strings.HasPrefix(sum.status, "retrying") {
		sum.status = status
	}
	sum.lastError, sum.errors = lastErr, slowest.Errors()
	return sum
}

type tableRuntime struct {
	obj      *catalog.Object
	store    *executor.TableStore
	wmExpr   expr.Expr
	readings readings // of an APPEND ONLY table with a WATERMARK
	// For a table fed by a connector: its reading's counters, and what
	// stops the readers.
	feed      connectors.Source
	feedStats *executor.SourceStats
	stopFeed  func()
}

// flowRuntime is a running dataflow: a view's or a sink's.
type flowRuntime struct {
	flow     *executor.Dataflow
	ctx      context.Context // ends when the flow is stopped
	cancel   context.CancelFunc
	detach   func() // unsubscribes from the source, table or view it reads
	finished sync.WaitGroup
}

type viewRuntime struct {
	*flowRuntime
	obj   *catalog.Object
	mat   *executor.Materialize
	store *executor.Store
}

type sinkRuntime struct {
	*flowRuntime
	obj   *catalog.Object
	sink  *deliverer
	stats *executor.SinkStats
}

// New starts an engine without stored state (opts.DataDir is not read; use
// Open for that); it runs until ctx is cancelled or Close is called.
func New(ctx context.Context, opts Options) *Engine {
	e := newEngine(ctx, opts)
	close(e.recovered)
	return e
}

func newEngine(ctx context.Context, opts Options) *Engine {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.BarrierInterval <= 0 {
		opts.BarrierInterval = 10 * time.Millisecond
	}
	if opts.Connectors == nil {
		opts.Connectors = connectors.NewRegistry()
	}
	ctx, cancel := context.WithCancel(ctx)
	cat := catalog.New()
	e := &Engine{
		opts: opts, logger: opts.Logger, alloc: memory.DefaultAllocator,
		cat: cat, planner: planner.New(cat),
		coord:   executor.NewCoordinator(opts.BarrierInterval, opts.Logger),
		ctx:     ctx,
		cancel:  cancel,
		sources: map[string]*sourceRuntime{},
		tables:  map[string]*tableRuntime{},
		views:   map[string]*viewRuntime{},
		sinks:   map[string]*sinkRuntime{},

		delivering: map[string]*deliverer{},
		recovered:  make(chan struct{}),
	}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		e.coord.Run(ctx)
	}()
	return e
}

// Open starts an engine over the state in opts.DataDir: every stored object
// is created again, in its original order, tables with their rows, and every
// view and sink starts reading its inputs afresh.
func Open(ctx context.Context, opts Options) (*Engine, error) {
	e := newEngine(ctx, opts)
	defer close(e.recovered)
	if opts.DataDir == "" {
		return e, nil
	}
	db, err := storage.Open(opts.DataDir)
	if err != nil {
		e.Close()
		return nil, err
	}
	e.store = db
	if opts.MemoryLimit > 0 {
		e.budget = executor.NewMemoryBudget(opts.MemoryLimit)
	}
	entries, err := db.Catalog()
	if err != nil {
		e.Close()
		return nil, fmt.Errorf("read the catalog in %s: %w", opts.DataDir, err)
	}
	epoch, parts, err := db.Checkpoint()
	if err != nil {
		e.Close()
		return nil, fmt.Errorf("read the last checkpoint in %s: %w (if it is damaged, move the directory away and start with an empty --data-dir)", opts.DataDir, err)
	}
	if epoch > 0 {
		e.restore = parts
		e.coord.Resume(epoch)
		e.checkpoints.recovered(epoch)
	}
	s := e.NewSession(pgwireClient("recovery"))
	e.replaying = true
	defer func() { e.replaying = false }()
	for _, ent := range entries {
		e.recoverOID = ent.OID
		r, err := s.Exec(ctx, ent.SQL)
		if err != nil {
			e.Close()
			return nil, fmt.Errorf("recover %s from %s: %w (statement: %s)", ent.Name, opts.DataDir, err, ent.SQL)
		}
		r.Close()
	}
	e.recoverOID = 0
	e.restore = nil
	// Only now that every view is back and attached do the restored views
	// over tables get what changed since the checkpoint: a view over one of
	// them must be there to see what that changes.
	for _, catchUp := range e.catchUps {
		if err := catchUp(); err != nil {
			e.Close()
			return nil, fmt.Errorf("recover from %s: %w", opts.DataDir, err)
		}
	}
	e.catchUps = nil
	interval := opts.CheckpointInterval
	if interval <= 0 {
		interval = defaultCheckpointInterval
	}
	e.coord.SetCheckpointing(interval, e.persistCheckpoint)
	if e.budget != nil {
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			e.watchMemory(e.ctx)
		}()
	}
	e.logger.Info("recovered", "objects", len(entries), "checkpoint_epoch", epoch, "data_dir", opts.DataDir)
	return e, nil
}

// Close stops every dataflow and reader, waits for them, and closes the
// state.
func (e *Engine) Close() {
	e.cancel()
	e.wg.Wait()
	e.mu.RLock()
	var feeds []func()
	for _, t := range e.tables {
		if t.stopFeed != nil {
			feeds = append(feeds, t.stopFeed)
		}
	}
	e.mu.RUnlock()
	// A table's feed writes to the store: it must be over before the store
	// closes (Pebble panics on a write after Close).
	for _, stop := range feeds {
		stop()
	}
	e.mu.RLock()
	var flows []*flowRuntime
	for _, v := range e.views {
		flows = append(flows, v.flowRuntime)
	}
	for _, s := range e.sinks {
		flows = append(flows, s.flowRuntime)
	}
	e.mu.RUnlock()
	for _, f := range flows {
		f.finished.Wait()
	}
	if e.store != nil {
		if err := e.store.Close(); err != nil {
			e.logger.Warn("closing the state", "err", err)
		}
		e.store = nil
	}
}

// persist stores a new object's statement, unless it is being recovered.
func (e *Engine) persist(o *catalog.Object) error {
	if e.store == nil || e.replaying {
		return nil
	}
	if err := e.store.AddCatalog(o.Name, o.OID, o.SQL); err != nil {
		return fmt.Errorf("store %s: %w", o.Name, err)
	}
	return nil
}

// addObject adds o to the catalog (with its old OID when recovering) and
// stores it.
func (e *Engine) addObject(o *catalog.Object) error {
	if e.replaying {
		o.OID = e.recoverOID
	}
	if err := e.cat.Add(o); err != nil {
		return err
	}
	if err := e.persist(o); err != nil {
		_, _ = e.cat.Drop(o.Name, o.Kind, true)
		return err
	}
	return nil
}

// Catalog is the engine's catalog.
func (e *Engine) Catalog() *catalog.Catalog { return e.cat }

// Flush waits until everything accepted so far is visible in every view.
func (e *Engine) Flush(ctx context.Context) error { return e.coord.Flush(ctx) }

// readSplit feeds one split of a source into a view's dataflow until ctx
// ends. A failing reader is reopened at its last position with backoff, so
// an outage of the outside system loses nothing that was read.
func (e *Engine) readSplit(ctx context.Context, src *sourceRuntime, stats *executor.SourceStats, split connectors.Split, index int, pos connectors.Position, flow *executor.Dataflow, activity *splitActivity, unread []bool) {
	select {
	case <-e.recovered:
	case <-ctx.Done():
		return
	}
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		r, err := src.source.Open(ctx, split, pos)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			stats.SetStatus(fmt.Sprintf("retrying: %v", err))
			e.logger.Warn("source open failed", "source", src.obj.Name, "split", split.ID, "err", err)
			if !sleep(ctx, backoff) {
				return
			}
			backoff = min(2*backoff, 10*time.Second)
			continue
		}
		stats.SetStatus("running")
		if s, ok := r.(connectors.ColumnSkipper); ok && unread != nil {
			s.SkipColumns(unread)
		}
		acking, _ := r.(connectors.CheckpointedReader)
		if acking != nil {
			e.acking.add(flow.Name, split.ID, acking)
		}
		err = e.pump(ctx, src, stats, r, split.ID, index, flow, &pos, activity)
		if acking != nil {
			e.acking.remove(flow.Name, split.ID, acking)
		}
		r.Close()
		switch {
		case ctx.Err() != nil:
			return
		case errors.Is(err, io.EOF):
			stats.SetStatus("finished")
			// A finished split must not hold the watermark back.
			activity.finish(index)
			_ = flow.Send(ctx, executor.Message{Kind: executor.MsgIdle, Split: index})
			return
		case err != nil:
			stats.SetStatus(fmt.Sprintf("retrying: %v", err))
			e.logger.Warn("source read failed", "source", src.obj.Name, "split", split.ID, "err", err)
			if !sleep(ctx, backoff) {
				return
			}
			backoff = min(2*backoff, 10*time.Second)
		}
	}
}

// pump sends what a reader reads to the dataflow, each batch with the
// split's position after it, so that the dataflow knows the position of
// what it has processed when a checkpoint passes.
func (e *Engine) pump(ctx context.Context, src *sourceRuntime, stats *executor.SourceStats, r connectors.Reader, splitID string, index int, flow *executor.Dataflow, pos *connectors.Position, activity *splitActivity) error {
	for {
		if e.budget != nil {
			// Over the memory limit, reading waits for eviction.
			if err := e.budget.WaitForRoom(ctx); err != nil {
				return err
			}
		}
		b, err := r.Next(ctx)
		if err != nil {
			return err
		}
		countBatch(stats, r, index, b)
		if b.Record != nil && b.Record.NumRows() > 0 {
			activity.touch(index)
		}
		if b.Position != "" {
			*pos = b.Position
		}
		if b.Record != nil && b.Record.NumRows() == 0 {
			b.Record.Release()
			b.Record = nil
		}
		if b.Record == nil && b.Position == "" {
			continue
		}
		// A batch of only bad records still moves the position.
		now := time.Now()
		m := executor.Message{Split: index, SplitID: splitID, Position: string(b.Position), ReadAt: now.UnixNano()}
		if b.Record != nil {
			if src.procTime >= 0 {
				b.Record = withProcTime(b.Record, src.procTime, src.obj.Schema.Arrow(), now, e.alloc)
			}
			m.Chunk = executor.Chunk{Rec: b.Record}
		}
		if err := flow.Send(ctx, m); err != nil {
			return err
		}
	}
}

// withProcTime returns rec with a column inserted at col holding now for
// every row: the processing time of a column AS PROCTIME(), read here at the
// edge. It releases rec.
func withProcTime(rec arrow.Record, col int, schema *arrow.Schema, now time.Time, alloc memory.Allocator) arrow.Record {
	defer rec.Release()
	n := int(rec.NumRows())
	b := array.NewTimestampBuilder(alloc, schema.Field(col).Type.(*arrow.TimestampType))
	defer b.Release()
	b.Reserve(n)
	ts := arrow.Timestamp(now.UnixMicro())
	for i := 0; i < n; i++ {
		b.UnsafeAppend(ts)
	}
	times := b.NewArray()
	defer times.Release()
	cols := make([]arrow.Array, 0, rec.NumCols()+1)
	cols = append(cols, rec.Columns()[:col]...)
	cols = append(cols, times)
	cols = append(cols, rec.Columns()[col:]...)
	return array.NewRecord(schema, cols, int64(n))
}

// countBatch records in stats what a reader's batch says besides its rows:
// the records it skipped, the bytes it consumed, and the backlog behind it
// when the reader knows it.
func countBatch(stats *executor.SourceStats, r connectors.Reader, index int, b connectors.Batch) {
	if backlog, ok := r.(connectors.BacklogReader); ok {
		if n, ok := backlog.Backlog(); ok {
			stats.SetBacklog(index, n)
		}
	}
	for _, re := range b.Errors {
		stats.RecordError(fmt.Sprintf("%s: %v", re.Where, re.Err))
	}
	stats.Bytes.Add(b.Bytes)
}

// splitActivity records when each split of a dataflow last produced rows.
// Splits may be added while it is watched (new Kafka partitions).
type splitActivity struct {
	mu    sync.Mutex
	state []splitState
}

type splitState struct {
	last     time.Time
	idle     bool // an idle message has been sent since the last rows
	finished bool
}

// add registers split i as active from now.
func (a *splitActivity) add(i int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for len(a.state) <= i {
		a.state = append(a.state, splitState{last: time.Now()})
	}
}

func (a *splitActivity) touch(i int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.state[i].last, a.state[i].idle = time.Now(), false
}

func (a *splitActivity) finish(i int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.state[i].finished = true
}

// becameIdle returns the splits that have had no rows for timeout at now,
// marking them as told.
func (a *splitActivity) becameIdle(now time.Time, timeout time.Duration) []int {
	a.mu.Lock()
	defer a.mu.Unlock()
	var idle []int
	for i := range a.state {
		st := &a.state[i]
		if !st.finished && !st.idle && now.Sub(st.last) >= timeout {
			st.idle = true
			idle = append(idle, i)
		}
	}
	return idle
}

// watchIdleSplits tells the dataflow about splits that have produced nothing
// for timeout, so that they stop holding its watermark back. Time is read
// here, at the edge, never inside an operator.
func watchIdleSplits(ctx context.Context, timeout time.Duration, a *splitActivity, flow *executor.Dataflow) {
	t := time.NewTicker(max(timeout/4, 10*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			for _, i := range a.becameIdle(now, timeout) {
				if err := flow.Send(ctx, executor.Message{Kind: executor.MsgIdle, Split: i}); err != nil {
					return
				}
			}
		}
	}
}

// discoverer is implemented by sources whose splits can grow (Kafka topics
// gain partitions); the engine lists their splits again at this interval.
type discoverer interface {
	DiscoveryInterval() time.Duration
}

// readSource runs a reader per split of src for one dataflow, and readers
// for splits that appear later. resume lists, by index, the splits of a
// dataflow restored from a checkpoint and where each resumes; they keep
// their index, and splits not in it start where the source's options say.
// unread marks the columns the dataflow does not read (plan.Scan.Unread).
func (e *Engine) readSource(ctx context.Context, src *sourceRuntime, stats *executor.SourceStats, splits []connectors.Split, resume []executor.SplitPosition, flow *executor.Dataflow, wg *sync.WaitGroup, unread []bool) {
	activity := &splitActivity{}
	var mu sync.Mutex // guards index and started: splits may be started by two goroutines
	index := map[string]int{}
	from := map[string]connectors.Position{}
	for i, sp := range resume {
		index[sp.ID], from[sp.ID] = i, connectors.Position(sp.Position)
	}
	started := map[string]bool{}
	start := func(sp connectors.Split) {
		mu.Lock()
		defer mu.Unlock()
		if started[sp.ID] {
			return
		}
		started[sp.ID] = true
		i, known := index[sp.ID]
		if !known {
			i = len(index)
			index[sp.ID] = i
		}
		activity.add(i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.readSplit(ctx, src, stats, sp, i, from[sp.ID], flow, activity, unread)
		}()
	}
	for _, sp := range splits {
		start(sp)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		watchIdleSplits(ctx, src.idleTimeout, activity, flow)
	}()
	if len(splits) == 0 {
		// The source could not be listed (it was down when Sluice started):
		// list it again with backoff until it answers.
		wg.Add(1)
		go func() {
			defer wg.Done()
			backoff := 100 * time.Millisecond
			for sleep(ctx, backoff) {
				current, err := src.source.Splits(ctx)
				if err == nil && len(current) > 0 {
					for _, sp := range current {
						start(sp)
					}
					return
				}
				backoff = min(2*backoff, 10*time.Second)
			}
		}()
	}
	d, ok := src.source.(discoverer)
	if !ok || d.DiscoveryInterval() <= 0 {
		return
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(d.DiscoveryInterval())
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			current, err := src.source.Splits(ctx)
			if err != nil {
				e.logger.Warn("listing splits failed", "source", src.obj.Name, "err", err)
				continue
			}
			for _, sp := range current {
				start(sp)
			}
		}
	}()
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
