package executor

import "context"

// TapBatch is what a Tap hands out: the changes of one epoch, complete.
type TapBatch struct {
	Epoch  uint64
	Chunks []Chunk // the receiver releases them
}

// Tap is the last operator of a subscription (SUBSCRIBE): it collects the
// changes of each epoch and hands them out, complete, when the epoch's
// barrier passes, so a subscriber sees consistent cuts in epoch order. The
// channel is bounded: a subscriber that does not keep up slows the view
// down rather than losing changes.
type Tap struct {
	out     chan TapBatch
	pending []Chunk
}

// NewTap returns a tap whose batches come out of Out.
func NewTap() *Tap { return &Tap{out: make(chan TapBatch, 16)} }

// Out delivers the epochs' changes.
func (t *Tap) Out() <-chan TapBatch { return t.out }

// Process keeps c for the end of the epoch.
func (t *Tap) Process(_ context.Context, _ int, c Chunk, _ Emit) error {
	if c.Len() == 0 {
		return nil
	}
	c.Rec.Retain()
	t.pending = append(t.pending, c)
	return nil
}

// Barrier hands out the epoch's changes.
func (t *Tap) Barrier(ctx context.Context, b Barrier, _ Emit) error {
	if len(t.pending) == 0 {
		return nil
	}
	batch := TapBatch{Epoch: b.Epoch, Chunks: t.pending}
	t.pending = nil
	select {
	case t.out <- batch:
		return nil
	case <-ctx.Done():
		for _, c := range batch.Chunks {
			c.Release()
		}
		return ctx.Err()
	}
}
