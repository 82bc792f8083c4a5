package executor

import (
	"context"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
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
type Store struct {
	schema types.Schema
	enc    *RowEncoder
	dec    *RowDecoder

	mu        sync.RWMutex
	committed map[string]int64
	size      int64

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
	cols := make([]int, len(schema))
	for i := range cols {
		cols[i] = i
	}
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
func (s *Store) Commit(epoch uint64) {
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
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ds := range ready {
		for _, d := range ds {
			if s.tracking {
				s.touched = append(s.touched, d.row)
			}
			n := s.committed[d.row] + d.diff
			if n <= 0 {
				delete(s.committed, d.row)
			} else {
				s.committed[d.row] = n
			}
			s.size += d.diff
		}
	}
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
func (s *Store) Snapshot(alloc memory.Allocator) []arrow.Record {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.records(alloc, func(yield func(string, int64)) {
		for r, n := range s.committed {
			yield(r, n)
		}
	})
}

// snapshotAll returns every row including the staged and sealed changes: the
// state a new downstream dataflow starts from.
func (s *Store) snapshotAll(alloc memory.Allocator) []arrow.Record {
	s.mu.RLock()
	all := make(map[string]int64, len(s.committed))
	for r, n := range s.committed {
		all[r] = n
	}
	s.mu.RUnlock()
	s.stageMu.Lock()
	for _, ds := range s.sealed {
		for _, d := range ds {
			all[d.row] += d.diff
		}
	}
	for _, d := range s.staging {
		all[d.row] += d.diff
	}
	s.stageMu.Unlock()
	return s.records(alloc, func(yield func(string, int64)) {
		for r, n := range all {
			if n > 0 {
				yield(r, n)
			}
		}
	})
}

func (s *Store) records(alloc memory.Allocator, rows func(func(string, int64))) []arrow.Record {
	schema := s.schema.Arrow()
	var out []arrow.Record
	var bs []array.Builder
	count := 0
	flush := func() {
		if count > 0 {
			out = append(out, finishRecord(schema, bs))
		}
		bs, count = nil, 0
	}
	rows(func(r string, n int64) {
		for ; n > 0; n-- {
			if bs == nil {
				bs = newBuilders(alloc, schema)
			}
			s.dec.Append(bs, []byte(r))
			count++
			if count == batchRows {
				flush()
			}
		}
	})
	flush()
	return out
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
	for _, rec := range m.store.snapshotAll(m.alloc) {
		if err := d.Send(ctx, Message{Chunk: Chunk{Rec: rec}}); err != nil {
			rec.Release()
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
		if n := s.committed[row] + pending[row]; n > 0 {
			d.Value().Int(n)
			d.Put(nil, row)
		} else if !all {
			d.Delete(nil, row)
		}
	}
	if all {
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
}

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
