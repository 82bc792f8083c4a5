package executor

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sluicedb/sluice/types"
)

// SinkWriter is where a SinkOperator delivers changes: the engine adapts a
// connector's sink to it.
type SinkWriter interface {
	// Write delivers changes of the open epoch.
	Write(ctx context.Context, c Chunk) error
	// Commit closes the epoch: its changes are then the writer's to
	// deliver (it counts them in SinkStats.Rows once delivered).
	Commit(ctx context.Context, epoch uint64) error
}

// SinkStats are a sink's counters, read by SHOW SINKS.
type SinkStats struct {
	Rows      atomic.Int64 // rows delivered (committed)
	Failed    atomic.Int64 // rows whose delivery failed
	Retries   atomic.Int64 // deliveries of an epoch tried again after a failure
	Epoch     atomic.Uint64
	mu        sync.Mutex
	status    string
	lastError string
}

// NewSinkStats returns zeroed counters.
func NewSinkStats() *SinkStats { return &SinkStats{status: "running"} }

// Status returns the sink's state and its last error.
func (s *SinkStats) Status() (string, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status, s.lastError
}

// SetStatus records the sink's state ("running", "retrying") and last error.
func (s *SinkStats) SetStatus(status, lastError string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status = status
	if lastError != "" {
		s.lastError = lastError
	}
}

func (s *SinkStats) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status, s.lastError = "failing", err.Error()
}

// SinkOperator is the last operator of a sink's dataflow. An append-only sink
// gets every change as it comes; an upsert sink gets, per epoch, only the
// last change of each key (a retraction followed by the new row of the same
// key becomes one upsert), so downstream systems see one write per key and
// epoch. At each barrier the epoch is committed.
type SinkOperator struct {
	w      SinkWriter
	stats  *SinkStats
	alloc  memory.Allocator
	schema types.Schema
	upsert bool
	keyEnc *RowEncoder
	rowEnc *RowEncoder
	dec    *RowDecoder

	pending int64 // rows written in the open epoch
	// For upsert sinks: the last change of each key in the open epoch.
	latest map[string]latestChange
	order  []string
}

type latestChange struct {
	row string
	op  Op
}

// NewSinkOperator delivers rows of schema to w. For an upsert sink, key
// lists the primary-key columns.
func NewSinkOperator(w SinkWriter, schema types.Schema, upsert bool, key []int, alloc memory.Allocator, stats *SinkStats) *SinkOperator {
	s := &SinkOperator{w: w, stats: stats, alloc: alloc, schema: schema, upsert: upsert}
	if upsert {
		kt := make([]types.T, len(key))
		for i, k := range key {
			kt[i] = schema[k].Type
		}
		all := make([]int, len(schema))
		for i := range all {
			all[i] = i
		}
		s.keyEnc = NewRowEncoder(key, kt)
		s.rowEnc = NewExactRowEncoder(all, schema.Types())
		s.dec = NewRowDecoder(schema.Types())
		s.latest = map[string]latestChange{}
	}
	return s
}

// Process passes c on, or folds it into the epoch's last change per key.
func (s *SinkOperator) Process(ctx context.Context, _ int, c Chunk, _ Emit) error {
	n := c.Len()
	if n == 0 {
		return nil
	}
	if !s.upsert {
		if c.Ops != nil {
			for _, op := range c.Ops {
				if op == Delete {
					return fmt.Errorf("an append-only sink received a retraction")
				}
			}
		}
		if err := s.w.Write(ctx, c); err != nil {
			s.stats.Failed.Add(int64(n))
			s.stats.fail(err)
			return err
		}
		s.pending += int64(n)
		return nil
	}
	keys := s.keyEnc.Encode(c.Rec)
	rows := s.rowEnc.Encode(c.Rec)
	for i := 0; i < n; i++ {
		k := string(keys[i])
		if _, seen := s.latest[k]; !seen {
			s.order = append(s.order, k)
		}
		s.latest[k] = latestChange{row: string(rows[i]), op: c.OpAt(i)}
	}
	return nil
}

// Barrier writes an upsert sink's changes and commits the epoch.
func (s *SinkOperator) Barrier(ctx context.Context, b Barrier, _ Emit) error {
	if s.upsert && len(s.order) > 0 {
		rec, ops := s.compacted()
		err := s.w.Write(ctx, Chunk{Rec: rec, Ops: ops})
		rec.Release()
		if err != nil {
			s.stats.Failed.Add(int64(len(ops)))
			s.stats.fail(err)
			return err
		}
		s.pending += int64(len(ops))
	}
	if s.pending == 0 {
		return nil
	}
	if err := s.w.Commit(ctx, b.Epoch); err != nil {
		s.stats.Failed.Add(s.pending)
		s.pending = 0
		s.stats.fail(err)
		return err
	}
	// The writer counts rows when it has delivered them.
	s.pending = 0
	return nil
}

func (s *SinkOperator) compacted() (arrow.Record, []Op) {
	schema := s.schema.Arrow()
	bs := newBuilders(s.alloc, schema)
	ops := make([]Op, 0, len(s.order))
	rows := make([]string, 0, len(s.order))
	for _, k := range s.order {
		ch := s.latest[k]
		rows = append(rows, ch.row)
		ops = append(ops, ch.op)
	}
	s.dec.AppendStrings(bs, rows)
	clear(s.latest)
	s.order = s.order[:0]
	return finishRecord(schema, bs), ops
}
