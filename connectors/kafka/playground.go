package kafka

// This file is the only one outside tests that imports kfake, franz-go's
// in-process fake Kafka cluster: the connector never uses it, only the
// playground command does.

import (
	"context"
	"fmt"
	"net"

	"github.com/twmb/franz-go/pkg/kfake"
)

// StartBroker starts an in-process, Kafka-compatible broker listening on
// addr (such as 127.0.0.1:9092) with topics pre-created with partitions
// partitions each, for `sluice playground` and for tests. Its data lives in
// memory and is gone once stop returns. Clients may create further topics.
// ctx bounds the start only; the broker runs until stop is called.
func StartBroker(ctx context.Context, addr string, partitions int32, topics ...string) (stop func(), err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if partitions < 1 {
		return nil, fmt.Errorf("start broker: %d partitions: need at least 1", partitions)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("start broker: %w", err)
	}
	opts := []kfake.Opt{
		kfake.NumBrokers(1),
		// The listener is made here so that the address is exactly addr
		// (kfake would listen on 127.0.0.1 only) and its errors come back
		// to the caller.
		kfake.ListenFn(func(network, _ string) (net.Listener, error) { return ln, nil }),
		kfake.AllowAutoTopicCreation(),
		kfake.DefaultNumPartitions(int(partitions)),
	}
	if len(topics) > 0 {
		opts = append(opts, kfake.SeedTopics(partitions, topics...))
	}
	cluster, err := kfake.NewCluster(opts...)
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("start broker: %w", err)
	}
	return cluster.Close, nil
}
