package executor

import (
	"context"
	"math"
	"sync"
	"sync/atomic"

	"github.com/sluicedb/sluice/expr"
)

// NoWatermark is the watermark of a stream before any row has set one.
const NoWatermark = math.MinInt64

// SourceStats are a source's counters, shared by every dataflow that reads it
// and read by SHOW SOURCES and the metrics.
type SourceStats struct {
	Rows      atomic.Int64
	Bytes     atomic.Int64
	LateRows  atomic.Int64
	ErrorRows atomic.Int64
	// Watermark is the highest watermark any reader has reached.
	Watermark atomic.Int64

	mu        sync.Mutex
	status    string
	lastError string
	errors    []string      // the first errors, for SHOW SOURCE ERRORS
	backlog   map[int]int64 // by split, for readers that know it
}

// SetBacklog records how much the outside system holds for split beyond
// what was read.
func (s *SourceStats) SetBacklog(split int, records int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.backlog == nil {
		s.backlog = map[int]int64{}
	}
	s.backlog[split] = records
}

// Backlog is the sum over the splits that report one; ok is false when none
// does.
func (s *SourceStats) Backlog() (records int64, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range s.backlog {
		records += n
	}
	return records, len(s.backlog) > 0
}

// NewSourceStats returns zeroed counters.
func NewSourceStats() *SourceStats {
	// A reading is "starting" until a reader has opened its split: a
	// publisher into a system that cannot replay (MQTT) waits for "running".
	s := &SourceStats{status: "starting"}
	s.Watermark.Store(NoWatermark)
	return s
}

// maxKeptErrors bounds how many record errors a source remembers.
const maxKeptErrors = 100

// RecordError counts a skipped record and keeps its description if there is
// room.
func (s *SourceStats) RecordError(desc string) {
	s.ErrorRows.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastError = desc
	if len(s.errors) < maxKeptErrors {
		s.errors = append(s.errors, desc)
	}
}

// SetStatus records the source's state ("starting", "running",
// "retrying: ...", "finished").
func (s *SourceStats) SetStatus(status string) {
	s.mu.Lock()
	s.status = status
	s.mu.Unlock()
}

// Status returns the state and the last record error.
func (s *SourceStats) Status() (status, lastError string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status, s.lastError
}

// Errors returns the first record errors kept.
func (s *SourceStats) Errors() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.errors...)
}

// WatermarkFilter is the first operator of a dataflow over a source. Per
// dialect.md it evaluates the watermark row by row in arrival order within
// each split: a row whose event time is below the stream's watermark when it
// arrives is late and dropped; otherwise it may raise its split's watermark
// (the largest value of the watermark expression seen). The stream's
// watermark is the minimum over its splits, and only moves forward.
type WatermarkFilter struct {
	timeCol int
	wmExpr  *expr.Program
	ectx    *expr.EvalContext
	stats   *SourceStats
	splitWM []int64
	idle    []bool // splits excluded from the minimum until they send rows again
	// splitIDs and positions name each split and the place in it after the
	// last chunk processed: what a checkpoint records to resume reading.
	splitIDs  []string
	positions []string
	streamWM  int64
	emitted   int64
	times     []int64
	keep      []bool
	idx       []int32
}

// NewWatermarkFilter tracks the watermark over splits splits. timeCol is the
// event-time column and wmExpr computes a row's watermark candidate (e.g.
// date_time - INTERVAL '5' SECOND); with timeCol < 0 the stream has no event
// time and rows pass through, only counted.
func NewWatermarkFilter(timeCol int, wmExpr *expr.Program, splits int, ectx *expr.EvalContext, stats *SourceStats) *WatermarkFilter {
	w := &WatermarkFilter{timeCol: timeCol, wmExpr: wmExpr, ectx: ectx, stats: stats,
		splitWM: make([]int64, splits), idle: make([]bool, splits), streamWM: NoWatermark, emitted: NoWatermark,
		splitIDs: make([]string, splits), positions: make([]string, splits)}
	for i := range w.splitWM {
		w.splitWM[i] = NoWatermark
	}
	return w
}

// Watermark returns the stream's watermark and whether it moved since the
// last call.
func (w *WatermarkFilter) Watermark() (int64, bool) {
	if w.streamWM == w.emitted {
		return w.streamWM, false
	}
	w.emitted = w.streamWM
	return w.streamWM, true
}

// addSplits makes room for splits up to index split: a source may gain
// partitions while it is read. A new split holds the watermark back until it
// has rows or goes idle, as any other.
func (w *WatermarkFilter) addSplits(split int) {
	for len(w.splitWM) <= split {
		w.splitWM = append(w.splitWM, NoWatermark)
		w.idle = append(w.idle, false)
	}
	for len(w.splitIDs) < len(w.splitWM) {
		w.splitIDs = append(w.splitIDs, "")
		w.positions = append(w.positions, "")
	}
}

