package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/sluicedb/sluice/connectors"
	"github.com/sluicedb/sluice/executor"
)

// feedTable runs the readers of the connector that feeds a table (CREATE
// TABLE ... WITH (connector = ...)). Each batch is applied to the table by
// primary key and stored together with the split's position, so a restart
// resumes each split after the last change the table holds: nothing lost,
// nothing applied twice. A ChangelogSource is told a position once it is
// durable.
func (e *Engine) feedTable(rt *tableRuntime, src connectors.Source) error {
	from := map[string]connectors.Position{}
	if e.store != nil {
		err := e.store.Table(rt.obj.Name).Positions(func(split, pos string) { from[split] = connectors.Position(pos) })
		if err != nil {
			return fmt.Errorf("read the positions of table %s: %w", rt.obj.Name, err)
		}
	}
	ctx, cancel := context.WithCancel(e.ctx)
	var wg sync.WaitGroup
	rt.feedStats = executor.NewSourceStats()
	rt.stopFeed = func() {
		cancel()
		wg.Wait()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		select {
		case <-e.recovered:
		case <-ctx.Done():
			return
		}
		backoff := 100 * time.Millisecond
		for {
			splits, err := src.Splits(ctx)
			if err == nil {
				for i, sp := range splits {
					wg.Add(1)
					go func() {
						defer wg.Done()
						e.feedSplit(ctx, rt, src, sp, i, from[sp.ID])
					}()
				}
				return
			}
			rt.feedStats.SetStatus(fmt.Sprintf("retrying: %v", err))
			if !sleep(ctx, backoff) {
				return
			}
			backoff = min(2*backoff, 10*time.Second)
		}
	}()
	return nil
}

// feedSplit reads one split into the table until ctx ends, reopening a
// failed reader at the last durable position with backoff.
func (e *Engine) feedSplit(ctx context.Context, rt *tableRuntime, src connectors.Source, split connectors.Split, index int, pos connectors.Position) {
	stats := rt.feedStats
	changelog, _ := src.(connectors.ChangelogSource)
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		r, err := src.Open(ctx, split, pos)
		if err == nil {
			stats.SetStatus("running")
			err = e.applyFeed(ctx, rt, r, split, index, &pos, changelog)
			r.Close()
		}
		switch {
		case ctx.Err() != nil:
			return
		case errors.Is(err, io.EOF):
			stats.SetStatus("finished")
			return
		case err != nil:
			stats.SetStatus(fmt.Sprintf("retrying: %v", err))
			e.logger.Warn("table feed failed", "table", rt.obj.Name, "split", split.ID, "err", err)
			if !sleep(ctx, backoff) {
				return
			}
			backoff = min(2*backoff, 10*time.Second)
		}
	}
}

func (e *Engine) applyFeed(ctx context.Context, rt *tableRuntime, r connectors.Reader, split connectors.Split, index int, pos *connectors.Position, changelog connectors.ChangelogSource) error {
	stats := rt.feedStats
	for {
		b, err := r.Next(ctx)
		if err != nil {
			return err
		}
		countBatch(stats, r, index, b)
		if b.Record == nil && b.Position == "" {
			continue
		}
		var ops []executor.Op
		if b.Kinds != nil {
			ops = make([]executor.Op, len(b.Kinds))
			for i, k := range b.Kinds {
				if k == connectors.RowDelete {
					ops[i] = executor.Delete
				}
			}
		}
		err = rt.store.ApplyChanges(ctx, e.alloc, b.Record, ops, split.ID, string(b.Position))
		if b.Record != nil {
			stats.Rows.Add(b.Record.NumRows())
			b.Record.Release()
		}
		if err != nil {
			return err
		}
		if b.Position != "" {
			*pos = b.Position
			if changelog != nil {
				if err := changelog.Acknowledge(ctx, split, b.Position); err != nil {
					return fmt.Errorf("acknowledge %s: %w", b.Position, err)
				}
			}
		}
	}
}
