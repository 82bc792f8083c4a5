// Package postgres is the PostgreSQL sink: it writes a view's changes into a
// table of a PostgreSQL (or TimescaleDB) database, an epoch per transaction,
// with github.com/jackc/pgx/v5.
//
//	CREATE SINK totals_out FROM totals
//	WITH (connector = 'postgres', url = 'postgres://app@db:5432/shop',
//	      table = 'totals', type = 'upsert', primary_key = 'k',
//	      auto.create = 'true');
//
// # The table
//
// NewSink (at CREATE SINK, and again whenever the engine reopens the sink
// after a failure) connects and reads the table's columns from the catalog.
// Every column of the sink must exist by name (42703) with a type that can
// take its values: the same type or a lossless wider one, such as bigint for
// an integer column or text for varchar (42804). The table may have more
// columns, if they are nullable or have a default. An upsert sink needs a
// unique index or primary key on exactly primary_key (42P10), which ON
// CONFLICT uses. A missing table is refused (42P01) unless auto.create is
// set, in which case it is created with the sink's columns, typed as Sluice
// names them (format_type's names, arrays included) and, for an upsert
// sink, a primary key. Hypertables are ordinary tables to the sink: it uses
// only COPY, INSERT ... ON CONFLICT and DELETE.
//
// # Writing
//
// Values travel as PostgreSQL's text forms (types.AppendText), written
// straight from the Arrow arrays into one reused buffer: nothing is boxed
// per row, and the server's input functions parse them into the target
// column's type, so the widened types above and every Sluice type
// (intervals, arrays, jsonb, bytea) need no conversion code here. The
// session is set to TimeZone UTC, DateStyle ISO and IntervalStyle postgres
// so that those forms read back as written.
//
// The first Write of an epoch begins a transaction. An append-only sink
// sends its rows with COPY ... FROM STDIN, batch.rows rows per COPY. An
// upsert sink groups consecutive changes of one kind into a run and sends a
// run as one multi-row INSERT ... ON CONFLICT (key) DO UPDATE, or one
// DELETE ... WHERE (key) IN (...), with the values as text parameters, so
// changes apply in the order received. A run is sent early when it is full
// (batch.rows rows, within PostgreSQL's 65535 parameters) or when an insert
// repeats a key the run already inserts, which ON CONFLICT would refuse to
// update twice in one statement.
//
// # Commit and recovery
//
// Commit sends what is pending, then records the epoch in the progress table
// sluice_sink_progress (in the target's schema, created when missing) in the
// same transaction, and commits. The record is an INSERT ... ON CONFLICT DO
// UPDATE ... WHERE epoch < the new one: when it updates nothing, the epoch
// was committed before (a COMMIT whose acknowledgement was lost, an epoch
// delivered again after a restart), and the transaction is rolled back, so
// the epoch's rows are not applied twice. LastCommitted reads the record
// (connectors.EpochRecorder). An epoch with no rows opens no transaction and
// records nothing.
//
// Any error rolls the transaction back, so a failed epoch leaves nothing
// behind, and the sink then refuses further calls: the engine closes it,
// opens a new one and writes the whole epoch again. Epochs are the engine's
// wall-clock milliseconds, so a sink created again under the same name and
// table continues above its predecessor's record.
package postgres
