package executor

import (
	"bytes"
	"context"
	"math"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/bits-and-blooms/bloom/v3"
)

// SpillStore is the durable copy of one keyed operator's entries: what the
// last checkpoint wrote of it. An operator that spills drops entries from
// memory once a checkpoint holds them, and reads them back from here when
// it needs them again, so that its state can outgrow the memory budget.
type SpillStore interface {
	// Get calls fn with the stored value of key and reports whether there
	// is one. The value is valid only during the call.
	Get(key []byte, fn func(value []byte) error) (bool, error)
	// GetSorted calls fn(i, value) for each of keys, which are in
	// ascending order, that is stored: Get for a batch, at a fraction of
	// the cost per key.
	GetSorted(keys [][]byte, fn func(i int, value []byte) error) error
	// Scan calls fn with every stored entry, in key order. The slices are
	// valid only during the call.
	Scan(fn func(key, value []byte) error) error
}

// Spiller is a keyed operator that can keep only part of its entries in
// memory.
type Spiller interface {
	KeyedState
	// EnableSpill lets the operator evict entries that a durable
	// checkpoint holds, when budget asks, and read them back from store. It
	// reports false if the operator's state cannot spill (a windowed
	// aggregation frees its state at the watermark and is not meant to
	// outgrow memory). Call it before the dataflow runs.
	EnableSpill(store SpillStore, budget *MemoryBudget) bool
	// RecoverSpilled starts the operator from its stored entries without
	// reading them into memory: it reads each from the store when needed.
	RecoverSpilled() error
}

// MemoryBudget is how much memory the state of all dataflows may take, and
// the signals that make spilling operators evict. The engine raises the
// eviction round when the heap outgrows the budget after a durable
// checkpoint; each operator evicts once per round, at its next barrier (a
// view's rows at once), only entries unchanged since a checkpoint that is
// durable.
type MemoryBudget struct {
	// Limit is the budget in bytes.
	Limit int64

	durable  atomic.Uint64 // epoch of the last durable checkpoint
	round    atomic.Uint64 // eviction round, raised under pressure
	fraction atomic.Uint64 // float64 bits: the share of clean entries to evict
	evicted  atomic.Int64  // entries evicted so far
	reloaded atomic.Int64  // entries read back from the store so far

	mu sync.Mutex
	// relief is closed when the sources may read again; nil while they may.
	relief chan struct{}
}

// Hold makes WaitForRoom block until Release: the heap is over the budget
// and eviction, which needs a durable checkpoint, has to catch up.
func (b *MemoryBudget) Hold() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.relief == nil {
		b.relief = make(chan struct{})
	}
}

// Release lets the sources read again.
func (b *MemoryBudget) Release() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.relief != nil {
		close(b.relief)
		b.relief = nil
	}
}

// Held reports whether the sources are held back.
func (b *MemoryBudget) Held() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.relief != nil
}

// WaitForRoom returns once the sources may read: at once, unless the budget
// is held.
func (b *MemoryBudget) WaitForRoom(ctx context.Context) error {
	b.mu.Lock()
	relief := b.relief
	b.mu.Unlock()
	if relief == nil {
		return nil
	}
	select {
	case <-relief:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// NewMemoryBudget returns a budget of limit bytes.
func NewMemoryBudget(limit int64) *MemoryBudget { return &MemoryBudget{Limit: limit} }

// Durable records that the checkpoint of epoch is written.
func (b *MemoryBudget) Durable(epoch uint64) { b.durable.Store(epoch) }

// Evict starts an eviction round: each spilling operator evicts fraction
// (0–1] of its entries that a durable checkpoint holds.
func (b *MemoryBudget) Evict(fraction float64) {
	b.fraction.Store(math.Float64bits(min(max(fraction, 0.05), 1)))
	b.round.Add(1)
}

// Evicted and Reloaded count the entries dropped from memory and read back.
func (b *MemoryBudget) Evicted() int64  { return b.evicted.Load() }
func (b *MemoryBudget) Reloaded() int64 { return b.reloaded.Load() }

// spill is the part of a spilling operator that decides when it may evict.
type spill struct {
	store  SpillStore
	budget *MemoryBudget
	// saved is the epoch of the operator's last SaveChanges: entries not
	// changed since are in the store once that checkpoint is durable.
	saved uint64
	// round is the last eviction round the operator took part in.
	round uint64
	// spilled is set once entries may be in the store and not in memory:
	// only then does a missing entry need a look in the store, and only if
	// stored says it may be there.
	spilled bool
	stored  storedKeys
}

// storedKeys is a Bloom filter of the keys that may be in the store and not
// in memory: every key evicted, and every key stored when an operator
// starts from a checkpoint without reading its entries. Most keys an
// operator looks for and does not hold are new ones; the filter answers
// those without a lookup in the store, which costs microseconds. It grows
// as a scalable filter does: when one filter is full, another twice its
// size takes the next keys, so none is ever rebuilt.
type storedKeys struct {
	filters []*bloom.BloomFilter
	added   uint // keys added to the last filter
	room    uint // keys the last filter is sized for
}

// storedKeysFalsePositives is the share of new keys that still cost a
// lookup in the store, per filter.
const storedKeysFalsePositives = 0.01

func (k *storedKeys) add(key []byte) {
	if k.added == k.room {
		k.room = max(2*k.room, 1<<16)
		k.filters = append(k.filters, bloom.NewWithEstimates(k.room, storedKeysFalsePositives))
		k.added = 0
	}
	k.filters[len(k.filters)-1].Add(key)
	k.added++
}

func (k *storedKeys) mayHave(key []byte) bool {
	for _, f := range k.filters {
		if f.Test(key) {
			return true
		}
	}
	return false
}

// evictShare returns the share of clean entries to evict now, 0 for none.
func (s *spill) evictShare() float64 {
	if s == nil || s.saved == 0 {
		return 0
	}
	round := s.budget.round.Load()
	if round == s.round || s.budget.durable.Load() < s.saved {
		return 0
	}
	s.round = round
	return math.Float64frombits(s.budget.fraction.Load())
}

// evictCount is how many of n clean entries a share evicts.
func evictCount(n int, share float64) int {
	return min(n, int(math.Ceil(float64(n)*share)))
}

// sortedCandidates returns the distinct keys of keys, in ascending order, for
// which want (which must not change what it answers) says yes, reusing buf.
func sortedCandidates(buf [][]byte, keys [][]byte, want func([]byte) bool) [][]byte {
	buf = buf[:0]
	for _, k := range keys {
		if want(k) {
			buf = append(buf, k)
		}
	}
	slices.SortFunc(buf, bytes.Compare)
	return slices.CompactFunc(buf, bytes.Equal)
}
