// Package postgrescdc is the postgres-cdc connector: it keeps a Sluice table
// in step with a PostgreSQL table through logical replication, with the
// pgoutput plugin, github.com/jackc/pglogrepl and pgx, and RisingWave's
// option names.
//
//	CREATE TABLE orders (id INT PRIMARY KEY, customer TEXT, amount DOUBLE PRECISION)
//	WITH (connector = 'postgres-cdc', hostname = '127.0.0.1', port = '5432',
//	      username = 'postgres', password = '', database.name = 'shop',
//	      schema.name = 'public', table.name = 'orders');
//
// The Source is a connectors.ChangelogSource with one split, named after the
// upstream table. Its batches carry Kinds: RowInsert sets the row of its
// primary key (an insert, or the new image of an update), RowDelete removes
// it (only the key columns need be set; with REPLICA IDENTITY FULL the whole
// old row is). An update that changes the primary key
// is a RowDelete of the old key followed by a RowInsert.
//
// # Upstream requirements
//
// The server needs wal_level = logical, the user the REPLICATION attribute.
// The table needs a primary key, all of whose columns are columns of the
// Sluice table (which should declare the same primary key), and replica
// identity DEFAULT or FULL, so that deletes and key changes send the key.
// Every Sluice column must exist upstream, matched by name, with a type
// whose text form it reads: the same type, a lossless widening (integer to
// a wider integer, NUMERIC or DOUBLE PRECISION), or any type into TEXT or
// VARCHAR. NewSource checks all this at CREATE TABLE and returns coded
// errors (42P01 no table, 42703 a missing column, 42804 or 0A000 a type,
// 55000 no key or wal_level); with SourceConfig.Recovering it checks only
// the options, so a server that is down does not stop Sluice from starting.
// NewSource and Open create the publication (FOR TABLE, publishing inserts,
// updates and deletes, not truncates) when it is missing and
// publication.create.enable allows; the slot is created by Open.
//
// Values travel as PostgreSQL's text output (the session is set to UTC, ISO
// dates, postgres intervals, hex bytea) and are parsed with types.ParseText,
// so every Sluice type reads exactly what PostgreSQL prints.
//
// # Snapshot, then stream, without gap or overlap
//
// The first Open (empty position) with snapshot = true drops any slot of
// the configured name (a new table has nothing durable that an old slot
// could serve) and creates it with CREATE_REPLICATION_SLOT ... LOGICAL
// pgoutput EXPORT_SNAPSHOT on a replication connection. A second, normal
// connection imports the exported snapshot (SET TRANSACTION SNAPSHOT in a
// REPEATABLE READ READ ONLY transaction): it sees exactly the transactions
// that committed before the slot's consistent point, and the slot decodes
// exactly those that commit after it. The table is read in pages of 1024
// rows in primary key order, each page a batch of inserts whose position is
//
//	snapshot:<consistent point>:<the page's last key, a JSON array of text>
//
// The last page's position is lsn:<consistent point>; the reader then
// starts replication there (START_REPLICATION ... proto_version '1',
// publication_names). Each batch of the stream holds whole transactions
// (about 1024 changes, more when one transaction is larger: a batch never
// ends inside a transaction), and its position is lsn:<end LSN of the last
// transaction's commit>. Reopened at that position, the server sends only
// the transactions that commit after it: none is skipped or repeated.
//
// A keepalive received between transactions means every transaction that
// committed before its WAL end has been sent; the position moves there,
// and Next may return a batch without rows, so that a table idle in a busy
// database does not hold the server's WAL back.
//
// With snapshot = false the first Open creates the slot if it is missing,
// without a snapshot, and its first batch, without rows, carries the
// slot's confirmed position; the table gets only the changes from there.
//
// # Restarts
//
// The engine reopens the split at the last position it stored. At a stream
// position the reader restarts replication there. A position the slot no
// longer covers (the slot was dropped, or confirmed past it) is an error,
// not a silent gap.
//
// At a snapshot position the exported snapshot is gone with the connection
// that held it. The reader does not start over: it reads the rows after the
// stored key in a REPEATABLE READ snapshot taken now, then streams from the
// slot's consistent point, which the slot has kept since nothing past it
// was acknowledged. That converges to the upstream table: rows up to the
// key are the consistent snapshot plus every change after it; rows after
// the key are newer than the consistent point, and replaying the changes
// made between the two snapshots over them ends at the same state, because
// each change carries the whole row (or a delete of its key) and applies by
// key, so the last change to a key decides it. Rows deleted upstream while
// Sluice was down are removed by their delete in the stream, whichever side
// of the key they are on. The cost is transient: until the stream has
// caught up with the second snapshot, rows after the key may show values
// newer than the rest of the table. Starting the snapshot over instead
// would need a fresh slot and would leave behind rows applied from the
// first attempt and deleted since, which nothing would remove.
//
// # Acknowledgement
//
// Acknowledge records the highest acknowledged LSN; only that LSN is ever
// reported to PostgreSQL (as written, flushed and applied in the standby
// status update), so the slot's confirmed_flush_lsn never passes what the
// engine has stored, and the server keeps every change Sluice may still
// need. A snapshot position acknowledges nothing. The replication
// connection belongs to one goroutine, which reads it ahead of Next,
// answers keepalives, and reports acknowledgements as they come
// (Acknowledge wakes it) and at least every ten seconds, so that a reader
// whose engine is busy is not timed out by wal_sender_timeout.
//
// # Schema changes, TOAST, TRUNCATE, bad values
//
// pgoutput sends a Relation message before the first change to the table
// in each session and again after ALTER TABLE. An upstream column the Sluice
// table does not have is ignored; a Sluice column dropped upstream reads
// NULL from then on; a primary key column dropped upstream makes its
// changes unusable, and each is skipped. Each of these is reported once,
// as a RecordError whose Where is "relation <table>", never as a failure.
//
// PostgreSQL does not send a large (TOASTed) value that an update left
// unchanged. With REPLICA IDENTITY FULL it is taken from the old row;
// otherwise the reader reads the row's current value by key on a side
// connection. That value is at least as new as the change, and any later
// change to it is sent in full, so the table converges; it may show a
// newer value of that column early.
//
// TRUNCATE is not published by the publication the connector creates; if
// a publication publishes it, it is reported as a RecordError and not
// applied, since the table is fed key by key. A value that does not parse
// into its column's type skips its change (or snapshot row) with a
// RecordError.
package postgrescdc
