package datagen

import (
	"context"
	"math"
	"time"
)

// pacer spreads a split's rows over time: row j after the split was opened
// is due at start + j/rate. It is a token bucket holding at most one second
// of rows, so that a reader that was not called for a while catches up by at
// most one second's worth instead of bursting.
type pacer struct {
	unlimited bool
	rate      int64 // rows per second; 0 with !unlimited never produces
	start     time.Time
	granted   int64 // rows handed out since start

	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error
}

func newPacer(start time.Time, rate int64, unlimited bool) pacer {
	return pacer{unlimited: unlimited, rate: rate, start: start, now: time.Now, sleep: sleepCtx}
}

// take waits until rows are due and returns how many, at most limit, may be
// produced now. It waits for about 10 ms worth of rows (at least one) rather
// than one row at a time, so that high rates give batches, not a busy loop.
func (p *pacer) take(ctx context.Context, limit int) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if p.unlimited {
		return limit, nil
	}
	if p.rate == 0 {
		// This split's share of the rate is nothing (more splits than rows
		// per second): it never produces.
		<-ctx.Done()
		return 0, ctx.Err()
	}
	want := min(max(p.rate/100, 1), int64(limit))
	for {
		elapsed := p.now().Sub(p.start)
		due := int64(elapsed.Seconds() * float64(p.rate))
		if due-p.granted > p.rate {
			p.granted = due - p.rate
		}
		if avail := due - p.granted; avail >= want {
			n := min(avail, int64(limit))
			p.granted += n
			return int(n), nil
		}
		// Sleep until the want-th row from now is due.
		// (Rounded up, so that the rows are due when it wakes.)
		at := time.Duration(math.Ceil(float64(p.granted+want)/float64(p.rate)*float64(time.Second))) + 1
		if err := p.sleep(ctx, at-elapsed); err != nil {
			return 0, err
		}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
