package executor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
)

// MsgKind tells what a Message carries.
type MsgKind uint8

const (
	MsgChunk MsgKind = iota
	MsgWatermark
	MsgBarrier
	// MsgIdle says that split Split has had no rows for a while.
	MsgIdle
)

// Message is what travels on a dataflow's input channel: data, watermarks and
// barriers in one ordered stream, so that a barrier or a watermark is always
// seen after the data that precedes it.
type Message struct {
	Kind  MsgKind
	Chunk Chunk
	Split int // which split of a source the chunk came from
	// SplitID and Position name the split and the place in it after the
	// chunk, for a source's chunks: the dataflow keeps the position of the
	// data it has processed, which is what a checkpoint must record. A
	// message may carry a position and no rows (a batch of only bad records).
	SplitID  string
	Position string
	// ReadAt is when a source's reader produced the chunk (Unix
	// nanoseconds), stamped at the edge; 0 when unknown.
	ReadAt    int64
	Port      int // which input of a merging dataflow (UNION ALL) it came on
	Watermark int64
	Barrier   Barrier
}

// inputQueue is the capacity of a dataflow's input channel; a full channel
// slows the producers down (backpressure) rather than dropping anything.
const inputQueue = 64

// Dataflow runs the operators of one materialized view on one goroutine. Its
// input is a source's readers (through a WatermarkFilter), a table's changes,
// or an upstream view's Materialize.
type Dataflow struct {
	Name    string
	in      chan Message
	done    chan struct{}
	source  *WatermarkFilter // nil unless the input is a source
	ops     []Operator
	emits   []Emit // emits[i] passes op i's output to op i+1
	toFirst Emit   // passes the source filter's output to op 0
	acks    func(d *Dataflow, epoch uint64)
	logger  *slog.Logger
	errs    atomic.Int64
	lastErr atomic.Pointer[string]
	stop    sync.Once
	merge   *alignment // set for a dataflow with several inputs
	// oldestRead is the earliest ReadAt of the epoch's chunks, 0 if none.
	oldestRead int64
	// keyedSaved is set once the keyed operators' entries are stored (by
	// a checkpoint, or because they were loaded from one): from then on a
	// checkpoint writes only their changes.
	keyedSaved bool
	// deltas are the keyed operators' change buffers, reused.
	deltas []*StateDelta
	// spilling marks the operators whose entries may outgrow memory.
	spilling []bool
}

// TrackStateChanges makes the keyed operators record their changes for
// incremental checkpoints. Call it before the dataflow runs.
func (d *Dataflow) TrackStateChanges() {
	for _, op := range d.ops {
		if ks, ok := op.(KeyedState); ok {
			ks.TrackChanges()
		}
	}
}

// EnableSpill lets the keyed operators whose state can outgrow memory keep
// in memory only what budget allows, reading the rest back from their
// stored entries: store(op) is operator op's. Call it after
// TrackStateChanges and before LoadState.
func (d *Dataflow) EnableSpill(store func(op int) SpillStore, budget *MemoryBudget) {
	d.spilling = make([]bool, len(d.ops))
	for i, op := range d.ops {
		if sp, ok := op.(Spiller); ok {
			d.spilling[i] = sp.EnableSpill(store(i), budget)
		}
	}
}

// alignment is the state of a dataflow that merges several inputs (the
// branches of a UNION ALL). A barrier is processed once it has arrived on
// every input; an input that has delivered its barrier is held (its later
// messages wait) until the others have too, so that the epoch's cut is
// consistent. The watermark is the minimum over the inputs.
type alignment struct {
	ports     int
	arrived   int
	blocked   []bool
	held      [][]Message
	portWM    []int64
	forwarded int64
}

// NewMergeDataflow returns a dataflow with ports inputs whose messages carry
// their Port; ops run on the merged stream.
func NewMergeDataflow(name string, ports int, ops []Operator, ack func(d *Dataflow, epoch uint64), logger *slog.Logger) *Dataflow {
	d := NewDataflow(name, nil, ops, ack, logger)
	d.merge = &alignment{ports: ports, blocked: make([]bool, ports), held: make([][]Message, ports),
		portWM: make([]int64, ports), forwarded: NoWatermark}
	for i := range d.merge.portWM {
		d.merge.portWM[i] = NoWatermark
	}
	return d
}

