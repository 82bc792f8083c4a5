package executor

import (
	"context"
	"fmt"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sluicedb/sluice/types"
)

// Store holds the rows of a materialized view as a multiset: each distinct
// row (encoded with the row codec) with its multiplicity. A multiset takes any
// changelog without needing a key: an insert adds one, a delete removes one.
//
// Changes are staged per epoch and become visible to readers only when the
// coordinator commits the epoch, so that a read sees every view at the same
// consistent cut.
//
// With spilling enabled the rows may outgrow memory: committed then holds
// only part of them, over the rows of the last durable checkpoint in the
// spill store. A row in committed is authoritative (0 marks one deleted
// since); a row not in it is as the store has it.
type Store struct {
	schema types.Schema
	enc    *RowEncoder
	dec    *RowDecoder

	mu        sync.RWMutex
	committed map[string]int64
	size      int64
	spill     *spill
	missing   [][]byte // rows to read back, reused (guarded by mu)

	stageMu sync.Mutex
	staging []delta            // changes of the open epoch
	sealed  map[uint64][]delta // changes of epochs closed by a barrier, not yet committed

	// touched lists the rows changed by the epochs committed since the last
	// checkpoint (guarded by mu), when tracking for incremental checkpoints.
	tracking bool
	touched  []string
}

type delta struct {
	row  string
	diff int64
}

// NewStore returns an empty store for rows of schema.
func NewStore(schema types.Schema) *Store {
	cols := allColumns(len(schema))
	return &Store{
		schema:    schema,
		enc:       NewExactRowEncoder(cols, schema.Types()),
		dec:       NewRowDecoder(schema.Types()),
		committed: make(map[string]int64),
		sealed:    make(map[uint64][]delta),
	}
}

// Stage records the changes of c in the open epoch.
func (s *Store) Stage(c Chunk) {
	rows := s.enc.Encode(c.Rec)
	s.stageMu.Lock()
	defer s.stageMu.Unlock()
	for i, r := range rows {
		d := int64(1)
		if c.OpAt(i) == Delete {
			d = -1
		}
		s.staging = append(s.staging, delta{row: string(r), diff: d})
	}
}

// Seal closes the open epoch.
func (s *Store) Seal(epoch uint64) {
	s.stageMu.Lock()
	defer s.stageMu.Unlock()
	if len(s.staging) > 0 {
		s.sealed[epoch] = s.staging
		s.staging = nil
	}
}

// Commit makes the changes of every sealed epoch up to epoch visible.
func (s *Store) Commit(epoch uint64) error {
	s.stageMu.Lock()
	var ready [][]delta
	for e, ds := range s.sealed {
		if e <= epoch {
			ready = append(ready, ds)
			delete(s.sealed, e)
		}
	}
	s.stageMu.Unlock()
	if len(ready) == 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var firstErr error
	if s.spill != nil && s.spill.spilled {
		firstErr = s.reload(ready)
	}
	for _, ds := range ready {
		for _, d := range ds {
			if s.tracking {
				s.touched = append(s.touched, d.row)
			}
			n, err := s.count(d.row)
			if err != nil && firstErr == nil {
				firstErr = err
			}
			n += d.diff
			switch {
			case n > 0:
				s.committed[d.row] = n
			case s.spill != nil && s.spill.spilled:
				s.committed[d.row] = 0 // the store may still have it
			default:
				delete(s.committed, d.row)
			}
			s.size += d.diff
		}
	}
	return firstErr
}

// reload reads back from the spill store, in one sorted batch, the rows
// that changes are about to change and that are not in memory. The caller
// holds mu.
func (s *Store) reload(changes [][]delta) error {
	s.missing = s.missing[:0]
	for _, ds := range changes {
		for _, d := range ds {
			s.missing = append(s.missing, []byte(d.row))
		}
	}
	s.missing = sortedCandidates(s.missing, s.missing, func(row []byte) bool {
		_, ok := s.committed[string(row)]
		return !ok && s.spill.stored.mayHave(row)
	})
	err := s.spill.store.GetSorted(s.missing, func(i int, v []byte) error {
		s.committed[string(s.missing[i])] = NewStateReader(v).Int()
		s.spill.budget.reloaded.Add(1)
		return nil
	})
	if err != nil {
		return fmt.Errorf("read rows of the view back from the state store: %w", err)
	}
	return nil
}

