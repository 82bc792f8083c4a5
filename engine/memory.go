package engine

import (
	"context"
	"runtime"
	"runtime/metrics"
	"time"

	"github.com/sluicedb/sluice/storage"
)

// spillSpace is the stored keyed state of one operator, which a spilling
// operator reads back what it evicted from.
type spillSpace struct {
	db    *storage.DB
	space string
}

func (s spillSpace) Get(key []byte, fn func(value []byte) error) (bool, error) {
	return s.db.CheckpointEntry(s.space, key, fn)
}

func (s spillSpace) GetSorted(keys [][]byte, fn func(i int, value []byte) error) error {
	return s.db.CheckpointEntriesOf(s.space, keys, fn)
}

func (s spillSpace) Scan(fn func(key, value []byte) error) error {
	return s.db.CheckpointEntries(s.space, fn)
}

// The memory limit is kept by marks on the live heap (as the last garbage
// collection measured it), in shares of the limit. Above the high mark a
// checkpoint is taken at once and, once it is durable, an eviction round
// brings the spilling state down to the low mark; what is left of the limit
// is for garbage not yet collected, Pebble's block cache and the batches in
// flight. Above the hold mark the sources stop reading until eviction has
// brought the heap under the high mark again: state can only be evicted once
// a checkpoint holds it, and a checkpoint must not fall behind the rows
// that grow the state.
const (
	heapHighMark = 0.5
	heapLowMark  = 0.35
	heapHoldMark = 0.75
	// memoryCheckInterval is how often the heap is looked at.
	memoryCheckInterval = 50 * time.Millisecond
	// forcedGCInterval is how often, at most, a collection is forced to
	// measure the heap while the sources are held.
	forcedGCInterval = time.Second
	// stalledRounds is how many eviction rounds that evict nothing, with
	// the sources held, make the hold pointless: the state over the limit
	// cannot spill (joins, Top-N, windows, tables).
	stalledRounds = 3
)

// liveHeap returns the live heap in bytes and the count of garbage
// collections so far.
func liveHeap() (live, cycles uint64) {
	samples := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/gc/cycles/total:gc-cycles"}}
	metrics.Read(samples)
	return samples[0].Value.Uint64(), samples[1].Value.Uint64()
}

// watchMemory asks for a checkpoint when the heap is over the high mark
// and holds the sources back over the hold mark, until ctx ends.
func (e *Engine) watchMemory(ctx context.Context) {
	t := time.NewTicker(memoryCheckInterval)
	defer t.Stop()
	defer e.budget.Release()
	var lastCycles uint64
	var lastForced time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		live, cycles := liveHeap()
		if e.budget.Held() && cycles == lastCycles && time.Since(lastForced) >= forcedGCInterval {
			// Held sources allocate nothing, so no collection would
			// measure what eviction freed: the hold would last forever.
			runtime.GC()
			lastForced = time.Now()
			live, cycles = liveHeap()
		}
		lastCycles = cycles
		limit := float64(e.budget.Limit)
		switch {
		case float64(live) <= heapHighMark*limit:
			e.budget.Release()
			e.spillStalled.Store(false)
			continue
		case float64(live) > heapHoldMark*limit && !e.spillStalled.Load():
			e.budget.Hold()
		}
		e.coord.RequestCheckpoint()
	}
}

// relieveMemory starts an eviction round when the live heap is over the
// high mark, and evicts from the views' rows at once (the other operators
// evict at their next barrier). It runs after a checkpoint is durable, so
// that what is evicted is in the store. Rounds that evict nothing while the
// sources are held give the sources back, with a warning.
func (e *Engine) relieveMemory() {
	live, cycles := liveHeap()
	limit := float64(e.budget.Limit)
	if cycles == e.evictedAtGC || float64(live) <= heapHighMark*limit {
		return
	}
	e.evictedAtGC = cycles
	if evicted := e.budget.Evicted(); evicted != e.evictedBefore || !e.budget.Held() {
		e.evictedBefore, e.idleRounds = evicted, 0
	} else if e.idleRounds++; e.idleRounds == stalledRounds {
		e.spillStalled.Store(true)
		e.budget.Release()
		e.logger.Warn("the memory limit is exceeded by state that cannot be kept on disk (joins, Top-N, windows, tables); sources go on reading",
			"live_heap_bytes", live, "memory_limit_bytes", e.budget.Limit)
	}
	e.budget.Evict(1 - heapLowMark*limit/float64(live))
	e.mu.RLock()
	defer e.mu.RUnlock()
	for _, v := range e.views {
		v.store.MaybeEvict()
	}
}

// SpillStatus is what the memory budget has done: the entries of operator
// and view state dropped from memory once a checkpoint held them, and those
// read back from the store since.
type SpillStatus struct {
	Limit, Evicted, Reloaded int64
}

// Spill reports the memory budget's work; zero without a memory limit.
func (e *Engine) Spill() SpillStatus {
	if e.budget == nil {
		return SpillStatus{}
	}
	return SpillStatus{Limit: e.budget.Limit, Evicted: e.budget.Evicted(), Reloaded: e.budget.Reloaded()}
}
