package rabbitmq

import (
	"context"

	"github.com/sluicedb/sluice/connectors"
)

// Option keys. RisingWave has no RabbitMQ source; the names follow its
// style (url as for MQTT, dotted words).
const (
	optURL             = "url"
	optQueue           = "queue"
	optQueueDeclare    = "queue.declare"
	optQueueDurable    = "queue.durable"
	optExchange        = "exchange"
	optRoutingKey      = "routing.key"
	optPrefetch        = "prefetch"
	optConsumerTag     = "consumer.tag"
	optDeadLetter      = "dead_letter.exchange"
	optTLSCA           = connectors.OptTLSCA
	optTLSCert         = connectors.OptTLSClientCert
	optTLSKey          = connectors.OptTLSClientKey
	optTLSInsecureSkip = connectors.OptTLSInsecureSkipVerify
	optBatchSize       = "batch.size"
	optBatchLinger     = "batch.linger"
)

// Connector describes the RabbitMQ source.
func Connector() connectors.Connector {
	return connectors.Connector{
		Name:    "rabbitmq",
		Doc:     "Messages of a RabbitMQ queue (AMQP 0-9-1), JSON or CSV in each message's body, acknowledged once Sluice has taken them.",
		Options: sourceOptions(),
		Encodes: []string{"JSON", "CSV"},
		NewSource: func(ctx context.Context, cfg connectors.SourceConfig) (connectors.Source, error) {
			return NewSource(ctx, cfg)
		},
	}
}

func sourceOptions() []connectors.Option {
	return []connectors.Option{
		{Key: optURL, Type: connectors.OptString, Required: true,
			Doc: "The broker, as amqp://user:password@host:port/vhost, or amqps:// for TLS."},
		{Key: optQueue, Type: connectors.OptString, Required: true,
			Doc: "The queue to consume."},
		{Key: optQueueDeclare, Type: connectors.OptBool, Default: "true",
			Doc: "Declare the queue (with queue.durable, and dead_letter.exchange as its x-dead-letter-exchange) when it does not exist; false requires it to exist."},
		{Key: optQueueDurable, Type: connectors.OptBool, Default: "true",
			Doc: "Whether a queue Sluice declares survives a broker restart. It must match an existing queue's."},
		{Key: optExchange, Type: connectors.OptString,
			Doc: "An exchange to bind the queue to, with routing.key; the exchange must exist."},
		{Key: optRoutingKey, Type: connectors.OptString,
			Doc: "The binding key of the queue's binding to exchange (such as 'orders.*' for a topic exchange); empty when not set."},
		{Key: optPrefetch, Type: connectors.OptInt, Default: "10000",
			Doc: "The most messages delivered and not yet acknowledged (basic.qos): the bound on what waits in memory for a slow view. With checkpoints, messages are acknowledged at each checkpoint, so this also bounds the messages read per checkpoint interval."},
		{Key: optConsumerTag, Type: connectors.OptString,
			Doc: "The consumer tag, shown in RabbitMQ's tools; the broker generates one when not set."},
		{Key: optDeadLetter, Type: connectors.OptString,
			Doc: "An exchange that receives the messages that do not decode: they are rejected instead of acknowledged, and a queue Sluice declares gets this exchange as its x-dead-letter-exchange (an existing queue needs it in its own arguments or policy)."},
		{Key: optTLSCA, Type: connectors.OptString,
			Doc: "With amqps://: a PEM file of the CA certificates that sign the broker's certificate; the system's CAs when not set."},
		{Key: optTLSCert, Type: connectors.OptString,
			Doc: "With amqps://: a PEM file of the client's certificate, for brokers that authenticate clients by TLS; needs tls.client_key too."},
		{Key: optTLSKey, Type: connectors.OptString,
			Doc: "A PEM file of the client certificate's private key (not encrypted)."},
		{Key: optTLSInsecureSkip, Type: connectors.OptBool, Default: "false",
			Doc: "With amqps://: accept any broker certificate without checking it. For tests only."},
		{Key: optBatchSize, Type: connectors.OptInt, Default: "1024",
			Doc: "The most messages in one batch (no more than prefetch are ever waiting)."},
		{Key: optBatchLinger, Type: connectors.OptDuration, Default: "10ms",
			Doc: "How long a batch waits for more messages after its first; 0 takes only the messages already delivered."},
	}
}
