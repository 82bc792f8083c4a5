// Package mqtt is the MQTT source: messages of the topics matching one or
// more topic filters, read with MQTT 5 (github.com/eclipse/paho.golang) and
// decoded as FORMAT PLAIN ENCODE JSON or CSV, one record per message.
//
//	CREATE SOURCE readings (device TEXT, temp DOUBLE PRECISION, ts TIMESTAMP,
//	  WATERMARK FOR ts AS ts - INTERVAL '5' SECOND)
//	INCLUDE topic AS topic
//	WITH (connector = 'mqtt', url = 'tcp://127.0.0.1:1883',
//	      topic = 'plant/+/temperature', qos = '1')
//	FORMAT PLAIN ENCODE JSON;
//
// # One split, no position
//
// The subscription is the one split. MQTT cannot replay: a broker sends a
// subscriber the messages published after it subscribed (and the retained
// message of each matching topic), so every Position is empty and a reader
// opened again starts with what the broker sends from then on. Messages
// published while no reader is subscribed are lost, unless clean_start is
// false: then the broker keeps the session of client.id for
// session.expiry.interval and delivers, on reconnection, the QoS 1 and 2
// messages that arrived meanwhile and those sent but not acknowledged.
//
// # Acknowledgements and flow control
//
// Acknowledgements are manual: a QoS 1 or 2 message is acknowledged when
// Next is called again after returning it, that is once the runtime has
// taken the batch that holds it. (With checkpoints, the acknowledgement
// moves to when a checkpoint covering the batch is stored; reader.ack marks
// the place.) The CONNECT packet's Receive Maximum (inflight_messages)
// bounds what the broker sends unacknowledged, so the reader's buffer,
// sized to it plus a batch, cannot overflow at QoS 1 and 2: a slow view
// makes the broker hold messages back, and nothing is dropped by Sluice.
// The broker's own limits then apply (Mosquitto's max_queued_messages,
// 1000 per client by default, beyond which it drops). At QoS 0 there is no
// such bound; a full buffer stops the client reading its connection.
//
// Next waits for a message, then gathers what arrives within batch.linger,
// up to batch.size messages or until inflight_messages are waiting for
// their acknowledgement, into one Arrow batch.
//
// # Failures
//
// A payload that does not decode is a RecordError located as "topic T",
// and reading goes on; an empty payload (clearing a retained message) is no
// record. When the connection drops, Next returns the messages received
// before, then an error naming the reason (the broker's DISCONNECT reason
// code, such as "session taken over", or the network error); the runtime
// shows it in SHOW SOURCES as retrying and opens a new reader with backoff.
// Autopaho's own reconnection is turned off so that an outage is visible
// there. With clean_start = false, messages of the returned batch that were
// not acknowledged are delivered again: delivery is at least once across a
// reconnection, and at most once with clean_start = true.
//
// INCLUDE topic [AS name] adds each message's topic as a TEXT column.
//
// Each view over the source has its own reader and subscription, and gets
// every message. With a fixed client.id, the first reader connects as
// client.id, the next ones at the same time as client.id-2, client.id-3,
// since a broker drops the older of two connections with one identifier.
package mqtt
