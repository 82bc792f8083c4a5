package blackhole

import (
	"context"

	"github.com/sluicedb/sluice/connectors"
)

// Connector returns the blackhole sink's declaration.
func Connector() connectors.Connector {
	return connectors.Connector{
		Name: "blackhole",
		Doc:  "Discards every change (a sink for benchmarks and tests).",
		Sink: &connectors.SinkSpec{
			Doc:       "Discards every change; SHOW SINKS still counts the rows.",
			Types:     []string{"append-only", "upsert"},
			Guarantee: "exactly-once",
			NewSink: func(context.Context, connectors.SinkConfig) (connectors.Sink, error) {
				return sink{}, nil
			},
		},
	}
}

type sink struct{}

func (sink) Write(context.Context, connectors.SinkBatch) error { return nil }
func (sink) Commit(context.Context, uint64) error              { return nil }
func (sink) Close() error                                      { return nil }
