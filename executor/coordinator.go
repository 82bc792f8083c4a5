package executor

import (
	"context"
	"log/slog"
	"sync"
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
}

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
	e := max(c.epoch+1, uint64(time.Now().UnixMilli()))
	b := Barrier{Epoch: e}
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
	for _, s := range c.members {
		if s != nil {
			s.Commit(e)
		}
	}
	c.epoch = e
	c.readMu.Unlock()
	for _, w := range waiters {
		close(w)
	}
	return nil
}