// count is the committed multiplicity of row, read back from the spill
// store if it is not in memory. The caller holds mu.
func (s *Store) count(row string) (int64, error) {
	if n, ok := s.committed[row]; ok || s.spill == nil || !s.spill.spilled || !s.spill.stored.mayHave([]byte(row)) {
		return n, nil
	}
	var n int64
	found, err := s.spill.store.Get([]byte(row), func(v []byte) error {
		n = NewStateReader(v).Int()
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("read a row of the view back from the state store: %w", err)
	}
	if found {
		s.spill.budget.reloaded.Add(1)
	}
	return n, nil
}

// eachRow calls fn with every committed row and its multiplicity, those in
// memory and those only in the spill store. The caller holds mu.
func (s *Store) eachRow(fn func(row string, n int64)) error {
	if s.spill != nil && s.spill.spilled {
		err := s.spill.store.Scan(func(k, v []byte) error {
			if _, ok := s.committed[string(k)]; !ok {
				r := NewStateReader(v)
				n := r.Int()
				if err := r.Done(); err != nil {
					return err
				}
				fn(string(k), n)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("read the view's rows from the state store: %w", err)
		}
	}
	for r, n := range s.committed {
		if n > 0 {
			fn(r, n)
		}
	}
	return nil
}

// Len is the number of committed rows.
func (s *Store) Len() int64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.size
}

// batchRows is the number of rows per record a scan returns.
const batchRows = 4096

// Snapshot returns the committed rows as records.
func (s *Store) Snapshot(alloc memory.Allocator) ([]arrow.Record, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.records(alloc, s.eachRow)
}

// snapshotAll returns every row including the staged and sealed changes: the
// state a new downstream dataflow starts from.
func (s *Store) snapshotAll(alloc memory.Allocator) ([]arrow.Record, error) {
	s.stageMu.Lock()
	defer s.stageMu.Unlock()
	s.mu.RLock()
	defer s.mu.RUnlock()
	pending := map[string]int64{}
	for _, ds := range s.sealed {
		for _, d := range ds {
			pending[d.row] += d.diff
		}
	}
	for _, d := range s.staging {
		pending[d.row] += d.diff
	}
	return s.records(alloc, func(yield func(string, int64)) error {
		err := s.eachRow(func(r string, n int64) {
			if p, ok := pending[r]; ok {
				n += p
				delete(pending, r)
			}
			if n > 0 {
				yield(r, n)
			}
		})
		if err != nil {
			return err
		}
		for r, p := range pending {
			n, err := s.count(r)
			if err != nil {
				return err
			}
			if n+p > 0 {
				yield(r, n+p)
			}
		}
		return nil
	})
}

func (s *Store) records(alloc memory.Allocator, rows func(func(string, int64)) error) ([]arrow.Record, error) {
	schema := s.schema.Arrow()
	var out []arrow.Record
	batch := make([]string, 0, batchRows)
	flush := func() {
		if len(batch) > 0 {
			bs := newBuilders(alloc, schema)
			s.dec.AppendStrings(bs, batch)
			out = append(out, finishRecord(schema, bs))
		}
		batch = batch[:0]
	}
	err := rows(func(r string, n int64) {
		for ; n > 0; n-- {
			if batch = append(batch, r); len(batch) == batchRows {
				flush()
			}
		}
	})
	flush()
	if err != nil {
		for _, rec := range out {
			rec.Release()
		}
		return nil, err
	}
	return out, nil
}

// EnableSpill lets the view's rows outgrow memory (see Spiller).
func (s *Store) EnableSpill(store SpillStore, budget *MemoryBudget) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.tracking {
		return false
	}
	s.spill = &spill{store: store, budget: budget}
	return true
}

// RecoverSpilled starts with every row in the spill store, counting them.
func (s *Store) RecoverSpilled() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.spill.spilled = true
	s.size = 0
	return s.spill.store.Scan(func(k, v []byte) error {
		s.spill.stored.add(k)
		r := NewStateReader(v)
		s.size += r.Int()
		return r.Done()
	})
}

// MaybeEvict drops share of the rows from memory if the budget asks for it
// and the last checkpoint, which saved them, is durable. The coordinator
// calls it after writing a checkpoint, between the commits of two epochs.
func (s *Store) MaybeEvict() {
	s.mu.Lock()
	defer s.mu.Unlock()
	share := s.spill.evictShare()
	if share == 0 {
		return
	}
	// Rows committed after the checkpoint's changes were taken may differ
	// from what it wrote: they stay.
	recent := make(map[string]struct{}, len(s.touched))
	for _, r := range s.touched {
		recent[r] = struct{}{}
	}
	target := evictCount(len(s.committed), share)
	evicted := 0
	for r := range s.committed {
		if evicted == target {
			break
		}
		if _, ok := recent[r]; ok {
			continue
		}
		s.spill.stored.add([]byte(r))
		delete(s.committed, r)
		evicted++
	}
	if evicted > 0 {
		s.spill.spilled = true
		s.spill.budget.evicted.Add(int64(evicted))
	}
	if evicted > len(s.committed) {
		// A map keeps the room of the most entries it held: copied, it
		// gives back that of the evicted rows.
		committed := make(map[string]int64, len(s.committed))
		for r, n := range s.committed {
			committed[r] = n
		}
		s.committed = committed
	}
}

// Materialize is the last operator of a view's dataflow: it stages the view's
// changes in its Store and passes them, with watermarks and barriers, to the
// dataflows of views defined on this one.
type Materialize struct {
	store *Store
	alloc memory.Allocator

	mu          sync.Mutex
	subscribers []*Dataflow
}