// route applies barrier alignment for a merging dataflow, then handles the
// message.
func (d *Dataflow) route(ctx context.Context, m Message) error {
	a := d.merge
	if a == nil {
		return d.handle(ctx, m)
	}
	p := m.Port
	if a.blocked[p] {
		a.held[p] = append(a.held[p], m)
		return nil
	}
	switch m.Kind {
	case MsgBarrier:
		a.blocked[p] = true
		a.arrived++
		if a.arrived < a.ports {
			return nil
		}
		err := d.handle(ctx, m)
		a.arrived = 0
		held := a.held
		a.held = make([][]Message, a.ports)
		for i := range a.blocked {
			a.blocked[i] = false
		}
		for _, msgs := range held {
			for _, hm := range msgs {
				if rerr := d.route(ctx, hm); rerr != nil && err == nil {
					err = rerr
				}
			}
		}
		return err
	case MsgWatermark:
		if m.Watermark > a.portWM[p] {
			a.portWM[p] = m.Watermark
		}
		low := a.portWM[0]
		for _, w := range a.portWM[1:] {
			low = min(low, w)
		}
		if low > a.forwarded {
			a.forwarded = low
			return d.watermark(ctx, low)
		}
		return nil
	}
	return d.handle(ctx, m)
}

// Forward is the last operator of a branch of a merging dataflow: it passes
// the branch's chunks, watermarks and barriers on, tagged with its port.
type Forward struct {
	to   *Dataflow
	port int
}

// NewForward passes a branch's output to port of to.
func NewForward(to *Dataflow, port int) *Forward { return &Forward{to: to, port: port} }

func (f *Forward) Process(ctx context.Context, _ int, c Chunk, _ Emit) error {
	if c.Len() == 0 {
		return nil
	}
	c.Rec.Retain()
	return f.to.Send(ctx, Message{Chunk: c, Port: f.port})
}

func (f *Forward) Watermark(ctx context.Context, wm int64, _ Emit) error {
	return f.to.Send(ctx, Message{Kind: MsgWatermark, Watermark: wm, Port: f.port})
}

func (f *Forward) Barrier(ctx context.Context, b Barrier, _ Emit) error {
	return f.to.Send(ctx, Message{Kind: MsgBarrier, Barrier: b, Port: f.port})
}

// NewDataflow chains ops; the last is usually a Materialize. source, when
// set, filters late rows and derives watermarks from the input. ack is
// called when a barrier has passed every operator.
func NewDataflow(name string, source *WatermarkFilter, ops []Operator, ack func(d *Dataflow, epoch uint64), logger *slog.Logger) *Dataflow {
	d := &Dataflow{Name: name, in: make(chan Message, inputQueue), done: make(chan struct{}),
		source: source, ops: ops, acks: ack, logger: logger}
	d.emits = make([]Emit, len(ops)+1)
	for i := range ops {
		next := i + 1
		d.emits[i] = func(ctx context.Context, c Chunk) error { return d.push(ctx, next, c) }
	}
	d.emits[len(ops)] = func(context.Context, Chunk) error { return nil }
	d.toFirst = func(ctx context.Context, c Chunk) error { return d.push(ctx, 0, c) }
	return d
}

// Send delivers a message to the dataflow, waiting while its input is full.
// A message for a dataflow that has stopped is dropped.
func (d *Dataflow) Send(ctx context.Context, m Message) error {
	select {
	case d.in <- m:
		return nil
	case <-d.done:
		if m.Kind == MsgChunk {
			m.Chunk.Release()
		}
		return nil
	case <-ctx.Done():
		if m.Kind == MsgChunk {
			m.Chunk.Release()
		}
		return ctx.Err()
	}
}

// Errors returns how many chunks failed and the last failure.
func (d *Dataflow) Errors() (int64, string) {
	if p := d.lastErr.Load(); p != nil {
		return d.errs.Load(), *p
	}
	return d.errs.Load(), ""
}

