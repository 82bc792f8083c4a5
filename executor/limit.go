package executor

import (
	"context"
)

// Limit passes through at most count rows after skipping offset rows. Chunks
// that straddle a boundary are sliced without copying.
//
// Once it has passed count rows, Done reports true: the driver stops feeding
// it, which is what makes `SELECT ... LIMIT 10` over a large input cheap.
type Limit struct {
	remaining int64 // rows still to pass; < 0 means no limit
	skip      int64 // rows still to skip
}

var _ Operator = (*Limit)(nil)

// NewLimit passes through at most count rows after skipping offset (a
// negative count means no limit; the planner rejects a negative OFFSET, and
// one is treated as 0).
func NewLimit(count, offset int64) *Limit {
	if count < 0 {
		count = -1
	}
	return &Limit{remaining: count, skip: max(offset, 0)}
}

// Done reports whether the limit has passed all the rows it ever will.
func (l *Limit) Done() bool { return l.remaining == 0 }

// Process emits the part of c that falls within the window.
func (l *Limit) Process(ctx context.Context, _ int, c Chunk, emit Emit) error {
	if c.Ops != nil {
		return errBatchOnly("limit")
	}
	n := int64(c.Len())
	if n == 0 || l.Done() {
		return nil
	}
	from := min(l.skip, n)
	l.skip -= from
	to := n
	if l.remaining >= 0 {
		to = min(n, from+l.remaining)
		l.remaining -= to - from
	}
	if from == to {
		return nil
	}
	if from == 0 && to == n {
		return emit(ctx, c)
	}
	rec := c.Rec.NewSlice(from, to)
	defer rec.Release()
	return emit(ctx, Chunk{Rec: rec})
}
