package executor

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Stateful is implemented by operators whose state outlives an epoch
// (aggregations, joins, Top-N, sessions, a view's rows). At a checkpoint
// barrier, once every operator of the dataflow has handled the barrier, the
// dataflow saves the state of each; recovery loads it into freshly built
// operators before any message flows. Epoch-scoped scratch (the changes
// gathered for the next emission) is empty at that point and is not saved.
type Stateful interface {
	SaveState(w *StateWriter)
	LoadState(r *StateReader) error
}

// Checkpoint gathers the saved state of one checkpoint barrier: every
// dataflow and every root input (a table) that the barrier passes adds its
// part under a name that is stable across restarts.
type Checkpoint struct {
	Epoch uint64

	mu        sync.Mutex
	parts     map[string][]byte
	deltas    []FlowDelta
	positions map[string][]SplitPosition // by dataflow name
}

// NewCheckpoint starts gathering the state of the barrier of epoch.
func NewCheckpoint(epoch uint64) *Checkpoint {
	return &Checkpoint{Epoch: epoch, parts: map[string][]byte{}}
}

// Add records the state saved under name.
func (c *Checkpoint) Add(name string, state []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.parts[name] = state
}

// AddPositions records where a dataflow's source splits were at the barrier.
func (c *Checkpoint) AddPositions(flow string, ps []SplitPosition) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.positions == nil {
		c.positions = map[string][]SplitPosition{}
	}
	c.positions[flow] = ps
}

// Positions returns the source positions by dataflow name.
func (c *Checkpoint) Positions() map[string][]SplitPosition {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.positions
}

// Parts returns the gathered state by name. The caller owns the map.
func (c *Checkpoint) Parts() map[string][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string][]byte, len(c.parts))
	for k, v := range c.parts {
		out[k] = v
	}
	return out
}

// StateWriter appends state in a compact binary form: varints, IEEE floats
// and length-prefixed strings. The format is Sluice's own and versioned by
// the checkpoint that holds it.
type StateWriter struct {
	buf []byte
}

// Bytes returns what was written.
func (w *StateWriter) Bytes() []byte { return w.buf }

func (w *StateWriter) Uint(v uint64) { w.buf = binary.AppendUvarint(w.buf, v) }
func (w *StateWriter) Int(v int64)   { w.buf = binary.AppendVarint(w.buf, v) }
func (w *StateWriter) Float(v float64) {
	w.buf = binary.LittleEndian.AppendUint64(w.buf, math.Float64bits(v))
}
func (w *StateWriter) String(s string) { w.Uint(uint64(len(s))); w.buf = append(w.buf, s...) }
func (w *StateWriter) Blob(b []byte)   { w.Uint(uint64(len(b))); w.buf = append(w.buf, b...) }

// Raw appends bytes already in the writer's format, such as entries a
// caller keeps in the layout of Counts.
func (w *StateWriter) Raw(b []byte) { w.buf = append(w.buf, b...) }

func (w *StateWriter) Bool(b bool) {
	if b {
		w.buf = append(w.buf, 1)
	} else {
		w.buf = append(w.buf, 0)
	}
}

// Counts writes a multiset of strings (row encodings and their
// multiplicities), in the map's order.
func (w *StateWriter) Counts(m map[string]int64) {
	w.Uint(uint64(len(m)))
	for k, n := range m {
		w.String(k)
		w.Int(n)
	}
}

// StateReader reads what a StateWriter wrote. The first malformed value
// sets Err; later reads return zero values, so a loader checks Err once at
// the end.
type StateReader struct {
	buf []byte
	err error
}

// NewStateReader reads b.
func NewStateReader(b []byte) *StateReader { return &StateReader{buf: b} }

// errCorruptState is wrapped by every malformed-state error.
var errCorruptState = errors.New("checkpoint state is corrupt")

func (r *StateReader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: truncated %s", errCorruptState, what)
	}
}

