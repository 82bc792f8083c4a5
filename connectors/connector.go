package connectors

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sluicedb/sluice/types"
)

// Source is an external stream, as configured by one CREATE SOURCE.
type Source interface {
	// Splits lists the independently readable parts of the stream (Kafka
	// partitions, files, generator shards). Each split has its own
	// watermark.
	Splits(ctx context.Context) ([]Split, error)
	// Open starts reading split at pos; an empty pos means the start
	// position the source's options ask for.
	Open(ctx context.Context, split Split, pos Position) (Reader, error)
}

// Split is a part of a source, named uniquely within it.
type Split struct {
	ID string
}

// Position is an opaque, serialisable place in a split from which reading can
// resume: a file offset, a Kafka offset, a generator sequence number.
type Position string

// Reader reads one split.
type Reader interface {
	// Next blocks until at least one row, an error row, or the end is
	// available and returns it. A bounded split that is exhausted returns
	// (Batch{}, io.EOF). It returns ctx's error when ctx is cancelled.
	Next(ctx context.Context) (Batch, error)
	// Close releases the reader.
	Close() error
}

// BacklogReader is implemented by readers that know how much the outside
// system holds for their split beyond what they have read (a Kafka
// partition's high watermark less the next offset): SHOW SOURCES reports it
// as the source's backlog. ok is false while it is not known.
type BacklogReader interface {
	Reader
	Backlog() (records int64, ok bool)
}

// Batch is what a reader produced: rows in the source's schema, and the
// records that could not be decoded.
type Batch struct {
	// Record has the source's schema (types.Schema.Arrow()); it may be nil
	// when a batch carries only errors. The caller releases it.
	Record arrow.Record
	// Position is the place after the last record of the batch.
	Position Position
	// Errors are the records of the batch that were skipped.
	Errors []RecordError
	// Bytes is the number of input bytes the batch consumed.
	Bytes int64
	// Kinds, for a changelog source (change data capture), says what each
	// row of Record does to the table it feeds, keyed by the table's primary
	// key: RowInsert sets the row of its key (an insert or the new image of
	// an update), RowDelete removes the row of its key (the other columns
	// may be NULL). nil means every row is an insert, as for an append-only
	// source.
	Kinds []RowKind
}

// CheckpointedReader is implemented by readers of systems that keep a message
// until told to let it go (RabbitMQ's manual acks, MQTT's QoS 1 and 2).
// Acknowledge is called with a position the reader returned, once a
// checkpoint holding everything up to it is durable: the reader may then
// acknowledge every message up to pos. A crash before that leaves the
// messages with the system, which delivers them again to the restarted
// reader, while the restored state has not seen them: nothing is lost and,
// but for messages acknowledged in the instant before a crash, nothing is
// counted twice. Acknowledge may be called while Next runs, and with a
// position from before the reader was reopened, which it must ignore.
type CheckpointedReader interface {
	Reader
	Acknowledge(ctx context.Context, pos Position) error
}

// ColumnSkipper is implemented by readers that can leave out columns no
// view reads: after SkipColumns, and before the first Next, the columns
// marked in unread may come as NULLs, which saves building them. A reader
// may ignore it for some or all of them.
type ColumnSkipper interface {
	Reader
	SkipColumns(unread []bool)
}

// ChangelogSource is implemented by sources that feed a table with a
// primary key (CREATE TABLE ... WITH (connector = ...)) rather than a
// stream: their batches may carry Kinds. The engine applies each batch to
// the table and stores the batch's Position with the table's rows, in the
// same durable write, so a restart resumes after the last change applied.
// Acknowledge is called with a position once everything up to it is
// durable, for systems that keep data until told (a replication slot's
// confirmed LSN).
type ChangelogSource interface {
	Source
	Acknowledge(ctx context.Context, split Split, pos Position) error
}

// RecordError describes one input record that was skipped.
type RecordError struct {
	// Where locates the record: "line 17", "partition 2 offset 1234".
	Where string
	// Err says why it was skipped.
	Err error
	// Raw is the record as received (possibly truncated), for dead letters.
	Raw []byte
}

