package mqtt

import (
	"context"

	"github.com/sluicedb/sluice/connectors"
)

// Option keys: RisingWave's where it has one (url, topic, qos, username,
// password, clean_start, inflight_messages, max_packet_size, tls.ca,
// tls.client_cert, tls.client_key), so that statements move between the
// two unchanged.
const (
	optURL             = "url"
	optTopic           = "topic"
	optQoS             = "qos"
	optClientID        = "client.id"
	optUsername        = "username"
	optPassword        = "password"
	optCleanStart      = "clean_start"
	optSessionExpiry   = "session.expiry.interval"
	optInflight        = "inflight_messages"
	optMaxPacketSize   = "max_packet_size"
	optKeepAlive       = "keep.alive"
	optTLSCA           = connectors.OptTLSCA
	optTLSCert         = connectors.OptTLSClientCert
	optTLSKey          = connectors.OptTLSClientKey
	optTLSInsecureSkip = connectors.OptTLSInsecureSkipVerify
	optBatchSize       = "batch.size"
	optBatchLinger     = "batch.linger"
)

// Connector describes the MQTT source.
func Connector() connectors.Connector {
	return connectors.Connector{
		Name:     "mqtt",
		Doc:      "Messages of MQTT topics (MQTT 5), JSON or CSV in each message's payload; one split, the subscription.",
		Options:  sourceOptions(),
		Encodes:  []string{"JSON", "CSV"},
		Includes: []string{"topic"},
		NewSource: func(ctx context.Context, cfg connectors.SourceConfig) (connectors.Source, error) {
			return NewSource(ctx, cfg)
		},
	}
}

func sourceOptions() []connectors.Option {
	return []connectors.Option{
		{Key: optURL, Type: connectors.OptString, Required: true,
			Doc: "The broker, as tcp://host:port (also mqtt://), ssl://host:port (also mqtts://, tls://) for TLS, or ws://host:port/path and wss:// for MQTT over WebSocket. The port defaults to 1883, or 8883 with TLS."},
		{Key: optTopic, Type: connectors.OptString, Required: true,
			Doc: "The topic filter to subscribe to, with + (one level) and # (the rest) wildcards; several filters comma-separated."},
		{Key: optQoS, Type: connectors.OptEnum, Default: "1",
			Values: []string{"0", "1", "2", "at_most_once", "at_least_once", "exactly_once"},
			Doc:    "The subscription's quality of service: 0 (at_most_once), 1 (at_least_once) or 2 (exactly_once). The broker delivers each message at the lower of this and the QoS it was published with."},
		{Key: optClientID, Type: connectors.OptString,
			Doc: "The client identifier; by default sluice-<source>-<random>, new for each connection. Needed with clean_start = false, so that the broker finds the session again. A second view reading the source at the same time connects as <client.id>-2, a third as <client.id>-3, and so on."},
		{Key: optUsername, Type: connectors.OptString,
			Doc: "The user name sent to the broker."},
		{Key: optPassword, Type: connectors.OptString,
			Doc: "The password sent to the broker."},
		{Key: optCleanStart, Type: connectors.OptBool, Default: "true",
			Doc: "true starts a new session at each connection. false resumes the broker's session of client.id: messages that arrived while Sluice was away (within session.expiry.interval) and those not yet acknowledged are delivered on reconnection."},
		{Key: optSessionExpiry, Type: connectors.OptDuration, Default: "1h",
			Doc: "With clean_start = false: how long the broker keeps the session (the subscription and the QoS 1 and 2 messages for it) after Sluice disconnects. Ignored with clean_start = true."},
		{Key: optInflight, Type: connectors.OptInt, Default: "1024",
			Doc: "The most QoS 1 and 2 messages the broker may send before Sluice acknowledges them (MQTT 5's Receive Maximum), between 1 and 65535: the bound on what waits in memory for a slow view."},
		{Key: optMaxPacketSize, Type: connectors.OptInt,
			Doc: "The largest packet, in bytes, the broker may send; the broker discards bigger messages instead. No limit when not set."},
		{Key: optKeepAlive, Type: connectors.OptDuration, Default: "30s",
			Doc: "How often the connection is checked (whole seconds): a ping is sent when nothing has gone both ways for this long, and a broker that has not answered it by the next check is taken as gone."},
		{Key: optTLSCA, Type: connectors.OptString,
			Doc: "With ssl:// or wss://: a PEM file of the CA certificates that sign the broker's certificate; the system's CAs when not set."},
		{Key: optTLSCert, Type: connectors.OptString,
			Doc: "With ssl:// or wss://: a PEM file of the client's certificate, for brokers that authenticate clients by TLS; needs tls.client_key too."},
		{Key: optTLSKey, Type: connectors.OptString,
			Doc: "A PEM file of the client certificate's private key (not encrypted)."},
		{Key: optTLSInsecureSkip, Type: connectors.OptBool, Default: "false",
			Doc: "With ssl:// or wss://: accept any broker certificate without checking it. For tests only."},
		{Key: optBatchSize, Type: connectors.OptInt, Default: "1024",
			Doc: "The most messages in one batch."},
		{Key: optBatchLinger, Type: connectors.OptDuration, Default: "10ms",
			Doc: "How long a batch waits for more messages after its first; 0 takes only the messages already received."},
	}
}