// Err is the first error met.
func (r *StateReader) Err() error { return r.err }

// Done reports an error if bytes are left over: the state was written by a
// different operator than the one reading it.
func (r *StateReader) Done() error {
	if r.err == nil && len(r.buf) > 0 {
		r.err = fmt.Errorf("%w: %d bytes left over", errCorruptState, len(r.buf))
	}
	return r.err
}

func (r *StateReader) Uint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.buf)
	if n <= 0 {
		r.fail("unsigned integer")
		return 0
	}
	r.buf = r.buf[n:]
	return v
}

func (r *StateReader) Int() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.buf)
	if n <= 0 {
		r.fail("integer")
		return 0
	}
	r.buf = r.buf[n:]
	return v
}

func (r *StateReader) Float() float64 {
	if r.err != nil {
		return 0
	}
	if len(r.buf) < 8 {
		r.fail("float")
		return 0
	}
	v := math.Float64frombits(binary.LittleEndian.Uint64(r.buf))
	r.buf = r.buf[8:]
	return v
}

func (r *StateReader) Bool() bool {
	if r.err != nil {
		return false
	}
	if len(r.buf) < 1 {
		r.fail("boolean")
		return false
	}
	v := r.buf[0] != 0
	r.buf = r.buf[1:]
	return v
}

// Blob returns the next length-prefixed bytes; they alias the reader's
// buffer.
func (r *StateReader) Blob() []byte {
	n := r.Uint()
	if r.err != nil {
		return nil
	}
	if uint64(len(r.buf)) < n {
		r.fail("bytes")
		return nil
	}
	b := r.buf[:n:n]
	r.buf = r.buf[n:]
	return b
}

func (r *StateReader) String() string { return string(r.Blob()) }

// Len reads a count of elements that follow, each taking at least one byte,
// so that a corrupt count cannot make a loader allocate without bound.
func (r *StateReader) Len() int {
	n := r.Uint()
	if n > uint64(len(r.buf)) {
		r.fail("count")
		return 0
	}
	return int(n)
}

// Counts reads what StateWriter.Counts wrote.
func (r *StateReader) Counts() map[string]int64 {
	n := r.Len()
	m := make(map[string]int64, n)
	for i := 0; i < n && r.err == nil; i++ {
		k := r.String()
		m[k] = r.Int()
	}
	return m
}

// EncodeRecord writes a record in the Arrow IPC stream format, which keeps
// every column type exactly.
func EncodeRecord(rec arrow.Record) ([]byte, error) {
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(rec.Schema()))
	if err := w.Write(rec); err != nil {
		return nil, fmt.Errorf("encode a record: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("encode a record: %w", err)
	}
	return buf.Bytes(), nil
}

// DecodeRecord reads what EncodeRecord wrote. The caller releases the record.
func DecodeRecord(b []byte, alloc memory.Allocator) (arrow.Record, error) {
	r, err := ipc.NewReader(bytes.NewReader(b), ipc.WithAllocator(alloc))
	if err != nil {
		return nil, fmt.Errorf("decode a record: %w", err)
	}
	defer r.Release()
	if !r.Next() {
		if err := r.Err(); err != nil {
			return nil, fmt.Errorf("decode a record: %w", err)
		}
		return nil, fmt.Errorf("decode a record: %w: no record", errCorruptState)
	}
	rec := r.Record()
	rec.Retain()
	return rec, nil
}

// KeyedState is implemented by operators whose state is many small entries
// (aggregation groups, a view's rows). A checkpoint writes only the entries
// that changed since the previous one, so its cost follows the rate of
// change, not the size of the state.
type KeyedState interface {
	// TrackChanges starts recording which entries change; the engine calls
	// it when checkpoints are on (without them nothing would ever clear the
	// record).
	TrackChanges()
	// SaveChanges adds to d the entries changed since the last call, or
	// every entry when all is set, and forgets the changes.
	SaveChanges(d *StateDelta, all bool)
	// LoadEntry restores one stored entry, before any data flows.
	LoadEntry(key, value []byte) error
}