// SourceConfig is a CREATE SOURCE statement's connector-facing part.
type SourceConfig struct {
	// Name is the source's name in the catalog.
	Name string
	// Schema is the declared columns, in order.
	Schema types.Schema
	// Options are the WITH options, already validated against the
	// connector's declared Options and defaulted.
	Options Options
	// Format is FORMAT ... ENCODE ... (...); zero for connectors that produce
	// typed rows themselves (datagen, nexmark).
	Format Format
	// Alloc allocates Arrow memory.
	Alloc memory.Allocator
	// Checkpoints is set when the engine takes checkpoints: a reader that
	// is a CheckpointedReader is then told by Acknowledge what it may let go
	// of; without checkpoints nothing would ever tell it, so it lets go of a
	// batch once the engine has taken it.
	Checkpoints bool
	// RequestCheckpoint, with checkpoints, asks for one soon rather than at
	// the next interval: a source whose client waits for its rows to be
	// durable (HTTP ingest) calls it. nil without checkpoints.
	RequestCheckpoint func()
	// Recovering is set when the source is created again at start-up from
	// the stored catalog: NewSource must then not fail because the outside
	// system is unreachable (readers retry), only for a bad configuration.
	Recovering bool
	// Includes are the INCLUDE clauses (INCLUDE key | partition | offset |
	// timestamp | topic [AS name]), in the order written, each one the
	// connector lists in Connector.Includes. The engine appends one column
	// per include to the declared columns, so Schema ends with them in this
	// order, typed key BYTEA, partition INTEGER, offset BIGINT, timestamp
	// TIMESTAMPTZ, topic TEXT and named by AS or else _rw_<connector>_<what>
	// as RisingWave names them. The connector fills these columns from each
	// record's metadata; its decoder fills only the columns before them.
	Includes []Include
}

// Include is one INCLUDE clause of CREATE SOURCE: a piece of each record's
// metadata exposed as a column.
type Include struct {
	// What is the metadata, lower case: "key", "partition", "offset",
	// "timestamp" or "topic".
	What string
	// Column is the name of the column that holds it: one of the trailing
	// columns of SourceConfig.Schema.
	Column string
}

// Format is the FORMAT and ENCODE clause.
type Format struct {
	Format  string            // "PLAIN" (upper case)
	Encode  string            // "JSON", "CSV" (upper case)
	Options map[string]string // ENCODE CSV (header = 'true', delimiter = ',')
}

// Connector describes one kind of source, sink, or both.
type Connector struct {
	// Name is the value of the `connector` option.
	Name string
	// Doc is one line for the README and DESCRIBE.
	Doc string
	// Options are every option the connector accepts besides `connector`.
	// A key may end in ".*" to accept a family (fields.*.kind).
	Options []Option
	// Encodes lists the ENCODE values the source accepts; nil means the
	// source takes no FORMAT clause.
	Encodes []string
	// Includes lists the record metadata the source can expose with
	// INCLUDE (see SourceConfig.Includes); nil means none.
	Includes []string
	// NewSource builds a source from a validated configuration; it may check
	// the outside world (a file that does not exist is an error here).
	// It is nil for a connector that is only a sink.
	NewSource func(ctx context.Context, cfg SourceConfig) (Source, error)
	// Sink is the connector's sink side; nil for a source-only connector.
	Sink *SinkSpec
}

// SinkSpec describes a connector's sink side. Its options are declared apart
// from the source's, since writing takes other settings than reading.
type SinkSpec struct {
	Doc string
	// Options are every option CREATE SINK accepts besides `connector`,
	// `type` and `primary_key`, which every sink takes.
	Options []Option
	// Encodes lists the ENCODE values accepted; nil means no FORMAT clause.
	Encodes []string
	// Types lists the sink types supported: "append-only", "upsert".
	Types []string
	// Guarantee is the delivery guarantee, for the README and SHOW SINKS:
	// "at-least-once", "idempotent" or "exactly-once".
	Guarantee string
	// NewSink builds a sink from a validated configuration; it may check the
	// outside world (an unreachable broker may be an error here, or be
	// retried by the sink).
	NewSink func(ctx context.Context, cfg SinkConfig) (Sink, error)
}

