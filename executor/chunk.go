package executor

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow"
)

// Op is what a row of a chunk does to the relation downstream.
type Op uint8

const (
	Insert Op = iota
	Delete
)

func (o Op) String() string {
	if o == Delete {
		return "-"
	}
	return "+"
}

// Chunk is a batch of rows with an operation per row. Ops is nil when every
// row is an insert, which is the common case for append-only streams and
// costs nothing. An update travels as a delete of the old row followed by an
// insert of the new one, in that order within a chunk.
type Chunk struct {
	Rec arrow.Record
	Ops []Op
}

// Len is the number of rows.
func (c Chunk) Len() int {
	if c.Rec == nil {
		return 0
	}
	return int(c.Rec.NumRows())
}

// OpAt returns the op of row i.
func (c Chunk) OpAt(i int) Op {
	if c.Ops == nil {
		return Insert
	}
	return c.Ops[i]
}

// Release releases the chunk's record.
func (c Chunk) Release() {
	if c.Rec != nil {
		c.Rec.Release()
	}
}

// Emit passes a chunk to the next operator. The callee does not take
// ownership: it retains the record if it keeps it.
type Emit func(ctx context.Context, c Chunk) error

// Operator is one step of a dataflow. It is driven by a single goroutine, never
// reads the wall clock and never starts goroutines, so that its behaviour is a
// function of its inputs alone.
type Operator interface {
	// Process handles a chunk from input `input` (0 for single-input
	// operators) and emits any output.
	Process(ctx context.Context, input int, c Chunk, emit Emit) error
}

// WatermarkHandler is implemented by operators that act when event time
// advances. wm is the stream's watermark in microseconds of event time.
type WatermarkHandler interface {
	Watermark(ctx context.Context, wm int64, emit Emit) error
}

// BarrierHandler is implemented by operators that hold output until the end
// of an epoch (aggregations emit their changed groups once per epoch).
type BarrierHandler interface {
	Barrier(ctx context.Context, b Barrier, emit Emit) error
}

// Finisher is implemented by operators that emit at the end of a bounded
// input (batch mode): sorts, aggregations.
type Finisher interface {
	Finish(ctx context.Context, emit Emit) error
}

// Barrier closes an epoch. Every input of a dataflow receives each barrier
// once, after all the data of the epoch, so that when a barrier has passed an
// operator, its state is that of the epoch's consistent cut.
type Barrier struct {
	Epoch uint64
	// Checkpoint, when set, makes this barrier a checkpoint: each dataflow
	// adds its operators' state once the barrier has passed them.
	Checkpoint *Checkpoint
	// Freshness, when set, gathers when the oldest data of the epoch was
	// read from its source, so that the coordinator can tell how long it took
	// to become visible.
	Freshness *Freshness
}
