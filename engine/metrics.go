package engine

import (
	"github.com/sluicedb/sluice/catalog"
)

// Metrics is what the engine's objects have done so far, for monitoring
// (the /metrics endpoint); the SHOW statements report the same numbers.
type Metrics struct {
	Sources     []SourceMetrics
	Sinks       []SinkMetrics
	Views       []ViewMetrics
	Checkpoints CheckpointStatus
	Spill       SpillStatus
	// FreshnessP50 and FreshnessP99 are the median and 99th percentile,
	// in milliseconds, of recent epochs' freshness; FreshnessEpochs counts
	// the epochs they cover (0: nothing measured yet).
	FreshnessP50, FreshnessP99 float64
	FreshnessEpochs            int
}

// SourceMetrics are a source's (or a connector-fed table's) counters.
type SourceMetrics struct {
	Name, Connector                  string
	Rows, Bytes, LateRows, ErrorRows int64
	Backlog                          int64
	HasBacklog                       bool
}

// SinkMetrics are a sink's counters.
type SinkMetrics struct {
	Name, Connector                string
	Rows, Pending, Failed, Retries int64
}

// ViewMetrics are a materialized view's counters.
type ViewMetrics struct {
	Name              string
	Rows, ErrorChunks int64
}

// Metrics reads every counter now.
func (e *Engine) Metrics() Metrics {
	m := Metrics{Checkpoints: e.Checkpoints(), Spill: e.Spill()}
	if ps, n := e.Freshness().Percentiles(50, 99); n > 0 {
		m.FreshnessP50, m.FreshnessP99, m.FreshnessEpochs = ps[0], ps[1], n
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	for _, o := range e.cat.List(catalog.Source) {
		if rt := e.sources[o.Name]; rt != nil {
			sum := rt.readings.summary()
			m.Sources = append(m.Sources, SourceMetrics{Name: o.Name, Connector: o.Connector, Rows: sum.rows, Bytes: sum.bytes,
				LateRows: sum.late, ErrorRows: sum.errs, Backlog: sum.backlog, HasBacklog: sum.hasBacklog})
		}
	}
	for _, o := range e.cat.List(catalog.Table) {
		if rt := e.tables[o.Name]; rt != nil && rt.feedStats != nil {
			st := rt.feedStats
			backlog, ok := st.Backlog()
			m.Sources = append(m.Sources, SourceMetrics{Name: o.Name, Connector: o.Connector, Rows: st.Rows.Load(), Bytes: st.Bytes.Load(),
				LateRows: st.LateRows.Load(), ErrorRows: st.ErrorRows.Load(), Backlog: backlog, HasBacklog: ok})
		}
	}
	for _, o := range e.cat.List(catalog.Sink) {
		if rt := e.sinks[o.Name]; rt != nil {
			m.Sinks = append(m.Sinks, SinkMetrics{Name: o.Name, Connector: o.Connector, Rows: rt.stats.Rows.Load(),
				Pending: rt.sink.Pending(), Failed: rt.stats.Failed.Load(), Retries: rt.stats.Retries.Load()})
		}
	}
	for _, o := range e.cat.List(catalog.MaterializedView) {
		if rt := e.views[o.Name]; rt != nil {
			n, _ := rt.flow.Errors()
			m.Views = append(m.Views, ViewMetrics{Name: o.Name, Rows: rt.store.Len(), ErrorChunks: n})
		}
	}
	return m
}
