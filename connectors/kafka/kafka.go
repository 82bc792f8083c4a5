package kafka

import (
	"context"

	"github.com/sluicedb/sluice/connectors"
)

// Option keys, spelled as RisingWave spells them (the Kafka client property
// after "properties."), so that statements move between the two unchanged.
const (
	optTopic     = "topic"
	optBootstrap = "properties.bootstrap.server"
	optClientID  = "properties.client.id"

	optSecurityProtocol = "properties.security.protocol"
	optSSLCA            = "properties.ssl.ca.location"
	optSSLCert          = "properties.ssl.certificate.location"
	optSSLKey           = "properties.ssl.key.location"
	optSSLEndpointAlgo  = "properties.ssl.endpoint.identification.algorithm"
	optSASLMechanism    = "properties.sasl.mechanism"
	optSASLUser         = "properties.sasl.username"
	optSASLPassword     = "properties.sasl.password"

	optStartupMode   = "scan.startup.mode"
	optStartupMillis = "scan.startup.timestamp.millis"
	optGroupID       = "group.id"
	optDeadLetter    = "dead_letter.topic"
	optDiscovery     = "partition.discovery.interval"
	optBatchSize     = "batch.size"

	optLinger      = "properties.linger.ms"
	optBatchNum    = "properties.batch.num.messages"
	optCompression = "properties.compression.codec"
	optMaxMessage  = "properties.message.max.bytes"

	optDelivery        = "sink.delivery.guarantee"
	optTransactionalID = "properties.transactional.id"
)

// Delivery guarantees of the sink (the sink.delivery.guarantee option).
const (
	deliveryExactlyOnce = "exactly-once"
	deliveryAtLeastOnce = "at-least-once"
)

// Headers of every message an exactly-once sink writes: the epoch, in
// decimal ASCII, and the sink's transactional id. LastCommitted looks for
// them; a consumer may use them to tell epochs apart.
const (
	headerEpoch           = "sluice-epoch"
	headerTransactionalID = "sluice-transactional-id"
)

// Security protocols and SASL mechanisms, as Kafka's clients name them.
const (
	protoPlaintext     = "PLAINTEXT"
	protoSSL           = "SSL"
	protoSASLPlaintext = "SASL_PLAINTEXT"
	protoSASLSSL       = "SASL_SSL"

	mechPlain  = "PLAIN"
	mechSHA256 = "SCRAM-SHA-256"
	mechSHA512 = "SCRAM-SHA-512"
)

// Sink types.
const (
	typeAppendOnly = "append-only"
	typeUpsert     = "upsert"
)

// connectionOptions are the options that say where the brokers are and how
// to reach them; the source and the sink both take them.
func connectionOptions(topicDoc string) []connectors.Option {
	return []connectors.Option{
		{Key: optTopic, Type: connectors.OptString, Required: true, Doc: topicDoc},
		{Key: optBootstrap, Type: connectors.OptString, Required: true,
			Doc: "The brokers to connect to first, as host:port, comma-separated; the rest of the cluster is discovered from them."},
		{Key: optClientID, Type: connectors.OptString, Default: "sluice",
			Doc: "The client id sent to the brokers, shown in their logs and quotas."},
		{Key: optSecurityProtocol, Type: connectors.OptEnum, Default: protoPlaintext,
			Values: []string{protoPlaintext, protoSSL, protoSASLPlaintext, protoSASLSSL},
			Doc:    "How to talk to the brokers: in the clear, over TLS (SSL), with SASL authentication, or both."},
		{Key: optSSLCA, Type: connectors.OptString,
			Doc: "A PEM file of the CA certificates that sign the brokers' certificates; the system's CAs when not set."},
		{Key: optSSLCert, Type: connectors.OptString,
			Doc: "A PEM file of the client's certificate, for brokers that authenticate clients by TLS; needs the key too."},
		{Key: optSSLKey, Type: connectors.OptString,
			Doc: "A PEM file of the client certificate's private key (not encrypted)."},
		{Key: optSSLEndpointAlgo, Type: connectors.OptEnum, Default: "https", Values: []string{"https", "none"},
			Doc: "https checks that a broker's certificate names the host connected to; none checks only that a trusted CA signed it."},
		{Key: optSASLMechanism, Type: connectors.OptEnum, Default: mechPlain,
			Values: []string{mechPlain, mechSHA256, mechSHA512},
			Doc:    "The SASL mechanism, with security.protocol SASL_PLAINTEXT or SASL_SSL."},
		{Key: optSASLUser, Type: connectors.OptString,
			Doc: "The SASL user name."},
		{Key: optSASLPassword, Type: connectors.OptString,
			Doc: "The SASL password."},
	}
}

