package engine

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sluicedb/sluice/connectors"
	"github.com/sluicedb/sluice/executor"
	"github.com/sluicedb/sluice/types"
)

// flakySink fails its first commits, as a system that is down for a while.
type flakySink struct {
	mu        *sync.Mutex
	failLeft  *int
	written   *[]int64 // the values written, in order, across reopenings
	pending   []int64
	delivered chan struct{}
}

func (f *flakySink) Write(_ context.Context, b connectors.SinkBatch) error {
	col := b.Record.Column(0).(*array.Int64)
	for i := 0; i < col.Len(); i++ {
		f.pending = append(f.pending, col.Value(i))
	}
	return nil
}

func (f *flakySink) Commit(context.Context, uint64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if *f.failLeft > 0 {
		*f.failLeft--
		return errors.New("broker unreachable")
	}
	*f.written = append(*f.written, f.pending...)
	f.pending = nil
	f.delivered <- struct{}{}
	return nil
}

func (f *flakySink) Close() error { return nil }

func TestDelivererRetriesAnEpochUntilItIsConfirmed(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var mu sync.Mutex
	failLeft := 3
	var written []int64
	delivered := make(chan struct{}, 10)
	open := func(context.Context) (connectors.Sink, error) {
		return &flakySink{mu: &mu, failLeft: &failLeft, written: &written, delivered: delivered}, nil
	}
	first, _ := open(ctx)
	stats := executor.NewSinkStats()
	d := newDeliverer("test", first, open, stats, slog.New(slog.NewTextHandler(io.Discard, nil)))
	runCtx, stop := context.WithCancel(ctx)
	go d.run(runCtx)

	schema := types.Schema{{Name: "x", Type: types.Int8}}
	for epoch, vals := range [][]int64{{1, 2}, {3}} {
		b := array.NewInt64Builder(memory.DefaultAllocator)
		b.AppendValues(vals, nil)
		col := b.NewArray()
		rec := array.NewRecord(schema.Arrow(), []arrow.Array{col}, int64(len(vals)))
		col.Release()
		if err := d.Write(ctx, executor.Chunk{Rec: rec}); err != nil {
			t.Fatal(err)
		}
		rec.Release()
		if err := d.Commit(ctx, uint64(epoch+1)); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 2; i++ {
		select {
		case <-delivered:
		case <-ctx.Done():
			t.Fatal("epochs were not delivered")
		}
	}
	stop()
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(written) != 3 || written[0] != 1 || written[1] != 2 || written[2] != 3 {
		t.Fatalf("delivered %v, want [1 2 3] in order with nothing lost or doubled", written)
	}
	if got := stats.Rows.Load(); got != 3 {
		t.Fatalf("rows delivered = %d, want 3", got)
	}
}

// A sink that waits for checkpoints must not wait for room in its queue when
// everything queued waits for the next checkpoint: that checkpoint needs the
// barrier that is committing the epoch. The epoch is taken beyond the bound
// and a checkpoint is asked for at once.
func TestGatedDelivererDoesNotWaitForTheCheckpointItHoldsUp(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	open := func(context.Context) (connectors.Sink, error) { return nil, errors.New("not needed") }
	d := newDeliverer("test", nil, open, executor.NewSinkStats(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	asked := 0
	d.gated, d.wantCheckpoint = true, func() { asked++ }
	defer d.Close()
	close(d.done) // no delivery goroutine: nothing may leave the queue

	schema := types.Schema{{Name: "x", Type: types.Int8}}
	rows := make([]int64, maxQueuedRows/2+1)
	for epoch := uint64(1); epoch <= 3; epoch++ {
		b := array.NewInt64Builder(memory.DefaultAllocator)
		b.AppendValues(rows, nil)
		col := b.NewArray()
		rec := array.NewRecord(schema.Arrow(), []arrow.Array{col}, int64(len(rows)))
		col.Release()
		if err := d.Write(ctx, executor.Chunk{Rec: rec}); err != nil {
			t.Fatal(err)
		}
		rec.Release()
		if err := d.Commit(ctx, epoch); err != nil {
			t.Fatal(err)
		}
	}
	if asked == 0 {
		t.Error("the deliverer went over its bound without asking for a checkpoint")
	}
	if got := d.Pending(); got != int64(3*len(rows)) {
		t.Errorf("pending = %d, want all %d rows held", got, 3*len(rows))
	}
}
