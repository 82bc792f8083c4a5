package executor

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Freshness gathers, for one epoch, the earliest time at which data of the
// epoch was read from a source.
type Freshness struct {
	oldest atomic.Int64 // Unix nanoseconds; 0 while nothing was read
}

func (f *Freshness) observe(readAt int64) {
	for {
		cur := f.oldest.Load()
		if cur != 0 && cur <= readAt {
			return
		}
		if f.oldest.CompareAndSwap(cur, readAt) {
			return
		}
	}
}

// FreshnessStats keeps the freshness of recent epochs: the time from the
// moment the oldest data of an epoch was read to the moment the epoch became
// visible in every view. That is the staleness of the least fresh event the
// epoch made visible, so its percentiles bound those of every event.
type FreshnessStats struct {
	mu      sync.Mutex
	samples []float64 // milliseconds, a ring of the latest maxFreshnessSamples
	next    int
	full    bool
}

// maxFreshnessSamples bounds the epochs remembered: at the default 10 ms
// barrier interval, a little under three minutes.
const maxFreshnessSamples = 1 << 14

func (s *FreshnessStats) record(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ms := float64(d) / float64(time.Millisecond)
	if len(s.samples) < maxFreshnessSamples {
		s.samples = append(s.samples, ms)
		return
	}
	s.samples[s.next] = ms
	s.next = (s.next + 1) % maxFreshnessSamples
}

// Reset forgets the samples.
func (s *FreshnessStats) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.samples, s.next = s.samples[:0], 0
}

// Percentiles returns the p-th percentiles (0 < p ≤ 100) of the remembered
// epochs' freshness in milliseconds, and how many epochs they cover.
func (s *FreshnessStats) Percentiles(ps ...float64) ([]float64, int) {
	s.mu.Lock()
	sorted := slices.Clone(s.samples)
	s.mu.Unlock()
	slices.Sort(sorted)
	out := make([]float64, len(ps))
	if len(sorted) == 0 {
		return out, 0
	}
	for i, p := range ps {
		k := int(p/100*float64(len(sorted))+0.5) - 1
		out[i] = sorted[min(max(k, 0), len(sorted)-1)]
	}
	return out, len(sorted)
}