// Connector describes the Kafka source and sink.
func Connector() connectors.Connector {
	return connectors.Connector{
		Name:     "kafka",
		Doc:      "Records of a Kafka topic, one split per partition, JSON or CSV in each message's value.",
		Options:  sourceOptions(),
		Encodes:  []string{"JSON", "CSV"},
		Includes: includeNames,
		NewSource: func(ctx context.Context, cfg connectors.SourceConfig) (connectors.Source, error) {
			return NewSource(ctx, cfg)
		},
		Sink: &connectors.SinkSpec{
			Doc:       "Each change written as a Kafka message: JSON or CSV in the value, the primary key in the key, a tombstone for a deleted key.",
			Options:   sinkOptions(),
			Encodes:   []string{"JSON", "CSV"},
			Types:     []string{typeAppendOnly, typeUpsert},
			Guarantee: deliveryExactlyOnce,
			NewSink: func(ctx context.Context, cfg connectors.SinkConfig) (connectors.Sink, error) {
				return NewSink(ctx, cfg)
			},
		},
	}
}

func sourceOptions() []connectors.Option {
	conn := connectionOptions("The topic to read.")
	opts := append(conn[:2:2], []connectors.Option{
		{Key: optStartupMode, Type: connectors.OptEnum, Default: "earliest", Values: []string{"earliest", "latest", "timestamp"},
			Doc: "Where a new reader starts in each partition: earliest (the oldest message kept), latest (only messages produced from now on) or timestamp (see scan.startup.timestamp.millis)."},
		{Key: optStartupMillis, Type: connectors.OptInt,
			Doc: "Start at the first message of each partition whose timestamp is at or after this time (Unix milliseconds), or at its end when there is none; setting it implies scan.startup.mode timestamp."},
		{Key: optGroupID, Type: connectors.OptString,
			Doc: "A consumer group to commit read offsets to, so that lag shows in Kafka's tools. Sluice resumes from its own positions, never from the group's."},
		{Key: optDeadLetter, Type: connectors.OptString,
			Doc: "A topic to copy each message that does not decode to, with headers sluice.source, sluice.topic, sluice.partition, sluice.offset and sluice.error."},
		{Key: optDiscovery, Type: connectors.OptDuration, Default: "10s",
			Doc: "How often the topic is checked for partitions added to it, which are then read from their start; 0 disables the check."},
		{Key: optBatchSize, Type: connectors.OptInt, Default: "1024",
			Doc: "The most messages in one batch; a batch does not wait to be full."},
	}...)
	return append(opts, conn[2:]...)
}

func sinkOptions() []connectors.Option {
	conn := connectionOptions("The topic to write to; it must exist unless the brokers create topics on first use.")
	opts := append(conn[:2:2], []connectors.Option{
		{Key: optLinger, Type: connectors.OptInt, Default: "5",
			Doc: "How long, in milliseconds, messages wait to be sent together; 0 sends at once."},
		{Key: optBatchNum, Type: connectors.OptInt, Default: "10000",
			Doc: "The most messages in one request to a broker; a request is sent at once when it holds this many."},
		{Key: optCompression, Type: connectors.OptEnum, Default: "none", Values: []string{"none", "gzip", "snappy", "lz4", "zstd"},
			Doc: "How message batches are compressed."},
		{Key: optMaxMessage, Type: connectors.OptInt, Default: "1000000",
			Doc: "The largest message, in bytes, and the largest request; a bigger message fails its delivery. It must not exceed the broker's message.max.bytes."},
		{Key: optDelivery, Type: connectors.OptEnum, Default: deliveryExactlyOnce, Values: []string{deliveryExactlyOnce, deliveryAtLeastOnce},
			Doc: "exactly-once writes each epoch in one Kafka transaction, its messages carrying the headers sluice-epoch (the epoch in decimal) and sluice-transactional-id, so that read_committed consumers see every change once, even across failures and restarts; at-least-once writes without transactions, and a failure may repeat messages."},
		{Key: optTransactionalID, Type: connectors.OptString,
			Doc: "The transactional id of an exactly-once sink; when not set, sluice-sink- followed by the sink's name. It must be the same after a restart and differ between sinks, so that a new producer fences the old one."},
	}...)
	return append(opts, conn[2:]...)
}
