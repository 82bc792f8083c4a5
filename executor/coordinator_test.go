package executor

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"
)

// A checkpoint that cannot be written (a full disk) is retried at the next
// interval, and epochs go on meanwhile.
func TestFailedCheckpointIsRetriedAndEpochsGoOn(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := NewCoordinator(time.Millisecond, slog.New(slog.NewTextHandler(io.Discard, nil)))
	var mu sync.Mutex
	var seen []uint64 // the epoch of each checkpoint persisted
	fails := 1
	done := make(chan struct{})
	c.SetCheckpointing(time.Millisecond, func(_ context.Context, cp *Checkpoint) error {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, cp.Epoch)
		if fails > 0 {
			fails--
			return errors.New("no space left on device")
		}
		if len(seen) == 3 {
			close(done)
		}
		return nil
	})
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	go c.Run(runCtx)
	select {
	case <-done:
	case <-ctx.Done():
		t.Fatal("checkpoints stopped after a failed one")
	}
	stop()
	mu.Lock()
	defer mu.Unlock()
	if !(seen[0] < seen[1] && seen[1] < seen[2]) {
		t.Errorf("epochs of the first three checkpoints = %v, want increasing", seen[:3])
	}
}