func (d *Dataflow) push(ctx context.Context, i int, c Chunk) error {
	if i == len(d.ops) || c.Len() == 0 {
		return nil
	}
	return d.ops[i].Process(ctx, 0, c, d.emits[i])
}

// Run processes messages until ctx is cancelled. An operator error does not
// stop the view: the chunk is counted as failed and logged, and the dataflow
// goes on, so one bad row cannot stall every view behind a barrier.
func (d *Dataflow) Run(ctx context.Context) {
	defer d.stop.Do(func() { close(d.done) })
	for {
		select {
		case <-ctx.Done():
			d.drain()
			return
		case m := <-d.in:
			if err := d.route(ctx, m); err != nil {
				if ctx.Err() != nil {
					d.drain()
					return
				}
				d.errs.Add(1)
				msg := err.Error()
				d.lastErr.Store(&msg)
				d.logger.Warn("dataflow error", "view", d.Name, "err", err)
			}
		}
	}
}

// drain releases what is left in the input.
func (d *Dataflow) drain() {
	for {
		select {
		case m := <-d.in:
			if m.Kind == MsgChunk {
				m.Chunk.Release()
			}
		default:
			return
		}
	}
}

func (d *Dataflow) handle(ctx context.Context, m Message) (err error) {
	defer func() {
		// A bug in an operator must not take the whole server down: the
		// view records the failure and goes on with the next message.
		if r := recover(); r != nil {
			err = fmt.Errorf("internal error in view %s: %v", d.Name, r)
			d.logger.Error("dataflow panic", "view", d.Name, "panic", r, "stack", string(debug.Stack()))
			if m.Kind == MsgBarrier && d.acks != nil {
				d.acks(d, m.Barrier.Epoch)
			}
		}
	}()
	switch m.Kind {
	case MsgChunk:
		defer m.Chunk.Release()
		if m.ReadAt != 0 && (d.oldestRead == 0 || m.ReadAt < d.oldestRead) {
			d.oldestRead = m.ReadAt
		}
		if d.source != nil {
			if m.Position != "" {
				d.source.recordPosition(m.Split, m.SplitID, m.Position)
			}
			if err := d.source.Process(ctx, m.Split, m.Chunk, d.toFirst); err != nil {
				return err
			}
			if wm, moved := d.source.Watermark(); moved {
				return d.watermark(ctx, wm)
			}
			return nil
		}
		if d.merge != nil && len(d.ops) > 0 && m.Chunk.Len() > 0 {
			// A merging dataflow tells its first operator which input a
			// chunk came on: a join needs to know the side.
			return d.ops[0].Process(ctx, m.Port, m.Chunk, d.emits[0])
		}
		return d.push(ctx, 0, m.Chunk)
	case MsgWatermark:
		return d.watermark(ctx, m.Watermark)
	case MsgIdle:
		if d.source == nil {
			return nil
		}
		d.source.Idle(m.Split)
		if wm, moved := d.source.Watermark(); moved {
			return d.watermark(ctx, wm)
		}
		return nil
	case MsgBarrier:
		var errs []error
		for i, op := range d.ops {
			if bh, ok := op.(BarrierHandler); ok {
				if err := bh.Barrier(ctx, m.Barrier, d.emits[i]); err != nil {
					errs = append(errs, fmt.Errorf("%T: %w", op, err))
				}
			}
		}
		if cp := m.Barrier.Checkpoint; cp != nil {
			cp.Add(FlowStatePrefix+d.Name, d.saveState(cp))
		}
		if f := m.Barrier.Freshness; f != nil && d.oldestRead != 0 {
			f.observe(d.oldestRead)
		}
		d.oldestRead = 0
		if d.acks != nil {
			d.acks(d, m.Barrier.Epoch)
		}
		return errors.Join(errs...)
	}
	return nil
}