// Process filters the late rows of a chunk read from split `split`.
func (w *WatermarkFilter) Process(ctx context.Context, split int, c Chunk, emit Emit) error {
	n := c.Len()
	if n == 0 {
		return nil
	}
	w.addSplits(split)
	w.stats.Rows.Add(int64(n))
	if w.idle[split] {
		w.idle[split] = false
	}
	if w.timeCol < 0 {
		return emit(ctx, c)
	}
	wmArr, err := w.wmExpr.Eval(w.ectx, c.Rec)
	if err != nil {
		return err
	}
	defer wmArr.Release()
	timeCol := c.Rec.Column(w.timeCol)
	times := int64s(timeCol, w.times)
	w.times = times[:0]
	cands := int64s(wmArr, nil)
	w.keep = grow(w.keep, n)
	late := 0
	for i := 0; i < n; i++ {
		if timeCol.IsNull(i) {
			w.keep[i] = true
			continue
		}
		if times[i] < w.streamWM {
			w.keep[i] = false
			late++
			continue
		}
		w.keep[i] = true
		if wmArr.IsValid(i) && cands[i] > w.splitWM[split] {
			w.splitWM[split] = cands[i]
			w.advance()
		}
	}
	if late == 0 {
		return emit(ctx, c)
	}
	w.stats.LateRows.Add(int64(late))
	if late == n {
		return nil
	}
	out, err := filterRecord(ctx, c.Rec, w.keep[:n], w.ectx.Alloc, &w.idx)
	if err != nil {
		return err
	}
	defer out.Release()
	return emit(ctx, Chunk{Rec: out})
}

// Idle marks a split that has sent nothing for a while (or has ended): it no
// longer holds the stream's watermark back, so one quiet partition cannot
// stall every window. It counts again as soon as it sends rows.
func (w *WatermarkFilter) Idle(split int) {
	w.addSplits(split)
	if !w.idle[split] {
		w.idle[split] = true
		w.advance()
	}
}

// advance recomputes the stream watermark as the minimum over the active
// splits or, when every split is idle, the maximum over all of them: nothing
// is pending anywhere, so nothing the splits have shown can still change. It
// never moves back.
func (w *WatermarkFilter) advance() {
	m, active := int64(0), false
	for i, s := range w.splitWM {
		if w.idle[i] {
			continue
		}
		if !active || s < m {
			m, active = s, true
		}
	}
	if !active {
		m = w.splitWM[0]
		for _, s := range w.splitWM[1:] {
			m = max(m, s)
		}
	}
	if m > w.streamWM {
		w.streamWM = m
		if m > w.stats.Watermark.Load() {
			w.stats.Watermark.Store(m)
		}
	}
}

// recordPosition notes that the data of split (named id) up to pos has been
// processed.
func (w *WatermarkFilter) recordPosition(split int, id, pos string) {
	w.addSplits(split)
	w.splitIDs[split], w.positions[split] = id, pos
}

// SplitPosition is where reading a split resumes after recovery.
type SplitPosition struct {
	ID, Position string
}

// Positions returns, by split index, each split's name and position as of
// the data processed; splits that have delivered nothing have empty ones.
func (w *WatermarkFilter) Positions() []SplitPosition {
	out := make([]SplitPosition, len(w.splitIDs))
	for i := range out {
		out[i] = SplitPosition{ID: w.splitIDs[i], Position: w.positions[i]}
	}
	return out
}

// SaveState writes the watermarks and positions.
func (w *WatermarkFilter) SaveState(sw *StateWriter) {
	sw.Int(w.streamWM)
	sw.Int(w.emitted)
	sw.Uint(uint64(len(w.splitWM)))
	for i := range w.splitWM {
		sw.String(w.splitIDs[i])
		sw.String(w.positions[i])
		sw.Int(w.splitWM[i])
		sw.Bool(w.idle[i])
	}
}

// LoadState reads what SaveState wrote; the stream's watermark is where it
// was, so rows late then are late now.
func (w *WatermarkFilter) LoadState(r *StateReader) error {
	w.streamWM, w.emitted = r.Int(), r.Int()
	n := r.Len()
	w.splitWM, w.idle = make([]int64, n), make([]bool, n)
	w.splitIDs, w.positions = make([]string, n), make([]string, n)
	for i := 0; i < n && r.Err() == nil; i++ {
		w.splitIDs[i], w.positions[i] = r.String(), r.String()
		w.splitWM[i], w.idle[i] = r.Int(), r.Bool()
	}
	if err := r.Done(); err != nil {
		return err
	}
	// A split that had delivered nothing has no name to resume by: it will
	// be found again and get a new index, so its slot must not hold the
	// watermark back.
	kept := 0
	for i := range w.splitIDs {
		if w.splitIDs[i] == "" {
			continue
		}
		w.splitIDs[kept], w.positions[kept] = w.splitIDs[i], w.positions[i]
		w.splitWM[kept], w.idle[kept] = w.splitWM[i], w.idle[i]
		kept++
	}
	w.splitIDs, w.positions = w.splitIDs[:kept], w.positions[:kept]
	w.splitWM, w.idle = w.splitWM[:kept], w.idle[:kept]
	if w.streamWM > w.stats.Watermark.Load() {
		w.stats.Watermark.Store(w.streamWM)
	}
	return nil
}
