// Package kafka is the Kafka connector: a source that reads a topic's
// partitions and a sink that writes a view's changes to a topic, both with
// github.com/IBM/sarama and RisingWave's option names.
//
//	CREATE SOURCE bids (auction BIGINT, price BIGINT, date_time TIMESTAMP)
//	INCLUDE partition INCLUDE offset AS off
//	WITH (connector = 'kafka', topic = 'bids',
//	      properties.bootstrap.server = '127.0.0.1:9092',
//	      scan.startup.mode = 'earliest', dead_letter.topic = 'bids_bad')
//	FORMAT PLAIN ENCODE JSON;
//
//	CREATE SINK stats_out FROM stats
//	WITH (connector = 'kafka', topic = 'stats',
//	      properties.bootstrap.server = '127.0.0.1:9092',
//	      type = 'upsert', primary_key = 'window_start,auction')
//	FORMAT PLAIN ENCODE JSON;
//
// # Source: splits, positions, failures
//
// Each partition is a split whose ID is the partition number. Splits lists
// the partitions there are now; the Source's DiscoveryInterval (the
// partition.discovery.interval option) tells the runtime how often to call
// it again, so that partitions added to the topic are read too, from their
// start. Splits uses a short-lived client of its own, and each reader has
// its own client and one sarama PartitionConsumer, so the Source holds no
// connection and a failed reader is replaced whole. A reader's Close
// returns at once; its connections close in the background once the
// broker's pending long poll (up to 500 ms) ends.
//
// A split's position is the offset of the next message to read. Offsets are
// Sluice's own: a reader opened at a position starts exactly there, so a
// reader replaced after a failure neither skips nor repeats a message. When
// there is no position the reader starts where scan.startup.mode says, and
// its first Next returns at once an empty batch carrying that offset: a
// reader that fails before any message arrives is then reopened at that
// offset, not at a later "latest". A position older than the partition's
// oldest message (retention deleted what was not read yet) resumes at the
// oldest, reporting the lost range as one bad record; a position past the
// end (the topic was recreated) is an error.
//
// Next waits for one message and then takes every message already fetched,
// up to batch.size, without waiting for more. When the consumer reports an
// error (a broker that went away, a partition that moved and cannot be
// found) Next returns it, after returning the messages taken before it;
// the runtime then closes the reader and opens a new one at the last
// position, with backoff, until the cluster answers again. Transactional
// messages are read committed.
//
// With group.id set, the offset after each batch is committed to that
// consumer group (every second, and on Close), so that consumer lag shows
// in Kafka's tools; the group is never read back and joining is not needed,
// and a group that cannot be written does not stop the reader. Several
// readers of one partition (two views over one source) commit to the same
// group in turn.
//
// # Records and bad records
//
// Each message's value is one record of FORMAT PLAIN ENCODE JSON or CSV,
// decoded by package format straight into Arrow builders; messages with an
// empty value (tombstones) are skipped. A value that does not decode is a
// RecordError located as "partition P offset O" whose Raw is the value's
// first KiB, and reading goes on. With dead_letter.topic, such messages are
// also copied there whole (key, value, headers, timestamp) with headers
// sluice.source, sluice.topic, sluice.partition, sluice.offset and
// sluice.error; the batch is returned only once the copies are
// acknowledged, so a dead letter may be written twice but never lost.
//
// INCLUDE key | partition | offset | timestamp | topic [AS name] columns
// (SourceConfig.Includes) trail the declared columns: key BYTEA (or TEXT,
// when keys are UTF-8; NULL for a message without a key), partition INTEGER,
// offset BIGINT, timestamp TIMESTAMPTZ (the message's timestamp; NULL when
// it has none), topic TEXT. The decoder fills the declared columns; the
// reader appends the metadata of each message that decoded.
//
// # Sink
//
// One message per row, its value the row as a JSON object or a CSV line
// (package format's Encoder documents the value forms: timestamps as
// "2026-01-02 03:04:05.123456", as RisingWave writes them). With
// primary_key the message key is those columns encoded the same way ({"id":1}
// or 1), so a key's messages go to one partition; an append-only sink
// without a primary key writes no key. An upsert sink writes a deleted row
// as a tombstone: the key with a null value, which compaction understands.
// Every message is acknowledged by all in-sync replicas before its Commit
// returns.
//
// sink.delivery.guarantee = 'exactly-once' (the default) writes each epoch
// in one Kafka transaction of the transactional id
// properties.transactional.id (sluice-sink-<sink name> by default, so it is
// the same after a restart). Write only encodes; Commit(epoch) begins the
// transaction, produces the epoch's messages, each with the headers
// sluice-epoch (the epoch in decimal ASCII) and sluice-transactional-id,
// waits for their acknowledgements and commits. An epoch without rows
// writes nothing. Creating the sink's producer fences any earlier producer
// of the id and aborts the transaction it left open, so a Sluice that died
// mid-epoch leaves nothing a read_committed consumer sees. LastCommitted
// (connectors.EpochRecorder) reads each partition's committed tail, from
// the last stable offset backwards in widening windows, skipping aborted
// transactions and other writers' messages, and returns the highest
// sluice-epoch of the sink's own messages: transactions are atomic and
// epochs commit in order, so that epoch and all before it took effect.
// Commit of an epoch at or below it writes nothing (the sink asks on its
// first Commit if the engine did not), so a redelivered epoch is not
// repeated. A failed epoch is aborted; a fenced producer, or a commit whose
// outcome is unknown, leaves the sink refusing further epochs until it is
// reopened. Readers must use isolation.level = read_committed (librdkafka's
// default, not the Java client's) to see each change once.
//
// sink.delivery.guarantee = 'at-least-once' writes without transactions:
// Write produces asynchronously and Commit waits for the acknowledgements,
// returning the first delivery error; a failed epoch written again may
// repeat messages.
//
// # Security
//
// properties.security.protocol selects TLS (SSL), SASL (SASL_PLAINTEXT) or
// both (SASL_SSL). TLS takes a CA file, and a client certificate and key for
// brokers that authenticate clients; SASL takes PLAIN, SCRAM-SHA-256 or
// SCRAM-SHA-512 with a user name and password. These are RisingWave's (and
// librdkafka's) names; options for another protocol than the chosen one are
// refused rather than ignored. Kerberos (GSSAPI) and OAUTHBEARER are not
// supported.
//
// StartBroker, in playground.go, starts franz-go's in-process fake cluster
// (kfake) for `sluice playground`; the connector does not use it.
package kafka
