package engine

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/sluicedb/sluice/connectors"
	"github.com/sluicedb/sluice/executor"
	"github.com/sluicedb/sluice/storage"
)

// sinkStatePrefix precedes a sink's name in a checkpoint's parts: its
// undelivered epochs.
const sinkStatePrefix = "sink:"

// checkpointStats are what /metrics and the logs report.
type checkpointStats struct {
	mu            sync.Mutex
	recoveredFrom uint64 // the epoch of the checkpoint Open resumed from
	lastEpoch     uint64
	lastAt        time.Time
	lastBytes     int64
	lastDuration  time.Duration
	taken         int64
	failed        int64
	lastError     string
	lastErr       error // lastError's error, for errors.Is
}

func (s *checkpointStats) recovered(epoch uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recoveredFrom, s.lastEpoch = epoch, epoch
}

// recoveredEpoch is the epoch of the checkpoint Open resumed from, 0 if none.
func (s *checkpointStats) recoveredEpoch() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.recoveredFrom
}

func (s *checkpointStats) succeeded(epoch uint64, bytes int64, took time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastEpoch, s.lastAt, s.lastBytes, s.lastDuration = epoch, time.Now(), bytes, took
	s.taken++
	s.lastError, s.lastErr = "", nil
}

func (s *checkpointStats) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failed++
	s.lastError, s.lastErr = err.Error(), err
}

// stateSpace names the keyed state of operator op of dataflow flow in the
// checkpoint's storage.
func stateSpace(flow string, op int) string { return flow + "\x00" + strconv.Itoa(op) }

// persistCheckpoint makes a checkpoint durable: the state every dataflow and
// table gathered at the barrier, and every sink's undelivered epochs up to
// it, in one synced write. Only then may the sinks deliver those epochs.
func (e *Engine) persistCheckpoint(ctx context.Context, cp *executor.Checkpoint) error {
	start := time.Now()
	parts := cp.Parts()
	e.mu.RLock()
	sinks := make(map[string]*deliverer, len(e.delivering))
	for name, d := range e.delivering {
		sinks[name] = d
	}
	e.mu.RUnlock()
	for name, d := range sinks {
		state, err := d.saveState(cp.Epoch)
		if err != nil {
			e.checkpoints.fail(err)
			return err
		}
		parts[sinkStatePrefix+name] = state
	}
	var size int64
	for _, p := range parts {
		size += int64(len(p))
	}
	deltas := cp.Deltas()
	changes := e.keyedChanges(deltas)
	for _, d := range deltas {
		size += int64(d.Delta.Len()) // entries rather than bytes: close enough for a report
	}
	if err := e.store.SaveCheckpoint(cp.Epoch, parts, changes); err != nil {
		e.keepUnwritten(deltas)
		err = fmt.Errorf("write the checkpoint to %s: %w (views and sources go on; sinks wait until a checkpoint succeeds)", e.opts.DataDir, err)
		e.checkpoints.fail(err)
		return err
	}
	e.unwritten = nil
	if e.budget != nil {
		e.budget.Durable(cp.Epoch)
		e.relieveMemory()
	}
	for _, d := range sinks {
		d.checkpointed(cp.Epoch)
	}
	// What the checkpoint holds may now be let go of by the systems that
	// keep messages until told.
	for flow, positions := range cp.Positions() {
		for _, p := range positions {
			if p.Position == "" {
				continue
			}
			if r := e.acking.get(flow, p.ID); r != nil {
				if err := r.Acknowledge(ctx, connectors.Position(p.Position)); err != nil {
					e.logger.Warn("acknowledging what a checkpoint holds", "view", flow, "split", p.ID, "err", err)
				}
			}
		}
	}
	e.checkpoints.succeeded(cp.Epoch, size, time.Since(start))
	return nil
}

// keyedChanges turns the operators' deltas into the writes of their keyed
// spaces, each preceded by what failed checkpoints could not write of it.
func (e *Engine) keyedChanges(deltas []executor.FlowDelta) []storage.KeyedChanges {
	changes := make([]storage.KeyedChanges, len(deltas))
	for i, d := range deltas {
		space := stateSpace(d.Flow, d.Op)
		c := storage.KeyedChanges{Space: space, All: d.Delta.All, Each: d.Delta.Each}
		if earlier := e.unwritten[space]; len(earlier) > 0 && !d.Delta.All {
			current := d.Delta
			c.All = earlier[0].All
			c.Each = func(fn func(key, value []byte) error) error {
				for _, u := range earlier {
					if err := u.Each(fn); err != nil {
						return err
					}
				}
				return current.Each(fn)
			}
		}
		changes[i] = c
	}
	return changes
}

// keepUnwritten keeps the deltas of a checkpoint that could not be written
// for the next one. A delta of all entries replaces what came before it; the
// spaces of dropped views are forgotten.
func (e *Engine) keepUnwritten(deltas []executor.FlowDelta) {
	kept := make(map[string][]*executor.StateDelta, len(deltas))
	for _, d := range deltas {
		space := stateSpace(d.Flow, d.Op)
		if d.Delta.All {
			kept[space] = []*executor.StateDelta{d.Delta.Clone()}
		} else {
			kept[space] = append(e.unwritten[space], d.Delta.Clone())
		}
	}
	e.unwritten = kept
}

// Checkpoint takes a checkpoint now and returns once it is durable (or
// failed). Without a data directory there is nothing to write.
func (e *Engine) Checkpoint(ctx context.Context) error {
	if e.store == nil {
		return nil
	}
	before := e.coord.Epoch()
	e.coord.RequestCheckpoint()
	if err := e.coord.Flush(ctx); err != nil {
		return err
	}
	e.checkpoints.mu.Lock()
	defer e.checkpoints.mu.Unlock()
	if e.checkpoints.lastEpoch <= before {
		if e.checkpoints.lastErr != nil {
			return fmt.Errorf("checkpoint failed: %w", e.checkpoints.lastErr)
		}
		return fmt.Errorf("no checkpoint was taken")
	}
	return nil
}

// CheckpointStatus is what the checkpoints have done so far.
type CheckpointStatus struct {
	// Taken and Failed count the checkpoints written and those that could
	// not be.
	Taken, Failed int64
	// LastEpoch is the epoch of the last durable checkpoint (the recovered
	// one until a new one is taken); LastBytes its size and LastDuration the
	// time its write took.
	LastEpoch    uint64
	LastBytes    int64
	LastDuration time.Duration
	LastError    string
}

// Checkpoints reports what the checkpoints have done.
func (e *Engine) Checkpoints() CheckpointStatus {
	s := &e.checkpoints
	s.mu.Lock()
	defer s.mu.Unlock()
	return CheckpointStatus{Taken: s.taken, Failed: s.failed, LastEpoch: s.lastEpoch,
		LastBytes: s.lastBytes, LastDuration: s.lastDuration, LastError: s.lastError}
}

// Freshness is how long recent epochs took from reading their oldest data
// to making it visible.
func (e *Engine) Freshness() *executor.FreshnessStats { return e.coord.Freshness() }

// Shutdown takes a last checkpoint, so that a restart resumes exactly where
// the engine stopped (and keeps what was accepted since the previous one),
// then closes the engine. The engine is closed even if the checkpoint fails.
func (e *Engine) Shutdown(ctx context.Context) error {
	err := e.Checkpoint(ctx)
	e.Close()
	return err
}