// SinkOptions returns the connector as seen by CREATE SINK: its sink options
// take the place of its source options, so that Validate and
// OptionsMarkdown serve both sides.
func (c Connector) SinkOptions() Connector {
	if c.Sink == nil {
		return Connector{Name: c.Name}
	}
	return Connector{Name: c.Name, Doc: c.Sink.Doc, Options: c.Sink.Options, Encodes: c.Sink.Encodes}
}

// Sink writes a view's changes to the outside world, an epoch at a time.
// Write is called with the changes of an epoch, possibly several times;
// Commit marks the end of the epoch and returns once everything written is
// delivered (acknowledged by the broker, committed by the database). A
// change only counts as sunk once Commit has returned. Calls come from one
// goroutine.
type Sink interface {
	Write(ctx context.Context, b SinkBatch) error
	Commit(ctx context.Context, epoch uint64) error
	Close() error
}

// EpochRecorder is implemented by sinks that record, atomically with an
// epoch's rows, the epoch they committed (a progress row written in the same
// database transaction, an epoch header inside a Kafka transaction, an epoch
// in a published file's name). After a restart the engine delivers again the
// epochs its checkpoint holds as undelivered; with this interface it skips
// those the outside system already has, so every epoch takes effect once.
// Commit of an epoch at or below LastCommitted must change nothing.
type EpochRecorder interface {
	// LastCommitted returns the highest epoch whose Commit took effect, or 0
	// when none has.
	LastCommitted(ctx context.Context) (uint64, error)
}

// StableEpochs is implemented by sinks whose outside system can recognise
// an epoch written twice by its number (an idempotency key per request
// built from the epoch). The engine then delivers an epoch only once a
// checkpoint holds it, as for an EpochRecorder, so that an epoch delivered
// again after a crash has the same number and the same rows in the same
// batches, and the outside system can drop the copy.
type StableEpochs interface {
	StableEpochs()
}

// RowKind is what a row of a SinkBatch does.
type RowKind uint8

const (
	// RowInsert adds the row (for an upsert sink: sets the row of its key).
	RowInsert RowKind = iota
	// RowDelete removes the row (for an upsert sink: deletes its key; a
	// Kafka sink writes a tombstone).
	RowDelete
)

// KindsOf turns a decoder's deletes (format.FinishChanges) into a batch's
// Kinds; nil stays nil (every row an insert).
func KindsOf(deletes []bool) []RowKind {
	if deletes == nil {
		return nil
	}
	kinds := make([]RowKind, len(deletes))
	for i, d := range deletes {
		if d {
			kinds[i] = RowDelete
		}
	}
	return kinds
}

// SinkBatch is a batch of changes in the sink's schema.
type SinkBatch struct {
	// Record holds the rows; the sink must not keep it after Write returns
	// unless it retains it.
	Record arrow.Record
	// Kinds has one entry per row; nil means every row is an insert.
	Kinds []RowKind
}

// SinkConfig is a CREATE SINK statement's connector-facing part.
type SinkConfig struct {
	Name   string
	Schema types.Schema
	// Type is "append-only" or "upsert".
	Type string
	// PrimaryKey lists the key columns of an upsert sink (positions in
	// Schema), from the primary_key option.
	PrimaryKey []int
	Options    Options
	Format     Format
	Alloc      memory.Allocator
}

// Option declares one connector option.
type Option struct {
	Key      string
	Type     OptionType
	Default  string // empty: no default
	Required bool
	Doc      string
	// Values are the accepted values of an OptEnum option, compared
	// case-insensitively; nil falls back to the list after "one of" in Doc.
	Values []string
}

// OptionType is the type of an option's value, used for validation.
type OptionType string

const (
	OptString   OptionType = "string"
	OptInt      OptionType = "integer"
	OptFloat    OptionType = "number"
	OptBool     OptionType = "boolean"
	OptDuration OptionType = "duration" // '5s', '100ms', or an integer of milliseconds
	OptEnum     OptionType = "enum"     // one of the values in Doc's "one of"
)

// Options are validated option values by key.
type Options map[string]string