// StateDelta is what a KeyedState operator changed between two checkpoints:
// entries to set and entries to delete. With All, the stored entries are
// replaced by these. Keys and values live in two buffers that a dataflow
// reuses from one checkpoint to the next, so a checkpoint of many entries
// allocates little.
type StateDelta struct {
	All bool
	// Epoch is the checkpoint the changes are for.
	Epoch   uint64
	keys    []byte
	keyEnds []int
	vals    []byte
	valEnds []int // -1 for a delete
	scratch StateWriter
}

// reset empties the delta for reuse, keeping its buffers unless they are
// far larger than the last checkpoint needed (one that wrote every entry of
// a large state, say): those are given back.
func (d *StateDelta) reset(epoch uint64, all bool) {
	if cap(d.keys) > 1<<20 && cap(d.keys) > 4*len(d.keys) {
		d.keys, d.keyEnds, d.vals, d.valEnds = nil, nil, nil, nil
	}
	d.Epoch, d.All = epoch, all
	d.keys, d.keyEnds = d.keys[:0], d.keyEnds[:0]
	d.vals, d.valEnds = d.vals[:0], d.valEnds[:0]
}

// Value returns a writer for the value of the next Put, which it consumes.
func (d *StateDelta) Value() *StateWriter {
	d.scratch.buf = d.scratch.buf[:0]
	return &d.scratch
}

// Put sets key (prefix bytes, then key) to what was written to Value.
func (d *StateDelta) Put(prefix []byte, key string) {
	d.vals = append(d.vals, d.scratch.buf...)
	d.addKey(prefix, key, len(d.vals))
}

// Delete removes key (prefix bytes, then key).
func (d *StateDelta) Delete(prefix []byte, key string) { d.addKey(prefix, key, -1) }

func (d *StateDelta) addKey(prefix []byte, key string, valEnd int) {
	d.keys = append(append(d.keys, prefix...), key...)
	d.keyEnds = append(d.keyEnds, len(d.keys))
	d.valEnds = append(d.valEnds, valEnd)
}

// Len is the number of changes.
func (d *StateDelta) Len() int { return len(d.keyEnds) }

// Each calls fn with every change in order; value is nil for a delete. The
// slices are the delta's own: valid until it is reused.
func (d *StateDelta) Each(fn func(key, value []byte) error) error {
	kstart, vstart := 0, 0
	for i, kend := range d.keyEnds {
		var v []byte
		if vend := d.valEnds[i]; vend >= 0 {
			v = d.vals[vstart:vend:vend]
			vstart = vend
		}
		if err := fn(d.keys[kstart:kend:kend], v); err != nil {
			return err
		}
		kstart = kend
	}
	return nil
}

// Clone returns a copy that owns its buffers: what a failed checkpoint
// could not write, kept for the next one while the dataflow reuses its own.
func (d *StateDelta) Clone() *StateDelta {
	return &StateDelta{
		All:     d.All,
		Epoch:   d.Epoch,
		keys:    append([]byte(nil), d.keys...),
		keyEnds: append([]int(nil), d.keyEnds...),
		vals:    append([]byte(nil), d.vals...),
		valEnds: append([]int(nil), d.valEnds...),
	}
}

// FlowDelta is the StateDelta of operator Op of dataflow Flow.
type FlowDelta struct {
	Flow  string
	Op    int
	Delta *StateDelta
}

// AddDelta records an operator's changes.
func (c *Checkpoint) AddDelta(flow string, op int, d *StateDelta) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.deltas = append(c.deltas, FlowDelta{Flow: flow, Op: op, Delta: d})
}

// Deltas returns the operators' changes.
func (c *Checkpoint) Deltas() []FlowDelta {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]FlowDelta(nil), c.deltas...)
}
