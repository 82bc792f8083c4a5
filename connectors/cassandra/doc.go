// Package cassandra is the Cassandra sink: it writes a view's changes into a
// Cassandra (or ScyllaDB) table by primary key, with
// github.com/apache/cassandra-gocql-driver/v2 over native protocol v4.
//
//	CREATE SINK totals_out FROM totals
//	WITH (connector = 'cassandra', type = 'upsert', primary_key = 'k',
//	      cassandra.url = 'cass1:9042,cass2:9042', cassandra.keyspace = 'shop',
//	      cassandra.table = 'totals', cassandra.datacenter = 'dc1');
//
// # The table
//
// NewSink (at CREATE SINK, and whenever the engine reopens the sink after a
// failure) connects and reads the table's columns from
// system_schema.columns. The keyspace must exist (3F000) and the table too
// (42P01; the hint proposes a CREATE TABLE). Every column of the sink must
// exist by name (42703) with a CQL type that takes its values: the one
// Sluice's type maps to or a wider one (42804):
//
//	boolean    boolean            smallint  smallint, int, bigint, varint
//	integer    int, bigint, varint bigint   bigint, varint
//	real       float, double      double    double
//	numeric    decimal, double    text, varchar, jsonb  text (varchar)
//	bytea      blob               date      date, timestamp
//	time       time               timestamp, timestamptz  timestamp
//	interval   duration           T[]       list<T's type> (frozen or not)
//
// Cassandra's timestamp holds milliseconds: the microseconds of a Sluice
// timestamp are dropped. A numeric goes as the shortest decimal that reads
// back as its float64; NaN and infinities do not fit a decimal. An interval
// whose months, days and microseconds differ in sign does not fit a
// duration, nor does an array with a NULL element or of more than one
// dimension fit a list: such values fail the epoch with a clear error
// (42804), as a NULL in a key column does (23502).
//
// The table's primary key must be among the sink's columns (42P10), since
// every write names a whole row; an upsert sink's primary_key must be
// exactly the table's primary key (42P10), by which it deletes. The table
// may have more columns: the sink leaves them alone.
//
// # Writing
//
// Write only retains the epoch's batches; Commit encodes them straight from
// the Arrow arrays into one buffer (no per-value boxing: each value is a
// span of the buffer, handed to the driver behind a pointer that
// implements gocql.Marshaler) and groups the changes by partition key, the
// table's first primary key columns as system_schema says. A new row or an
// update is an INSERT, which Cassandra applies as an upsert; a deletion is
// a DELETE by the whole primary key; both are prepared statements (the
// driver prepares them once per session). Each partition's changes go in
// order as UNLOGGED batches of up to cassandra.max_batch_rows statements,
// one partition per batch (a lone change as a plain statement), eight
// partitions in flight at once. Statements of one batch share a write
// timestamp, so a batch is cut before a second change of the same row,
// which would otherwise not win. Writes use LOCAL_QUORUM and client
// timestamps, and go token-aware to a replica, in cassandra.datacenter when
// it is set.
//
// A request that times out, finds too few replicas alive, meets an
// overloaded or bootstrapping node or loses its connection is retried with
// exponential backoff (0.1s doubling to 2s, six attempts in all) within
// Commit; after that Commit fails, the engine closes the sink, opens a new
// one and writes the whole epoch again. Other errors fail at once.
//
// # Guarantee and the progress table
//
// Cassandra has no transaction across partitions, so an epoch is not
// applied atomically: a reader may see part of it, and a failed Commit may
// leave part of it written. What makes the sink safe is that every write is
// idempotent: it sets a row, or deletes one, by its whole primary key, so
// writing an epoch again converges to the same table, whichever part of it
// was applied before. That holds for append-only sinks too, which write by
// the table's key like upserts (rows with equal keys overwrite each other,
// whether written once or twice). The guarantee is "idempotent": every
// change is applied at least once, and applying it again changes nothing.
//
// After an epoch's batches succeed, Commit records the epoch in the
// progress table sluice_sink_progress of the keyspace (created if missing),
// and LastCommitted reads it back (connectors.EpochRecorder), so that after
// a restart the engine does not write again epochs the table already has,
// and a Commit of an epoch at or below the recorded one writes nothing.
// The record is a separate write, not atomic with the epoch's rows: a crash
// between the two makes the engine write that epoch again (harmless, as
// above), and the record never claims an epoch whose writes did not all
// succeed. It does not make epochs atomic or exactly-once, and it is not a
// fence: two Sluice instances running the same sink would both write.
// Epochs are the engine's wall-clock milliseconds, so a sink created again
// under the same name and table continues above its predecessor's record.
package cassandra
