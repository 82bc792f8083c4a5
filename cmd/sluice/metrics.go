package main

import (
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sluicedb/sluice/engine"
)

// metricsHandler serves GET /metrics in Prometheus's text format: the
// engine's counters, read at each scrape, and the Go runtime's.
func metricsHandler(eng *engine.Engine) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(engineCollector{eng: eng}, prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}

// engineCollector turns engine.Metrics into Prometheus metrics.
type engineCollector struct{ eng *engine.Engine }

var (
	srcLabels  = []string{"source", "connector"}
	sinkLabels = []string{"sink", "connector"}

	descSourceRows      = prometheus.NewDesc("sluice_source_rows_total", "Rows read by the source (by its slowest reading view).", srcLabels, nil)
	descSourceBytes     = prometheus.NewDesc("sluice_source_bytes_total", "Input bytes read by the source.", srcLabels, nil)
	descSourceLate      = prometheus.NewDesc("sluice_source_late_rows_total", "Rows dropped as late (below the watermark).", srcLabels, nil)
	descSourceErrors    = prometheus.NewDesc("sluice_source_error_rows_total", "Records skipped because they could not be decoded.", srcLabels, nil)
	descSourceBacklog   = prometheus.NewDesc("sluice_source_backlog_records", "Records the outside system holds beyond what was read, where it says (Kafka).", srcLabels, nil)
	descSinkRows        = prometheus.NewDesc("sluice_sink_rows_total", "Rows delivered to the sink's system and confirmed.", sinkLabels, nil)
	descSinkPending     = prometheus.NewDesc("sluice_sink_pending_rows", "Rows accepted by the sink, not yet confirmed.", sinkLabels, nil)
	descSinkFailed      = prometheus.NewDesc("sluice_sink_failed_rows_total", "Rows whose delivery failed.", sinkLabels, nil)
	descSinkRetries     = prometheus.NewDesc("sluice_sink_retries_total", "Deliveries of an epoch tried again after a failure.", sinkLabels, nil)
	descViewRows        = prometheus.NewDesc("sluice_view_rows", "Rows of the materialized view.", []string{"view"}, nil)
	descViewErrors      = prometheus.NewDesc("sluice_view_error_chunks_total", "Chunks the view's operators failed on.", []string{"view"}, nil)
	descCheckpoints     = prometheus.NewDesc("sluice_checkpoints_total", "Checkpoints written.", nil, nil)
	descCheckpointFails = prometheus.NewDesc("sluice_checkpoint_failures_total", "Checkpoints that could not be written.", nil, nil)
	descCheckpointTime  = prometheus.NewDesc("sluice_checkpoint_last_write_seconds", "How long writing the last checkpoint took.", nil, nil)
	descCheckpointEpoch = prometheus.NewDesc("sluice_checkpoint_last_epoch", "The epoch (milliseconds since 1970) of the last durable checkpoint.", nil, nil)
	descSpillLimit      = prometheus.NewDesc("sluice_state_memory_limit_bytes", "The memory limit the state of the views is kept within (--memory-limit); 0 for none.", nil, nil)
	descSpillEvicted    = prometheus.NewDesc("sluice_state_evicted_entries_total", "Aggregation groups and view rows dropped from memory once a checkpoint held them.", nil, nil)
	descSpillReloaded   = prometheus.NewDesc("sluice_state_reloaded_entries_total", "Aggregation groups and view rows read back from the data directory.", nil, nil)
	descFreshness       = prometheus.NewDesc("sluice_freshness_seconds", "Per recent epoch, the time from reading its oldest data to its being visible.", []string{"quantile"}, nil)
)

func (c engineCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descSourceRows, descSourceBytes, descSourceLate, descSourceErrors, descSourceBacklog,
		descSinkRows, descSinkPending, descSinkFailed, descSinkRetries, descViewRows, descViewErrors,
		descCheckpoints, descCheckpointFails, descCheckpointTime, descCheckpointEpoch,
		descSpillLimit, descSpillEvicted, descSpillReloaded, descFreshness} {
		ch <- d
	}
}

func (c engineCollector) Collect(ch chan<- prometheus.Metric) {
	m := c.eng.Metrics()
	counter := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	for _, s := range m.Sources {
		counter(descSourceRows, s.Rows, s.Name, s.Connector)
		counter(descSourceBytes, s.Bytes, s.Name, s.Connector)
		counter(descSourceLate, s.LateRows, s.Name, s.Connector)
		counter(descSourceErrors, s.ErrorRows, s.Name, s.Connector)
		if s.HasBacklog {
			gauge(descSourceBacklog, float64(s.Backlog), s.Name, s.Connector)
		}
	}
	for _, s := range m.Sinks {
		counter(descSinkRows, s.Rows, s.Name, s.Connector)
		gauge(descSinkPending, float64(s.Pending), s.Name, s.Connector)
		counter(descSinkFailed, s.Failed, s.Name, s.Connector)
		counter(descSinkRetries, s.Retries, s.Name, s.Connector)
	}
	for _, v := range m.Views {
		gauge(descViewRows, float64(v.Rows), v.Name)
		counter(descViewErrors, v.ErrorChunks, v.Name)
	}
	counter(descCheckpoints, m.Checkpoints.Taken)
	counter(descCheckpointFails, m.Checkpoints.Failed)
	gauge(descCheckpointTime, m.Checkpoints.LastDuration.Seconds())
	gauge(descCheckpointEpoch, float64(m.Checkpoints.LastEpoch))
	gauge(descSpillLimit, float64(m.Spill.Limit))
	counter(descSpillEvicted, m.Spill.Evicted)
	counter(descSpillReloaded, m.Spill.Reloaded)
	if m.FreshnessEpochs > 0 {
		for q, v := range map[float64]float64{0.5: m.FreshnessP50, 0.99: m.FreshnessP99} {
			gauge(descFreshness, v/1000, strconv.FormatFloat(q, 'g', -1, 64))
		}
	}
}