// NewMaterialize materializes into store.
func NewMaterialize(store *Store, alloc memory.Allocator) *Materialize {
	return &Materialize{store: store, alloc: alloc}
}

// Store is the view's store.
func (m *Materialize) Store() *Store { return m.store }

// Process stages c and forwards it downstream.
func (m *Materialize) Process(ctx context.Context, _ int, c Chunk, _ Emit) error {
	if c.Len() == 0 {
		return nil
	}
	m.store.Stage(c)
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, d := range m.subscribers {
		c.Rec.Retain()
		if err := d.Send(ctx, Message{Chunk: c}); err != nil {
			c.Rec.Release()
			return err
		}
	}
	return nil
}

// Watermark forwards the watermark downstream.
func (m *Materialize) Watermark(ctx context.Context, wm int64, _ Emit) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, d := range m.subscribers {
		if err := d.Send(ctx, Message{Kind: MsgWatermark, Watermark: wm}); err != nil {
			return err
		}
	}
	return nil
}

// Barrier seals the epoch and forwards the barrier downstream.
func (m *Materialize) Barrier(ctx context.Context, b Barrier, _ Emit) error {
	m.store.Seal(b.Epoch)
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, d := range m.subscribers {
		if err := d.Send(ctx, Message{Kind: MsgBarrier, Barrier: b}); err != nil {
			return err
		}
	}
	return nil
}

// Subscribe attaches a downstream dataflow: it first receives the view's
// current rows as inserts, then every later change, with nothing missed or
// repeated in between.
func (m *Materialize) Subscribe(ctx context.Context, d *Dataflow) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	recs, err := m.store.snapshotAll(m.alloc)
	if err != nil {
		return err
	}
	for i, rec := range recs {
		if err := d.Send(ctx, Message{Chunk: Chunk{Rec: rec}}); err != nil {
			for _, r := range recs[i:] {
				r.Release()
			}
			return err
		}
	}
	m.subscribers = append(m.subscribers, d)
	return nil
}

// SubscribeChanges attaches a downstream dataflow restored from the same
// checkpoint as this view: it already holds the view's rows, so it receives
// only the changes from now on.
func (m *Materialize) SubscribeChanges(d *Dataflow) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.subscribers = append(m.subscribers, d)
}

// Unsubscribe detaches a downstream dataflow.
func (m *Materialize) Unsubscribe(d *Dataflow) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, s := range m.subscribers {
		if s == d {
			m.subscribers = append(m.subscribers[:i], m.subscribers[i+1:]...)
			return
		}
	}
}

// TrackChanges records changed rows for incremental checkpoints.
func (m *Materialize) TrackChanges() {
	m.store.mu.Lock()
	defer m.store.mu.Unlock()
	m.store.tracking = true
}

// SaveChanges writes the view's rows as of the barrier just handled (the
// committed rows plus the sealed epochs the coordinator is about to commit):
// the rows changed since the last call, or all of them. A row's entry is
// its multiplicity, under its encoding; a row that is gone is deleted.
func (m *Materialize) SaveChanges(d *StateDelta, all bool) {
	s := m.store
	s.stageMu.Lock()
	defer s.stageMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	pending := map[string]int64{}
	for _, ds := range s.sealed {
		for _, dl := range ds {
			pending[dl.row] += dl.diff
		}
	}
	put := func(row string) {
		// A row's count cannot be missing from both memory and the store
		// here unless the store failed to read, which Commit reports.
		n, _ := s.count(row)
		if n += pending[row]; n > 0 {
			d.Value().Int(n)
			d.Put(nil, row)
		} else if !all {
			d.Delete(nil, row)
		}
	}
	if all {
		// Only a view's first checkpoint saves all its rows, and a view
		// spills only after one: every row is in memory.
		for row := range s.committed {
			if _, ok := pending[row]; !ok {
				put(row)
			}
		}
		for row := range pending {
			put(row)
		}
	} else {
		seen := make(map[string]bool, len(s.touched)+len(pending))
		for _, row := range s.touched {
			if !seen[row] {
				seen[row] = true
				put(row)
			}
		}
		for row := range pending {
			if !seen[row] {
				seen[row] = true
				put(row)
			}
		}
	}
	s.touched = nil
	if s.spill != nil {
		s.spill.saved = d.Epoch
	}
}

// EnableSpill lets the view's rows outgrow memory.
func (m *Materialize) EnableSpill(store SpillStore, budget *MemoryBudget) bool {
	return m.store.EnableSpill(store, budget)
}

// RecoverSpilled starts with the view's rows in the store.
func (m *Materialize) RecoverSpilled() error { return m.store.RecoverSpilled() }

// LoadEntry restores one row saved by SaveChanges.
func (m *Materialize) LoadEntry(key, value []byte) error {
	r := NewStateReader(value)
	n := r.Int()
	if err := r.Done(); err != nil {
		return err
	}
	s := m.store
	s.mu.Lock()
	defer s.mu.Unlock()
	s.committed[string(key)] += n
	s.size += n
	return nil
}