func (d *Dataflow) watermark(ctx context.Context, wm int64) error {
	for i, op := range d.ops {
		if wh, ok := op.(WatermarkHandler); ok {
			if err := wh.Watermark(ctx, wm, d.emits[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

// FlowStatePrefix precedes a dataflow's name in a checkpoint's parts.
const FlowStatePrefix = "flow:"

// saveState writes the state of the source filter, the merge alignment and
// every operator, in that order, each as one blob; a keyed operator's blob is
// empty and its changed entries go to cp as a delta.
func (d *Dataflow) saveState(cp *Checkpoint) []byte {
	var w StateWriter
	var part StateWriter
	if d.source != nil {
		d.source.SaveState(&part)
		cp.AddPositions(d.Name, d.source.Positions())
	}
	w.Blob(part.Bytes())
	part = StateWriter{buf: part.buf[:0]}
	if d.merge != nil {
		part.Uint(uint64(len(d.merge.portWM)))
		for _, wm := range d.merge.portWM {
			part.Int(wm)
		}
		part.Int(d.merge.forwarded)
	}
	w.Blob(part.Bytes())
	w.Uint(uint64(len(d.ops)))
	all := !d.keyedSaved
	if d.deltas == nil {
		d.deltas = make([]*StateDelta, len(d.ops))
	}
	for i, op := range d.ops {
		part = StateWriter{buf: part.buf[:0]}
		if ks, ok := op.(KeyedState); ok {
			// The previous checkpoint is written by now: its delta's
			// buffers can take this one's changes.
			delta := d.deltas[i]
			if delta == nil {
				delta = &StateDelta{}
				d.deltas[i] = delta
			}
			delta.reset(cp.Epoch, all)
			ks.SaveChanges(delta, all)
			cp.AddDelta(d.Name, i, delta)
		} else if st, ok := op.(Stateful); ok {
			st.SaveState(&part)
		}
		w.Blob(part.Bytes())
	}
	d.keyedSaved = true
	return w.Bytes()
}

// LoadState restores what saveState wrote into a dataflow built from the same
// plan, before it runs; entries lists the stored entries of its operator op,
// for keyed operators.
func (d *Dataflow) LoadState(b []byte, entries func(op int, fn func(key, value []byte) error) error) error {
	r := NewStateReader(b)
	if src := r.Blob(); len(src) > 0 {
		if d.source == nil {
			return fmt.Errorf("view %s: %w: source state for a dataflow without a source", d.Name, errCorruptState)
		}
		if err := d.source.LoadState(NewStateReader(src)); err != nil {
			return fmt.Errorf("view %s: source: %w", d.Name, err)
		}
	}
	if merge := r.Blob(); len(merge) > 0 {
		mr := NewStateReader(merge)
		n := mr.Len()
		if d.merge == nil || n != len(d.merge.portWM) {
			return fmt.Errorf("view %s: %w: merge state for %d inputs", d.Name, errCorruptState, n)
		}
		for i := range d.merge.portWM {
			d.merge.portWM[i] = mr.Int()
		}
		d.merge.forwarded = mr.Int()
		if err := mr.Done(); err != nil {
			return fmt.Errorf("view %s: merge: %w", d.Name, err)
		}
	}
	if n := r.Len(); n != len(d.ops) {
		return fmt.Errorf("view %s: %w: state of %d operators for %d", d.Name, errCorruptState, n, len(d.ops))
	}
	for i, op := range d.ops {
		part := r.Blob()
		if d.spilling != nil && d.spilling[i] {
			// Entries stay in the store until needed.
			if err := op.(Spiller).RecoverSpilled(); err != nil {
				return fmt.Errorf("view %s: %T: %w", d.Name, op, err)
			}
			continue
		}
		if ks, ok := op.(KeyedState); ok {
			if err := entries(i, ks.LoadEntry); err != nil {
				return fmt.Errorf("view %s: %T: %w", d.Name, op, err)
			}
			continue
		}
		st, ok := op.(Stateful)
		if !ok {
			if len(part) > 0 {
				return fmt.Errorf("view %s: %w: state for stateless %T", d.Name, errCorruptState, op)
			}
			continue
		}
		pr := NewStateReader(part)
		if err := st.LoadState(pr); err != nil {
			return fmt.Errorf("view %s: %T: %w", d.Name, op, err)
		}
		if err := pr.Done(); err != nil {
			return fmt.Errorf("view %s: %T: %w", d.Name, op, err)
		}
	}
	d.keyedSaved = true
	return r.Done()
}
