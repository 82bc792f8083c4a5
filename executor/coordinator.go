package executor

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Coordinator closes epochs. Every interval (or at once when someone calls
// Flush) it injects a barrier into every root input, waits until the barrier
// has passed every dataflow, and then commits the epoch in every store
// together. Readers that hold the read lock see all views at the same epoch.
//
// The topology (roots, dataflows, stores) only changes between epochs, under
// Change, so that a dataflow never waits for a barrier that was injected
// before it existed.
type Coordinator struct {
	interval time.Duration
	logger   *slog.Logger

	mu      sync.Mutex // held for a whole epoch, and by Change
	epoch   uint64
	roots   map[any]func(context.Context, Barrier) error
	members map[*Dataflow]*Store
	acks    chan ack

	readMu sync.RWMutex

	flushMu  sync.Mutex
	waiters  []chan struct{}
	flushReq chan struct{}

	// Checkpoints: every checkpointEvery, an epoch's barrier gathers the
	// state of every dataflow and root, and persist makes it durable once
	// the epoch has committed.
	checkpointEvery time.Duration
	persist         func(context.Context, *Checkpoint) error
	lastCheckpoint  time.Time     // when the last checkpoint's epoch started
	checkpointCost  time.Duration // how long it took, barrier to durable
	checkpointReq   atomic.Bool

	freshness FreshnessStats
}

// Freshness is the freshness of recent epochs.
func (c *Coordinator) Freshness() *FreshnessStats { return &c.freshness }

// SetCheckpointing makes a barrier a checkpoint at most every interval; once
// the epoch has committed, persist is called with the gathered state before
// the next epoch starts. Call it before Run.
func (c *Coordinator) SetCheckpointing(interval time.Duration, persist func(context.Context, *Checkpoint) error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.checkpointEvery, c.persist = interval, persist
}

// Resume continues the epochs after epoch, the last one of a recovered
// checkpoint, so that epochs keep increasing across restarts.
func (c *Coordinator) Resume(epoch uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch = max(c.epoch, epoch)
}

// RequestCheckpoint makes the next epoch a checkpoint whatever the interval
// (a clean shutdown, a test, a sink whose queue is full of epochs waiting
// for one). It does not wait, so an operator may call it while handling a
// barrier.
func (c *Coordinator) RequestCheckpoint() { c.checkpointReq.Store(true) }

// NewCoordinator closes an epoch every interval.
func NewCoordinator(interval time.Duration, logger *slog.Logger) *Coordinator {
	return &Coordinator{
		interval: interval,
		logger:   logger,
		roots:    make(map[any]func(context.Context, Barrier) error),
		members:  make(map[*Dataflow]*Store),
		acks:     make(chan ack, 1024),
		flushReq: make(chan struct{}, 1),
	}
}

// Change runs fn between epochs; fn may add and remove roots and members.
func (c *Coordinator) Change(fn func() error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return fn()
}

// AddRoot registers an input that receives every barrier (call inside Change).
func (c *Coordinator) AddRoot(key any, inject func(context.Context, Barrier) error) {
	c.roots[key] = inject
}

// RemoveRoot unregisters an input (call inside Change).
func (c *Coordinator) RemoveRoot(key any) { delete(c.roots, key) }

// AddMember registers a dataflow whose acknowledgement every epoch waits for,
// and the store it commits (call inside Change).
func (c *Coordinator) AddMember(d *Dataflow, s *Store) { c.members[d] = s }

// RemoveMember unregisters a dataflow (call inside Change).
func (c *Coordinator) RemoveMember(d *Dataflow) { delete(c.members, d) }

type ack struct {
	from  *Dataflow
	epoch uint64
}

// Ack is called by a dataflow when a barrier has passed all its operators.
// Only the acknowledgements of members count, each once.
func (c *Coordinator) Ack(d *Dataflow, epoch uint64) { c.acks <- ack{from: d, epoch: epoch} }

// ReadLock holds off commits so that a reader sees one epoch of every store.
func (c *Coordinator) ReadLock()   { c.readMu.RLock() }
func (c *Coordinator) ReadUnlock() { c.readMu.RUnlock() }

// Epoch returns the last committed epoch.
func (c *Coordinator) Epoch() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.epoch
}

// Flush returns once an epoch that started after the call has committed:
// everything accepted before the call is then visible in every view.
func (c *Coordinator) Flush(ctx context.Context) error {
	ch := make(chan struct{})
	c.flushMu.Lock()
	c.waiters = append(c.waiters, ch)
	c.flushMu.Unlock()
	select {
	case c.flushReq <- struct{}{}:
	default:
	}
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Run closes epochs until ctx is cancelled.
func (c *Coordinator) Run(ctx context.Context) {
	t := time.NewTicker(c.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-c.flushReq:
		}
		if err := c.runEpoch(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			c.logger.Error("epoch failed", "err", err)
		}
	}
}

func (c *Coordinator) runEpoch(ctx context.Context) error {
	c.flushMu.Lock()
	waiters := c.waiters
	c.waiters = nil
	c.flushMu.Unlock()

	c.mu.Lock()
	defer c.mu.Unlock()
	// Epochs are milliseconds of wall time, kept increasing, so that the ts
	// of a change (SUBSCRIBE) says when it became visible.
	now := time.Now()
	e := max(c.epoch+1, uint64(now.UnixMilli()))
	b := Barrier{Epoch: e, Freshness: &Freshness{}}
	// A checkpoint costs time in every dataflow (saving state) and on disk;
	// the next starts at least five times as long after the last as it took, so that
	// however large the state grows, checkpoints take at most a fifth of
	// the time (Flink's minimum pause between checkpoints, made adaptive).
	due := max(c.checkpointEvery, 5*c.checkpointCost)
	if c.persist != nil && (c.checkpointReq.Swap(false) || now.Sub(c.lastCheckpoint) >= due) {
		b.Checkpoint = NewCheckpoint(e)
		c.lastCheckpoint = now
	}
	for _, inject := range c.roots {
		if err := inject(ctx, b); err != nil {
			return err
		}
	}
	waiting := make(map[*Dataflow]bool, len(c.members))
	for d := range c.members {
		waiting[d] = true
	}
	for len(waiting) > 0 {
		select {
		case got := <-c.acks:
			if got.epoch == e {
				delete(waiting, got.from)
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	c.readMu.Lock()
	for d, s := range c.members {
		if s != nil {
			if err := s.Commit(e); err != nil {
				c.logger.Error("commit of a view's epoch", "view", d.Name, "epoch", e, "err", err)
			}
		}
	}
	c.epoch = e
	c.readMu.Unlock()
	if oldest := b.Freshness.oldest.Load(); oldest != 0 {
		c.freshness.record(time.Since(time.Unix(0, oldest)))
	}
	// Waiters are released after the checkpoint is written, so that a
	// flush that asked for a checkpoint returns once it is durable.
	defer func() {
		for _, w := range waiters {
			close(w)
		}
	}()
	if b.Checkpoint != nil {
		// A checkpoint that cannot be written (a full disk) is reported and
		// tried again at the next interval; nothing is lost meanwhile, since the
		// previous checkpoint and the sources still hold everything after it.
		// The keyed operators' changes that it could not write are the
		// persist function's to keep for the next one.
		err := c.persist(ctx, b.Checkpoint)
		c.checkpointCost = time.Since(now)
		if err != nil {
			return fmt.Errorf("checkpoint of epoch %d: %w", e, err)
		}
	}
	return nil
}
