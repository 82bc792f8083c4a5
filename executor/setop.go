package executor

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sluicedb/sluice/plan"
)

// UNION ALL, INTERSECT [ALL] and EXCEPT [ALL] in batch mode (plan.SetOp).
// UNION ALL streams its inputs through; INTERSECT and EXCEPT count each
// distinct row on both sides in a hash table keyed by the row's encoding
// (in which NULL equals NULL, as set operations compare rows), then output
// the left rows the counts keep.

// runSetOp runs n, calling emit with its output.
func (b *batchRun) runSetOp(ctx context.Context, n *plan.SetOp, emit Emit) error {
	schema := n.Cols.Arrow()
	if n.Op == plan.Union {
		relabel := func(ctx context.Context, c Chunk) error {
			// The inputs carry their own column names; the output has
			// the set operation's.
			rec := array.NewRecord(schema, c.Rec.Columns(), c.Rec.NumRows())
			defer rec.Release()
			return emit(ctx, Chunk{Rec: rec})
		}
		if err := b.run(ctx, n.Left, relabel); err != nil {
			return err
		}
		return b.run(ctx, n.Right, relabel)
	}

	cols := allColumns(len(n.Cols))
	enc := NewRowEncoder(cols, n.Cols.Types())
	type counts struct {
		first       int32 // the row of left that outputs the group
		left, right int64
	}
	groups := map[string]*counts{}
	var order []*counts // first appearance, for a stable output

	var left []arrow.Record
	defer func() {
		for _, r := range left {
			r.Release()
		}
	}()
	offset := int32(0)
	if err := b.run(ctx, n.Left, func(_ context.Context, c Chunk) error {
		c.Rec.Retain()
		left = append(left, c.Rec)
		for i, k := range enc.Encode(c.Rec) {
			g, ok := groups[string(k)]
			if !ok {
				g = &counts{first: offset + int32(i)}
				groups[string(k)] = g
				order = append(order, g)
			}
			g.left++
		}
		offset += int32(c.Rec.NumRows())
		return nil
	}); err != nil {
		return err
	}
	if err := b.run(ctx, n.Right, func(_ context.Context, c Chunk) error {
		for _, k := range enc.Encode(c.Rec) {
			if g, ok := groups[string(k)]; ok {
				g.right++
			}
		}
		return nil
	}); err != nil {
		return err
	}

	var take []int32
	for _, g := range order {
		var copies int64
		switch n.Op {
		case plan.Intersect:
			copies = min(g.left, g.right)
		case plan.Except:
			copies = max(g.left-g.right, 0)
		}
		if !n.All {
			copies = min(copies, 1)
		}
		for range copies {
			take = append(take, g.first)
		}
	}
	if len(take) == 0 {
		return nil
	}

	mem := b.ectx.Alloc
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	whole := make([]arrow.Array, len(cols))
	defer func() {
		for _, a := range whole {
			if a != nil {
				a.Release()
			}
		}
	}()
	for j := range whole {
		parts := make([]arrow.Array, len(left))
		for i, r := range left {
			parts[i] = r.Column(j)
		}
		a, err := array.Concatenate(parts, mem)
		if err != nil {
			return fmt.Errorf("%s: %w", n.Explain(), err)
		}
		whole[j] = a
	}
	for lo := 0; lo < len(take); lo += tableFunctionPiece {
		idx := take[lo:min(lo+tableFunctionPiece, len(take))]
		out := make([]arrow.Array, len(cols))
		if err := takeColumns(ctx, whole, idx, nil, 0, out); err != nil {
			return fmt.Errorf("%s: %w", n.Explain(), err)
		}
		rec := array.NewRecord(schema, out, int64(len(idx)))
		for _, a := range out {
			a.Release()
		}
		err := emit(ctx, Chunk{Rec: rec})
		rec.Release()
		if err != nil {
			return err
		}
	}
	return nil
}
